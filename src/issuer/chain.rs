//! The issuer's view of its chain head, kept in a small JSON file between runs so that the next
//! envelope can be built offline. Written to a temporary file, synced, then renamed over the old
//! one: a crash leaves the old state or the new, never half of one.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::digest::digest_value;
use crate::crypto::strict_json;
use crate::domain::status_list::{StatusPurpose, StatusSlot};

/// Largest state file read; a real one is a few hundred bytes.
const MAX_STATE_BYTES: usize = 64 * 1024;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("state file {path} is not a chain state: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// The head of one issuer's chain at one registry, as this client last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainState {
    /// The registry's base URL.
    pub registry: String,
    /// The issuer's DID.
    #[serde(rename = "issuer")]
    pub issuer_did: String,
    /// Sequence of the last accepted envelope; 0 before the first.
    pub sequence: u64,
    /// Digest of the last accepted envelope (`uEi…`); `None` before the first.
    pub digest: Option<String>,
    /// The next free status list position per purpose (absent in files from before status
    /// lists: nothing taken yet).
    #[serde(default, rename = "nextStatusIndex")]
    pub status: StatusCounters,
}

/// The next free position in the issuer's status lists, per purpose, counted across its lists
/// (list `p / 131072`, index `p % 131072`): handed out once and never again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCounters {
    #[serde(default)]
    pub revocation: u64,
    #[serde(default)]
    pub suspension: u64,
}

impl ChainState {
    /// The state of an issuer that has submitted nothing yet.
    pub fn new(registry: impl Into<String>, issuer_did: impl Into<String>) -> Self {
        ChainState {
            registry: registry.into(),
            issuer_did: issuer_did.into(),
            sequence: 0,
            digest: None,
            status: StatusCounters::default(),
        }
    }

    /// Whether the chain head is unknown: a state file made by `issuer sign` before
    /// anything was submitted with it (the head is then fetched from the registry).
    pub fn head_unknown(&self) -> bool {
        self.sequence == 0 && self.digest.is_none()
    }

    /// Takes the next free slot of each purpose (revocation, suspension), or `None` when the
    /// issuer's lists are full.
    pub fn take_status_slots(&mut self) -> Option<Vec<StatusSlot>> {
        let revocation = StatusSlot::at(StatusPurpose::Revocation, self.status.revocation)?;
        let suspension = StatusSlot::at(StatusPurpose::Suspension, self.status.suspension)?;
        self.status.revocation += 1;
        self.status.suspension += 1;
        Some(vec![revocation, suspension])
    }

    /// The sequence and `previous` digest of the next envelope.
    pub fn next(&self) -> (u64, Option<String>) {
        (self.sequence + 1, self.digest.clone())
    }

    /// Moves the head to `envelope`, which the registry has accepted.
    pub fn advance(&mut self, envelope: &Value) {
        self.sequence = envelope["sequence"].as_u64().unwrap_or(self.sequence + 1);
        self.digest = Some(digest_value(envelope));
    }

    /// Reads the state at `path`; `Ok(None)` when there is no file.
    pub fn load(path: &Path) -> Result<Option<Self>, ChainError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error(path, source)),
        };
        let format = |reason: String| ChainError::Format {
            path: path.to_owned(),
            reason,
        };
        let value =
            strict_json::parse(&bytes, MAX_STATE_BYTES).map_err(|e| format(e.to_string()))?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| format(e.to_string()))
    }

    /// Writes the state to `path` atomically and durably.
    pub fn save(&self, path: &Path) -> Result<(), ChainError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut text = serde_json::to_string_pretty(self).expect("a ChainState always serialises");
        text.push('\n');
        let write = || -> io::Result<()> {
            let mut file = File::create(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, path)?;
            // Sync the directory so that the rename itself survives a crash.
            File::open(dir)?.sync_all()
        };
        write().map_err(|source| {
            let _ = fs::remove_file(&temp);
            io_error(path, source)
        })
    }
}

fn io_error(path: &Path, source: io::Error) -> ChainError {
    ChainError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn saves_loads_and_replaces_atomically() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chain.json");
        assert_eq!(ChainState::load(&path).unwrap(), None);
        let mut state = ChainState::new("http://127.0.0.1:8080", "did:web:x:issuers:U");
        state.save(&path).unwrap();
        assert_eq!(ChainState::load(&path).unwrap(), Some(state.clone()));
        state.advance(&json!({"sequence": 1, "items": []}));
        state.save(&path).unwrap();
        let loaded = ChainState::load(&path).unwrap().expect("present");
        assert_eq!(loaded.sequence, 1);
        assert!(loaded
            .digest
            .as_deref()
            .is_some_and(|d| d.starts_with("uEi")));
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn hands_out_each_status_slot_once_across_saves() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chain.json");
        let mut state = ChainState::new("http://127.0.0.1:8080", "did:web:x:issuers:U");
        let first = state.take_status_slots().expect("room");
        state.save(&path).unwrap();
        let mut loaded = ChainState::load(&path).unwrap().expect("present");
        let second = loaded.take_status_slots().expect("room");
        assert_eq!((first[0].index, first[1].index), (0, 0));
        assert_eq!((second[0].index, second[1].index), (1, 1));
        assert_eq!(second[0].purpose, StatusPurpose::Revocation);
        // A file from before status lists reads as nothing taken.
        fs::write(
            &path,
            r#"{"registry": "r", "issuer": "d", "sequence": 1, "digest": null}"#,
        )
        .unwrap();
        let old = ChainState::load(&path).unwrap().expect("present");
        assert_eq!(old.status, StatusCounters::default());
    }

    #[test]
    fn refuses_a_file_that_is_not_a_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("chain.json");
        fs::write(&path, r#"{"sequence": 1, "sequence": 2}"#).unwrap();
        assert!(matches!(
            ChainState::load(&path),
            Err(ChainError::Format { .. })
        ));
    }
}
