//! Intake of a submission: the envelope checks in order (shape, issuer, signature, repeat,
//! chain head), then every item against the facts the store holds, then the sequencer.
//!
//! Items are checked in three phases so that an envelope of thousands of items costs a handful
//! of queries: parse every item (pure), fetch the facts they need in bulk (issuer, keys, chain
//! head and earlier receipt, licence chains, existing ids and authorisations on one connection
//! through [`IntakeStore`](crate::storage::IntakeStore); licence types and compiled schemas
//! from memory), then check them in order against those facts overlaid with the effects of the
//! earlier items of the same envelope.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::gate::AuthGate;
use super::repeat::original_receipt;
use super::sequencer::{Sequencer, SequencerError};
use crate::crypto::jcs::{canonicalize_signed, canonicalize_signed_reusing, SignedForms, Written};
use crate::crypto::proof;
use crate::domain::authorisation::covering;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::{Issuer, IssuerStatus};
use crate::domain::licence::LicenceState;
use crate::domain::licence_type::LicenceType;
use crate::domain::schema::CompiledSchema;
use crate::domain::status_list::StatusSlot;
use crate::domain::submission::licence::{self, LicenceClaims, Submitter};
use crate::domain::submission::status::{self, StatusClaims};
use crate::domain::submission::{
    begin_prepared_proof, check_prepared_proof, finish_prepared_proofs, item_kind, DecodedKeys,
    Envelope, EnvelopeError, ItemError, Signed, SigningWindow,
};
use crate::log::batch::{
    ChainHead, LicenceChain, NewLicence, Outcome, Packed, PendingEnvelope, PendingItem,
};
use crate::log::envelope::stored_document;
use crate::parallel::Spread;
use crate::status_list::StatusListCache;
use crate::storage::{IntakeReads, Store, StoreError};
use crate::verify::cache::RegistryCache;

mod facts;
mod items;

use items::{named_ids, named_slots, parse_item, Parsed};

use facts::Facts;

/// Schema messages reported per refused licence.
const MAX_SCHEMA_MESSAGES: usize = 5;

/// How a submission ended, when it was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Newly appended: the receipt (201).
    Created(String),
    /// Accepted before: the original receipt (200).
    Repeat(String),
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("the issuer is not registered")]
    IssuerUnknown,
    #[error("the issuer is suspended")]
    IssuerSuspended,
    #[error("envelope proof: {}", .0.detail)]
    Signature(ItemError),
    #[error("the envelope does not follow the issuer's chain head")]
    HeadMismatch(Option<ChainHead>),
    #[error("{} item(s) refused; nothing was stored", .0.len())]
    Items(Vec<(usize, ItemError)>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sequencer(#[from] SequencerError),
}

/// Compiled licence-type schemas by (type, version); stored versions never change.
#[derive(Debug, Default)]
pub struct SchemaCache(RwLock<HashMap<(TypeCode, u32), Arc<CompiledSchema>>>);

impl SchemaCache {
    /// The compiled schema of one version, compiling it on first use.
    pub async fn get(
        &self,
        store: &dyn Store,
        code: &TypeCode,
        version: u32,
    ) -> Result<Option<Arc<CompiledSchema>>, StoreError> {
        let key = (code.clone(), version);
        if let Some(found) = self.0.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(Some(found));
        }
        let Some(document) = store.schema_document(code, version).await? else {
            return Ok(None);
        };
        let compiled = Arc::new(CompiledSchema::compile(document).map_err(StoreError::corrupt)?);
        if let Ok(mut map) = self.0.write() {
            map.insert(key, compiled.clone());
        }
        Ok(Some(compiled))
    }
}

