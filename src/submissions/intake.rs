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
use super::sequencer::{Sequencer, SequencerError};
use crate::domain::authorisation::covering;
use crate::domain::identifiers::{LicenceId, TypeCode};
use crate::domain::issuer::{Issuer, IssuerStatus};
use crate::domain::licence::LicenceState;
use crate::domain::licence_type::LicenceType;
use crate::domain::schema::CompiledSchema;
use crate::domain::status_list::StatusSlot;
use crate::domain::submission::licence::{self, LicenceClaims, Submitter};
use crate::domain::submission::status::{self, StatusClaims};
use crate::domain::submission::{
    check_issuer_proof, item_kind, Envelope, EnvelopeError, ItemError, Signed, SigningWindow,
};
use crate::log::batch::{
    ChainHead, LicenceChain, NewLicence, Outcome, PendingEnvelope, PendingItem,
};
use crate::status_list::StatusListCache;
use crate::storage::{IntakeReads, Store, StoreError};
use crate::verify::cache::RegistryCache;

mod facts;

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
        let signed = check_issuer_proof(&envelope.value, &envelope.issuer_did, &issuer, now)
            .map_err(IntakeError::Signature)?;
        Ok(Authenticated {
            envelope,
            issuer,
            signed,
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
        if let Some(receipt) = reads.receipt.clone() {
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
        let mut facts = self.facts(&parsed, issuer, reads).await?;
        let items = self.check_items(parsed, &mut facts, &submitter, (signed.created, now))?;
        let chains = facts
            .touched
            .iter()
            .filter_map(|b| facts.chains.get(b).cloned())
            .collect();
        let pending = PendingEnvelope {
            document: envelope.value.to_string(),
            digest: signed.digest,
            issuer: envelope.issuer,
            sequence: envelope.sequence,
            previous: envelope.previous,
            items,
            chains,
        };
        // The parsed tree is several times the size of the text kept for storage: free it
        // before waiting for the batch commit.
        drop(envelope.value);
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
            Outcome::Repeat(receipt) => Ok(Accepted::Repeat(receipt)),
            Outcome::HeadMismatch(head) => Err(IntakeError::HeadMismatch(head)),
        }
    }

    /// Checks every item in order against the facts, each seeing the earlier ones' effects.
    /// `times` are the envelope proof's `created` (when its status changes were signed) and the
    /// receipt time.
    fn check_items(
        &self,
        parsed: Vec<Result<Parsed<'_>, ItemError>>,
        facts: &mut Facts,
        by: &Submitter<'_>,
        times: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<PendingItem>, IntakeError> {
        let (envelope_signed_at, now) = times;
        let mut items = Vec::with_capacity(parsed.len());
        let mut errors = Vec::new();
        for (index, item) in parsed.into_iter().enumerate() {
            let checked = item.and_then(|p| match p {
                Parsed::Licence(claims, body) => {
                    let signed = check_issuer_proof(body, by.issuer_did, &facts.issuer, now)?;
                    self.window.check(signed.created, now)?;
                    self.check_licence(claims, body, facts, by, signed.created)
                }
                Parsed::Status(claims, body) => {
                    facts.apply_status(claims, body, by.issuer, envelope_signed_at)
                }
            });
            match checked {
                Ok(item) => items.push(item),
                Err(e) => errors.push((index, e)),
            }
        }
        if errors.is_empty() {
            Ok(items)
        } else {
            Err(IntakeError::Items(errors))
        }
    }

    /// Adds what the in-memory caches know (types, compiled schemas) to the stored facts.
    async fn facts(
        &self,
        parsed: &[Result<Parsed<'_>, ItemError>],
        issuer: Issuer,
        reads: IntakeReads,
    ) -> Result<Facts, IntakeError> {
        let mut codes = HashSet::new();
        let mut versions = HashSet::new();
        for item in parsed.iter().flatten() {
            if let Parsed::Licence(c, _) = item {
                codes.insert(c.id.type_code().clone());
                versions.insert((c.id.type_code().clone(), c.schema_version));
            }
        }
        let snapshot = self.registry.snapshot().await?;
        let types: HashMap<TypeCode, Option<LicenceType>> = codes
            .into_iter()
            .map(|code| {
                let found = snapshot.licence_type(&code).cloned();
                (code, found)
            })
            .collect();
        let mut schemas = HashMap::new();
        for (code, version) in versions {
            let compiled = self
                .schemas
                .get(self.store.as_ref(), &code, version)
                .await?;
            schemas.insert((code, version), compiled);
        }
        Ok(Facts {
            issuer,
            chains: reads.chains,
            existing: reads.existing,
            grants: reads.grants,
            taken: reads.taken,
            types,
            schemas,
            touched: Vec::new(),
        })
    }

    /// Checks one licence; `signed_at` is its proof's `created`, when the issuer's
    /// authorisation must be in force (`validFrom` may predate it: an electronic copy of an
    /// older paper licence).
    fn check_licence(
        &self,
        claims: LicenceClaims,
        body: &Value,
        facts: &mut Facts,
        by: &Submitter<'_>,
        signed_at: DateTime<Utc>,
    ) -> Result<PendingItem, ItemError> {
        let code = claims.id.type_code().clone();
        licence::check_type(&claims, facts.types.get(&code).and_then(Option::as_ref))?;
        let schema = facts
            .schemas
            .get(&(code.clone(), claims.schema_version))
            .cloned()
            .flatten()
            .ok_or_else(|| {
                ItemError::new("schema_unknown", "the schema version could not be loaded")
            })?;
        schema
            .validate(&body["credentialSubject"], MAX_SCHEMA_MESSAGES)
            .map_err(|messages| ItemError::new("schema_invalid", messages.join("; ")))?;
        if covering(
            &facts.grants,
            by.issuer,
            &code,
            &claims.jurisdiction,
            signed_at,
        )
        .is_none()
        {
            return Err(ItemError::new(
                "not_authorised",
                "no authorisation covers this issuer, type and jurisdiction when the licence \
                 was signed (proof.created)",
            ));
        }
        let base = claims.id.base();
        licence::check_chain(
            &claims,
            facts.existing.contains(&claims.id),
            facts.chains.get(&base),
        )?;
        check_slots(&claims.status, &facts.taken)?;
        let previous = facts.chains.get(&base);
        let chain = LicenceChain {
            base: base.clone(),
            head: claims.id.clone(),
            head_digest: claims.digest.clone(),
            state: previous.map_or(LicenceState::Active, |c| c.state),
            last_event: previous.and_then(|c| c.last_event.clone()),
            holder: claims.holder.clone(),
            jurisdiction: claims.jurisdiction.clone(),
        };
        facts.record(chain);
        facts.existing.insert(claims.id.clone());
        facts.taken.extend(claims.status.iter().copied());
        Ok(PendingItem::Licence(NewLicence {
            id: claims.id,
            schema_version: claims.schema_version,
            holder: claims.holder.urn(),
            jurisdiction: claims.jurisdiction.to_string(),
            valid_from: claims.valid_from,
            valid_until: claims.valid_until,
            digest: claims.digest,
            status: claims.status,
            document: body.to_string(),
        }))
    }
}

/// A status list slot is taken once per issuer and purpose: by a stored licence version or an
/// earlier item of the envelope (`status_index_taken`).
fn check_slots(slots: &[StatusSlot], taken: &HashSet<StatusSlot>) -> Result<(), ItemError> {
    match slots.iter().find(|s| taken.contains(s)) {
        Some(slot) => Err(ItemError::new(
            "status_index_taken",
            format!(
                "statusListIndex {} of {} list {} is used by another licence; take the next \
                 free index",
                slot.index,
                slot.purpose.as_str(),
                slot.list
            ),
        )),
        None => Ok(()),
    }
}

/// An envelope whose own proof verified, by an active registered issuer.
#[derive(Debug)]
pub struct Authenticated {
    envelope: Envelope,
    issuer: Issuer,
    signed: Signed,
}

/// The licence versions the parsed items name.
fn named_ids(parsed: &[Result<Parsed<'_>, ItemError>]) -> Vec<LicenceId> {
    parsed
        .iter()
        .flatten()
        .map(|item| match item {
            Parsed::Licence(c, _) => c.id.clone(),
            Parsed::Status(c, _) => c.licence.clone(),
        })
        .collect()
}

/// The status list slots the licence items name.
fn named_slots(parsed: &[Result<Parsed<'_>, ItemError>]) -> Vec<StatusSlot> {
    parsed
        .iter()
        .flatten()
        .filter_map(|item| match item {
            Parsed::Licence(c, _) => Some(c.status.iter().copied()),
            Parsed::Status(..) => None,
        })
        .flatten()
        .collect()
}

/// An item whose shape is right.
enum Parsed<'a> {
    Licence(LicenceClaims, &'a Value),
    Status(StatusClaims, &'a Value),
}

fn parse_item<'a>(item: &'a Value, by: &Submitter<'_>) -> Result<Parsed<'a>, ItemError> {
    match item_kind(item)? {
        ("licence", body) => Ok(Parsed::Licence(licence::parse(body, by)?, body)),
        (_, body) => Ok(Parsed::Status(status::parse(body)?, body)),
    }
}
