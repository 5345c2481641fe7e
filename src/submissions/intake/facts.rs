//! The facts one envelope's items are checked against, and the status-change check that
//! updates them as it goes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::pack;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::Issuer;
use crate::domain::licence_type::LicenceType;
use crate::domain::schema::CompiledSchema;
use crate::domain::submission::status::{self, StatusClaims};
use crate::domain::submission::{DecodedKeys, ItemError};
use crate::log::batch::{LicenceChain, NewStatusEvent, PendingItem};

/// What the store holds about an envelope's items, overlaid with the earlier items' effects.
pub(super) struct Facts {
    pub(super) issuer: Issuer,
    pub(super) chains: HashMap<String, LicenceChain>,
    pub(super) existing: HashSet<LicenceId>,
    pub(super) grants: Vec<Authorisation>,
    /// Status list slots taken by stored licences or earlier items.
    pub(super) taken: HashSet<crate::domain::status_list::StatusSlot>,
    pub(super) types: HashMap<TypeCode, Option<LicenceType>>,
    pub(super) schemas: HashMap<(TypeCode, u32), Option<Arc<CompiledSchema>>>,
    /// Bases whose chain this envelope changes, in first-touch order.
    pub(super) touched: Vec<String>,
    /// The issuer's keys decoded for the licences checked so far.
    pub(super) keys: DecodedKeys,
}

impl Facts {
    pub(super) fn record(&mut self, chain: LicenceChain) {
        if !self.touched.contains(&chain.base) {
            self.touched.push(chain.base.clone());
        }
        self.chains.insert(chain.base.clone(), chain);
    }

    /// Checks one status change signed (by the envelope's proof) at `signed_at`.
    pub(super) fn apply_status(
        &mut self,
        claims: StatusClaims,
        body: &Value,
        issuer: &Uscc,
        signed_at: DateTime<Utc>,
    ) -> Result<PendingItem, ItemError> {
        let base = claims.licence.base();
        let chain = self.chains.get(&base);
        let state = status::check(
            &claims,
            issuer,
            self.existing.contains(&claims.licence),
            chain,
        )?;
        if let Some(chain) = chain {
            status::check_authorised(&claims, chain, &self.grants, issuer, signed_at)?;
        }
        if let Some(chain) = chain.cloned() {
            self.record(LicenceChain {
                state,
                last_event: Some(claims.digest.clone()),
                ..chain
            });
        }
        Ok(PendingItem::Status(NewStatusEvent {
            licence: claims.licence,
            action: claims.action,
            reason: claims.reason,
            effective_from: claims.effective_from,
            digest: claims.digest,
            previous: claims.previous,
            document: pack(body),
        }))
    }
}