/// The write path of one service instance.
pub struct Intake {
    pub store: Arc<dyn Store>,
    /// The in-memory registry snapshot (licence types), shared with the verifier and
    /// invalidated by operator writes; at most a few seconds old across instances.
    pub registry: Arc<RegistryCache>,
    pub sequencer: Sequencer,
    pub schemas: SchemaCache,
    /// The did:web host (`:` encoded as `%3A`).
    pub did_host: String,
    /// The public base URL without a trailing slash.
    pub public_base: String,
    /// How far from receipt a proof's `created` may be.
    pub window: SigningWindow,
    /// Slots for envelopes not yet authenticated (taken by the route before the body is read).
    pub gate: AuthGate,
    /// The signed status lists this instance serves; an accepted status change drops its
    /// issuer's.
    pub status_lists: Arc<StatusListCache>,
    /// Comb tables of the issuer keys that sign here often: every check of those keys then
    /// costs about half of a `verify_strict`, with its answer.
    pub key_tables: Arc<crate::crypto::key_tables::KeyTables>,
    /// The threads that check envelopes, below the writer's priority (`POST /v1/submissions`).
    pub checks: super::checks::CheckRuntime,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("did_host", &self.did_host)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// Checks a parsed envelope and, when everything holds, appends it:
    /// [`authenticate`](Self::authenticate) then [`accept`](Self::accept).
    pub async fn submit(&self, value: Value, now: DateTime<Utc>) -> Result<Accepted, IntakeError> {
        let authenticated = self.authenticate(value, now).await?;
        self.accept(authenticated, now).await
    }

    /// The envelope's shape and its own proof, before anything is done with its items: the
    /// issuer (one read), one canonical form and one Ed25519 verification. Work an anonymous
    /// client can cause stops here for a bad signature, whatever the items hold.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(
        &self,
        value: Value,
        now: DateTime<Utc>,
    ) -> Result<Authenticated, IntakeError> {
        let envelope = Envelope::parse(value, &self.did_host)?;
        let issuer = self
            .store
            .issuer(&envelope.issuer)
            .await?
            .ok_or(IntakeError::IssuerUnknown)?;
        if issuer.status != IssuerStatus::Active {
            return Err(IntakeError::IssuerSuspended);
        }
        let mut keys = DecodedKeys::with_tables(self.key_tables.clone());
        // The envelope's canonical form holds each licence's whole: written once per licence,
        // they are copied into the envelope's and serve the licences' own signatures and
        // digests again in `check_items`.
        let forms = licence_forms(envelope.items());
        let mut written = Written::default();
        for (item, form) in envelope.items().iter().zip(&forms) {
            if let (Some(form), Ok((_, body))) = (form, item_kind(item)) {
                written.insert(body, &form.full);
            }
        }
        let prepared = proof::prepare_with(&envelope.value, |fields| {
            canonicalize_signed_reusing(fields, &written)
        });
        let signed = check_prepared_proof(prepared, &envelope.issuer_did, &issuer, now, &mut keys)
            .map_err(IntakeError::Signature)?;
        drop(written);
        Ok(Authenticated {
            envelope,
            issuer,
            signed,
            keys,
            forms,
        })
    }

    /// Checks an authenticated envelope's chain position and items and, when everything holds,
    /// appends it.
    ///
    /// The items are parsed first (pure) so that every stored fact the envelope needs is read
    /// in one go on one connection; the checks still run in the documented order.
    #[tracing::instrument(skip_all)]
    pub async fn accept(
        &self,
        authenticated: Authenticated,
        now: DateTime<Utc>,
    ) -> Result<Accepted, IntakeError> {
        let Authenticated {
            envelope,
            issuer,
            signed,
            keys,
            forms,
        } = authenticated;
        let submitter = Submitter {
            issuer: &envelope.issuer,
            issuer_did: &envelope.issuer_did,
            public_base: &self.public_base,
        };
        let parsed: Vec<Result<Parsed<'_>, ItemError>> = envelope
            .items()
            .iter()
            .map(|item| parse_item(item, &submitter))
            .collect();
        let reads = self
            .store
            .intake_reads(
                &envelope.issuer,
                &signed.digest,
                &named_ids(&parsed),
                &named_slots(&parsed),
            )
            .await?;
        if let Some(stored) = reads.receipt.clone() {
            let receipt = original_receipt(self.store.as_ref(), stored).await?;
            return Ok(Accepted::Repeat(receipt));
        }
        // After the repeat check: an accepted envelope sent again later gets its receipt.
        self.window
            .check(signed.created, now)
            .map_err(IntakeError::Signature)?;
        let expected = envelope.previous.as_ref().map(|d| ChainHead {
            sequence: envelope.sequence - 1,
            digest: d.clone(),
        });
        if reads.head != expected {
            return Err(IntakeError::HeadMismatch(reads.head));
        }
        let mut facts = self.facts(&parsed, (issuer, keys), reads).await?;
        let items = match self.check_items(
            parsed,
            &forms,
            &mut facts,
            &submitter,
            (signed.created, now),
        ) {
            Ok(items) => items,
            Err(refused) => {
                // The reads above are not one snapshot: another copy of this envelope may have
                // been stored between the repeat check and the licences' reads, and its own
                // licences then look like versions already taken. It gets the receipt.
                return match self
                    .stored_meanwhile(&envelope.issuer, &signed.digest)
                    .await?
                {
                    Some(receipt) => Ok(Accepted::Repeat(receipt)),
                    None => Err(refused),
                };
            }
        };
        let chains = facts
            .touched
            .iter()
            .filter_map(|b| facts.chains.get(b).cloned())
            .collect();
        let pending = PendingEnvelope {
            document: stored_document(envelope.value, &items),
            digest: signed.digest,
            issuer: envelope.issuer,
            sequence: envelope.sequence,
            previous: envelope.previous,
            items,
            chains,
        };
        let touched: Vec<String> = pending.chains.iter().map(|c| c.base.clone()).collect();
        let changes_status = pending
            .items
            .iter()
            .any(|i| match i {
                PendingItem::Status(_) => true,
                // A later version sets its predecessor's bit in the supersession list.
                PendingItem::Licence(l) => l.id.version() > 1,
            })
            .then(|| pending.issuer.clone());
        match self.sequencer.submit(pending).await? {
            Outcome::Accepted(receipt) => {
                // Committed: what the verifier holds about these licences is out of date.
                self.registry
                    .licences_changed(touched.iter().map(String::as_str));
                if let Some(issuer) = changes_status {
                    self.status_lists.issuer_changed(&issuer).await;
                }
                Ok(Accepted::Created(receipt))
            }
            Outcome::Repeat(stored) => Ok(Accepted::Repeat(
                original_receipt(self.store.as_ref(), stored).await?,
            )),
            Outcome::HeadMismatch(head) => Err(IntakeError::HeadMismatch(head)),
        }
    }

    /// The original receipt of the envelope with `digest`, when it is stored.
    async fn stored_meanwhile(
        &self,
        issuer: &Uscc,
        digest: &str,
    ) -> Result<Option<String>, IntakeError> {
        let reads = self.store.intake_reads(issuer, digest, &[], &[]).await?;
        Ok(match reads.receipt {
            Some(stored) => Some(original_receipt(self.store.as_ref(), stored).await?),
            None => None,
        })
    }
}

