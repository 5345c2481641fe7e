//! The online [`RegistryView`]: a [`Snapshot`] plus the standings of one request's licences.

use ed25519_dalek::VerifyingKey;

use super::Snapshot;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::Issuer;
use crate::verify::standings::Standings;
use crate::verify::{LicenceLookup, RegisteredLicence, RegistryView, SchemaLookup, TypeFacts};

/// A snapshot plus the standing of the licences of one request.
pub(super) struct OnlineView<'a> {
    pub(super) snapshot: &'a Snapshot,
    pub(super) standings: &'a Standings,
}

impl RegistryView for OnlineView<'_> {
    fn did_host(&self) -> &str {
        &self.snapshot.did_host
    }

    fn public_base(&self) -> &str {
        &self.snapshot.public_base
    }

    fn issuer(&self, uscc: &Uscc) -> Option<&Issuer> {
        self.snapshot.issuers.get(uscc)
    }

    fn authorisations(&self, issuer: &Uscc) -> &[Authorisation] {
        self.snapshot.grants.get(issuer).map_or(&[], Vec::as_slice)
    }

    fn licence_type(&self, code: &TypeCode) -> Option<TypeFacts<'_>> {
        self.snapshot.types.get(code).map(TypeFacts::from)
    }

    fn schema(&self, code: &TypeCode, version: u32) -> SchemaLookup {
        match self.snapshot.schemas.get(&(code.clone(), version)) {
            Some(compiled) => SchemaLookup::Compiled(compiled.clone()),
            None if self
                .snapshot
                .types
                .get(code)
                .is_some_and(|t| t.versions.iter().any(|v| v.version == version)) =>
            {
                SchemaLookup::Unavailable
            }
            None => SchemaLookup::NotFound,
        }
    }

    fn key(&self, multikey: &str) -> Option<VerifyingKey> {
        match self.snapshot.keys.get(multikey) {
            Some(key) => Some(*key),
            None => crate::crypto::multikey::decode(multikey).ok(),
        }
    }

    fn licence(&self, id: &LicenceId) -> LicenceLookup<'_> {
        match self.standings.get(id) {
            Some(s) => LicenceLookup::Registered(RegisteredLicence {
                digest: &s.digest,
                leaf_index: s.leaf_index,
                leaf_hash: s.leaf_hash,
                head: &s.head,
                state: s.state,
                since: s.since,
            }),
            None => LicenceLookup::NotRegistered,
        }
    }
}
