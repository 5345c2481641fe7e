//! Seeding the directory from `schemas/licence-types/*.json` on start-up. Idempotent: a type
//! already present (by code) is left exactly as it is.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use crate::crypto::digest::digest_value;
use crate::domain::licence_type::{NewLicenceType, NewLicenceTypeRequest, TypeStatus};
use crate::storage::{Store, StoreError};

/// What seeding did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub added: usize,
    pub present: usize,
}

/// Loads every seed file in `dir` (sorted by name) and adds the types not yet present.
/// A missing directory seeds nothing; an invalid seed file is an error naming the file.
pub async fn seed_directory(store: &dyn Store, dir: &Path) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    if !dir.is_dir() {
        tracing::warn!(dir = %dir.display(), "seed directory not found; directory not seeded");
        return Ok(report);
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for path in files {
        let (new, status) =
            read_seed(&path).with_context(|| format!("seed file {}", path.display()))?;
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

fn read_seed(path: &Path) -> anyhow::Result<(NewLicenceType, TypeStatus)> {
    let bytes = std::fs::read(path)?;
    let value = crate::crypto::strict_json::parse(&bytes, 1024 * 1024)?;
    let request: NewLicenceTypeRequest = serde_json::from_value(value)?;
    let status = match request.status.as_deref() {
        None => TypeStatus::Published,
        Some(s) => TypeStatus::parse(s).with_context(|| format!("unknown status {s:?}"))?,
    };
    let new = NewLicenceType::try_from(request)?;
    Ok((new, status))
}
