//! Checking an envelope's items, once its own proof verified: parse each (pure), fetch the
//! facts they need in bulk, then check each in order against those facts overlaid with the
//! effects of the earlier items of the same envelope.

use super::*;
use crate::parallel::Spread;

/// Licence items in an envelope from which their signatures are checked on several threads
/// ([`crate::parallel`]): an envelope of 100 is about 5 ms of signature checks on one core,
/// while its chain waits and the other cores may be idle.
const PARALLEL_FROM: usize = 32;

/// What a licence item's checks need that depends on the item and its issuer alone: its
/// signature check (with the digest it gives) and its stored form. Computed for every licence
/// item before the in-order checks, so an item that fails a later check was packed for nothing.
struct Verified {
    signed: Result<Signed, ItemError>,
    document: Packed,
}

impl Intake {
    /// Checks every item in order against the facts, each seeing the earlier ones' effects.
    /// `times` are the envelope proof's `created` (when its status changes were signed) and the
    /// receipt time.
    pub(super) fn check_items(
        &self,
        parsed: Vec<Result<Parsed<'_>, ItemError>>,
        forms: &[Option<SignedForms>],
        facts: &mut Facts,
        by: &Submitter<'_>,
        times: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<PendingItem>, IntakeError> {
        let (envelope_signed_at, now) = times;
        let licences = parsed
            .iter()
            .filter(|p| matches!(p, Ok(Parsed::Licence(..))))
            .count();
        let verified = {
            let facts = &*facts;
            // Each licence's canonical forms were written for the envelope's signature.
            let with_forms: Vec<_> = parsed.iter().zip(forms).collect();
            crate::parallel::map_chunks(
                &with_forms,
                Spread::CoresBelowWriter.when(licences >= PARALLEL_FROM),
                |share| {
                    let mut keys = facts.keys.clone();
                    let mut begun = Vec::new();
                    let documents: Vec<Option<Packed>> = share
                        .iter()
                        .map(|(item, form)| match item {
                            Ok(Parsed::Licence(_, body)) => {
                                begun.push(begin_prepared_proof(
                                    proof::prepare_with(body, |fields| {
                                        (*form).clone().or_else(|| canonicalize_signed(fields))
                                    }),
                                    by.issuer_did,
                                    &facts.issuer,
                                    now,
                                    &mut keys,
                                ));
                                Some(pack(body))
                            }
                            _ => None,
                        })
                        .collect();
                    // The share's signature checks end together (one field inversion).
                    let mut signed = finish_prepared_proofs(begun).into_iter();
                    documents
                        .into_iter()
                        .map(|document| {
                            Some(Verified {
                                document: document?,
                                signed: signed.next()?,
                            })
                        })
                        .collect()
                },
            )
        };
        let mut items = Vec::with_capacity(parsed.len());
        let mut errors = Vec::new();
        for (index, (item, verified)) in parsed.into_iter().zip(verified).enumerate() {
            let checked = item.and_then(|p| match (p, verified) {
                (Parsed::Licence(claims, body), Some(Verified { signed, document })) => {
                    let signed = signed?;
                    self.window.check(signed.created, now)?;
                    let claims = claims.signed_as(signed.digest);
                    self.check_licence(claims, body, document, facts, by, signed.created)
                }
                (Parsed::Status(claims, body), _) => {
                    facts.apply_status(claims, body, by.issuer, envelope_signed_at)
                }
                // Invariant: every licence item was verified above.
                (Parsed::Licence(..), None) => Err(ItemError::new(
                    "item_malformed",
                    "a licence item was not checked",
                )),
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
    pub(super) async fn facts(
        &self,
        parsed: &[Result<Parsed<'_>, ItemError>],
        (issuer, keys): (Issuer, DecodedKeys),
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
            keys,
        })
    }

    /// Checks one licence; `signed_at` is its proof's `created`, when the issuer's
    /// authorisation must be in force (`validFrom` may predate it: an electronic copy of an
    /// older paper licence).
    fn check_licence(
        &self,
        claims: LicenceClaims,
        body: &Value,
        document: Packed,
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
            document,
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

/// The licence versions the parsed items name.
pub(super) fn named_ids(parsed: &[Result<Parsed<'_>, ItemError>]) -> Vec<LicenceId> {
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
pub(super) fn named_slots(parsed: &[Result<Parsed<'_>, ItemError>]) -> Vec<StatusSlot> {
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

/// An item whose shape is right. A licence's claims have no digest until its proof is checked
/// ([`licence::parse_before_proof`]).
pub(super) enum Parsed<'a> {
    Licence(LicenceClaims, &'a Value),
    Status(StatusClaims, &'a Value),
}

pub(super) fn parse_item<'a>(item: &'a Value, by: &Submitter<'_>) -> Result<Parsed<'a>, ItemError> {
    match item_kind(item)? {
        ("licence", body) => Ok(Parsed::Licence(
            licence::parse_before_proof(body, by)?,
            body,
        )),
        (_, body) => Ok(Parsed::Status(status::parse(body)?, body)),
    }
}
