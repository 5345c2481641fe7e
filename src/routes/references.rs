//! What the registry knows of a referenced licence, for application checks: the stored version,
//! its licence's state, and a fresh check of its signature and issuer key (a key found
//! compromised after acceptance voids the licence).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::application::Referenced;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::Issuer;
use crate::domain::submission::check_issuer_proof;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::LicenceRecord;

/// Re-checks referenced licences, caching issuers across them.
pub(crate) struct Lookup<'a> {
    state: &'a AppState,
    issuers: HashMap<Uscc, Option<Issuer>>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(state: &'a AppState) -> Self {
        Self {
            state,
            issuers: HashMap::new(),
        }
    }

    /// Re-checks the stored licence's proof against its issuer's key as registered now.
    pub(crate) async fn signature(
        &mut self,
        record: &LicenceRecord,
    ) -> Result<Result<(), &'static str>, ApiError> {
        let uscc = record.id.issuer().clone();
        if !self.issuers.contains_key(&uscc) {
            let issuer = self.state.store.issuer(&uscc).await?;
            self.issuers.insert(uscc.clone(), issuer);
        }
        let Some(Some(issuer)) = self.issuers.get(&uscc) else {
            return Ok(Err("issuer_unknown"));
        };
        let did = super::issuers::did(self.state, &uscc)?;
        let Some(created) = proof_created(&record.document) else {
            return Ok(Err("proof_created_missing"));
        };
        Ok(check_issuer_proof(&record.document, &did, issuer, created)
            .map(|_| ())
            .map_err(|e| e.code))
    }
}

/// Builds the domain view of a stored licence.
pub(crate) fn referenced(record: LicenceRecord, signature: Result<(), &'static str>) -> Referenced {
    Referenced {
        id: record.id,
        holder: record.holder,
        schema_version: record.schema_version,
        head: record.head,
        state: record.state,
        valid_from: record.valid_from,
        valid_until: record.valid_until,
        signature,
    }
}

fn proof_created(document: &serde_json::Value) -> Option<DateTime<Utc>> {
    let created = document.get("proof")?.get("created")?.as_str()?;
    DateTime::parse_from_rfc3339(created)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
