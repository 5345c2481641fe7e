//! Seeding the directory on start-up from the licence types embedded in the binary (built from
//! `schemas/licence-types/*.json`), or from `ELICENCE_SEED_DIR` when set. Idempotent: a type
//! already present (by code) is left exactly as it is.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use crate::crypto::digest::digest_value;
use crate::domain::licence_type::{NewLicenceType, NewLicenceTypeRequest, TypeStatus};
use crate::storage::{Store, StoreError};

/// The seed files compiled in by `build.rs`: `(file name, contents)`, sorted by name.
pub const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/seed_types.rs"));

/// What seeding did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub added: usize,
    pub present: usize,
}

/// Seeds from `dir` when given, else from the embedded files.
pub async fn seed(store: &dyn Store, dir: Option<&Path>) -> anyhow::Result<SeedReport> {
    match dir {
        Some(dir) => seed_directory(store, dir).await,
        None => {
            let files = EMBEDDED
                .iter()
                .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()));
            seed_files(store, files).await
        }
    }
}

/// Loads every seed file in `dir` (sorted by name) and adds the types not yet present.
/// A directory that cannot be read, or an invalid seed file, is an error naming it.
pub async fn seed_directory(store: &dyn Store, dir: &Path) -> anyhow::Result<SeedReport> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("seed directory {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes =
            std::fs::read(&path).with_context(|| format!("seed file {}", path.display()))?;
        files.push((path.display().to_string(), bytes));
    }
    seed_files(store, files).await
}

async fn seed_files(
    store: &dyn Store,
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    for (name, bytes) in files {
        let (new, status) = read_seed(&bytes).with_context(|| format!("seed file {name}"))?;
        if store.licence_type(&new.code).await?.is_some() {
            report.present += 1;
            continue;
        }
        let digest = digest_value(new.schema.document());
        match store
            .insert_licence_type(&new, status, &digest, Utc::now())
            .await
        {
            Ok(()) => report.added += 1,
            // Another instance seeded it at the same moment.
            Err(StoreError::Conflict(_)) => report.present += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

fn read_seed(bytes: &[u8]) -> anyhow::Result<(NewLicenceType, TypeStatus)> {
    let value = crate::crypto::strict_json::parse(bytes, 1024 * 1024)?;
    let request: NewLicenceTypeRequest = serde_json::from_value(value)?;
    let status = match request.status.as_deref() {
        None => TypeStatus::Published,
        Some(s) => TypeStatus::parse(s).with_context(|| format!("unknown status {s:?}"))?,
    };
    let new = NewLicenceType::try_from(request)?;
    Ok((new, status))
}

#[cfg(test)]
mod tests {
    use super::EMBEDDED;

    /// Every file under `schemas/licence-types` is compiled in, byte for byte.
    #[test]
    fn the_embedded_seed_is_the_schema_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/licence-types");
        let mut on_disk: Vec<_> = std::fs::read_dir(dir)
            .expect("schemas/licence-types")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        on_disk.sort();
        assert_eq!(on_disk.len(), EMBEDDED.len());
        for (path, (name, text)) in on_disk.iter().zip(EMBEDDED) {
            assert_eq!(path.file_name().unwrap().to_string_lossy(), *name);
            assert_eq!(std::fs::read_to_string(path).unwrap(), *text);
        }
    }
}