/// An envelope whose own proof verified, by an active registered issuer.
#[derive(Debug)]
pub struct Authenticated {
    envelope: Envelope,
    issuer: Issuer,
    signed: Signed,
    /// The issuer key the envelope's proof used, decoded: its licences are mostly signed by it.
    keys: DecodedKeys,
    /// Each item's canonical forms when it is a licence with a proof, by item.
    forms: Vec<Option<SignedForms>>,
}

/// Licence items in an envelope from which their canonical forms are written on several
/// threads ([`crate::parallel`]), as their signatures are checked (`items::PARALLEL_FROM`).
const FORMS_IN_PARALLEL_FROM: usize = 32;

/// The canonical forms of each licence item that has a proof ([`canonicalize_signed`]), by item:
/// the part of the envelope's own form that is nearly all of its work.
fn licence_forms(items: &[Value]) -> Vec<Option<SignedForms>> {
    let licences = items
        .iter()
        .filter(|item| matches!(item_kind(item), Ok(("licence", _))))
        .count();
    crate::parallel::map(
        items,
        Spread::CoresBelowWriter.when(licences >= FORMS_IN_PARALLEL_FROM),
        |item| match item_kind(item) {
            Ok(("licence", Value::Object(body))) => canonicalize_signed(body),
            _ => None,
        },
    )
}

/// An item's stored form: its text as received (members in their order), packed.
fn pack(body: &Value) -> Packed {
    // Invariant: a `Value` always serialises.
    Packed::pack(&serde_json::to_vec(body).expect("a JSON value serialises"))
}
