//! Filling an empty store for `bench scale`: one issuer with a key and a grant, `real` signed
//! licences (each naming its status list slots), then synthesised licence rows up to the
//! asked count, and status changes for the asked shares — all through the store's own append
//! path (`Store::append_batch`, the sequencer's call, with the registry's seal signing every
//! licence's registration receipt), without HTTP or intake: intake's checks are not what is
//! measured, and at a million licences they would take the run's whole time.
//!
//! Synthesised rows carry a unique digest and, in place of a signed credential, the text of a
//! real signed licence with its identifier changed (so the database holds what a real one of
//! that size costs); envelopes are stored as intake stores them, with a proof of a real
//! signature's size. Everything the bundle, the lists and the receipts read is real.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::{json, Value};

use crate::crypto::digest::{digest_value, multibase_sha256};
use crate::crypto::keys::KeyPair;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{HolderId, LicenceId, TypeCode, Uscc};
use crate::domain::issuer::IssuerKey;
use crate::domain::licence::{LicenceState, StatusAction};
use crate::domain::status_list::{StatusPurpose, StatusSlot};
use crate::issuer::{add_status, sign_licence};
use crate::log::batch::{
    Batch, LicenceChain, NewLicence, NewStatusEvent, Outcome, Packed, PendingEnvelope, PendingItem,
};
use crate::log::envelope::stored_document;
use crate::log::receipt::Signer;
use crate::storage::Store;

/// The type the bench issues (律师执业证, person-held) and its competent authority.
pub const TYPE_CODE: &str = "11100000000014062K001";
const AUTHORITY: &str = "11100000000014062K";
pub const HOLDER: &str = "urn:cn:rid:11010519491231002X";

/// The bench issuer.
pub struct Issuer {
    pub uscc: Uscc,
    pub did: String,
    pub key: KeyPair,
    sequence: u64,
    previous: Option<String>,
}

/// Registers the issuer, its key and a grant for the bench type in 2201.
pub async fn issuer(store: &dyn Store, did_host: &str) -> anyhow::Result<Issuer> {
    let uscc = Uscc::with_check("91220101MA0000BCA")?;
    let since = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a date");
    store
        .insert_issuer(&uscc, "规模测试签发机构", None, since)
        .await?;
    let key = KeyPair::generate();
    let k = IssuerKey {
        multikey: key.multikey(),
        valid_from: since,
        valid_until: None,
        revoked_at: None,
        compromised_since: None,
        created_at: since,
    };
    store.add_issuer_key(&uscc, &k).await?;
    let grant = Authorisation {
        id: uuid::Uuid::new_v4().to_string(),
        issuer: uscc.clone(),
        type_codes: vec![TYPE_CODE.parse()?],
        jurisdiction: "2201".parse()?,
        valid_from: since,
        valid_until: None,
        granted_by: AUTHORITY.parse()?,
        granted_at: since,
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    store.insert_authorisation(&grant).await?;
    Ok(Issuer {
        did: crate::domain::issuer::issuer_did(did_host, &uscc),
        uscc,
        key,
        sequence: 0,
        previous: None,
    })
}

impl Issuer {
    /// The identifier of licence number `n`.
    pub fn id(&self, n: u64) -> LicenceId {
        let code: TypeCode = TYPE_CODE.parse().expect("a seeded code");
        LicenceId::build(&code, &self.uscc, &format!("{n:010}"), 1).expect("valid parts")
    }

    /// A signed licence number `n`, naming revocation and suspension slot `n`.
    pub fn signed(&self, n: u64, public_base: &str) -> Value {
        let mut vc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": self.id(n).urn(), "type": ["VerifiableCredential", "ELicence"],
            "issuer": self.did, "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2036-01-01T00:00:00Z", "jurisdiction": "220102",
            "credentialSchema": {
                "id": format!("{public_base}/v1/licence-types/{TYPE_CODE}/versions/1/schema"),
                "type": "JsonSchema",
            },
            "credentialSubject": {
                "id": HOLDER, "holderName": "张三", "certificateNumber": "12201202610123456",
                "practiceType": "专职律师", "lawFirm": "吉林某律师事务所",
                "issuingAuthority": "吉林省司法厅", "issuedOn": "2026-01-01",
            },
        });
        add_status(&mut vc, public_base, &slots(n));
        let vm = format!("{}#{}", self.did, self.key.multikey());
        let created = Utc::now() - Duration::minutes(1);
        sign_licence(&vc, &self.key, &vm, created).expect("a signable licence")
    }

    /// Appends one envelope of `items` (with the chains they leave) through the seal.
    pub async fn append(
        &mut self,
        store: &dyn Store,
        signer: &std::sync::Arc<Signer>,
        items: Vec<(PendingItem, LicenceChain)>,
    ) -> anyhow::Result<()> {
        let sequence = self.sequence + 1;
        let digest = multibase_sha256(format!("bench envelope {sequence}").as_bytes());
        let (items, chains): (Vec<PendingItem>, Vec<LicenceChain>) = items.into_iter().unzip();
        let received = json!({
            "issuer": self.did, "sequence": sequence, "previous": self.previous,
            "items": items.iter().map(|i| match i {
                PendingItem::Licence(_) => json!({"licence": null}),
                PendingItem::Status(_) => json!({"statusChange": null}),
            }).collect::<Vec<_>>(),
            "proof": {
                "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                "created": "2026-01-01T00:00:00Z", "proofPurpose": "assertionMethod",
                "verificationMethod": format!("{}#{}", self.did, self.key.multikey()),
                "proofValue": format!("z{}", "1".repeat(88)),
            },
        });
        let envelope = PendingEnvelope {
            digest: digest.clone(),
            issuer: self.uscc.clone(),
            sequence,
            previous: self.previous.clone(),
            document: stored_document(received, &items),
            items,
            chains,
        };
        let accepted_at = crate::storage::now_micros(Utc::now());
        let batch = std::sync::Arc::new(Batch::new(accepted_at, vec![envelope]));
        let outcome = store
            .append_batch(batch, crate::submissions::sequencer::sealer(signer))
            .await?;
        anyhow::ensure!(
            matches!(outcome.first(), Some(Outcome::Accepted(_))),
            "envelope {sequence} was not accepted: {outcome:?}"
        );
        self.sequence = sequence;
        self.previous = Some(digest);
        Ok(())
    }
}

/// Licence `n`'s slots: position `n` of the revocation and of the suspension lists.
pub fn slots(n: u64) -> Vec<StatusSlot> {
    [StatusPurpose::Revocation, StatusPurpose::Suspension]
        .into_iter()
        .filter_map(|p| StatusSlot::at(p, n))
        .collect()
}

/// A licence item: the signed `document` when given, else a synthesised row with the text of
/// `template` (a signed licence, identifier `template_id`) under its own identifier.
pub fn licence(
    issuer: &Issuer,
    n: u64,
    document: Option<&Value>,
    (template, template_id): (&str, &str),
) -> (PendingItem, LicenceChain) {
    let id = issuer.id(n);
    let (digest, text) = match document {
        Some(vc) => (digest_value(vc), vc.to_string()),
        None => (
            synthesised_digest(n),
            template.replace(template_id, &id.urn()),
        ),
    };
    let from: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a date");
    let chain = chain(&id, &digest, LicenceState::Active, None);
    let item = PendingItem::Licence(NewLicence {
        schema_version: 1,
        holder: HOLDER.into(),
        jurisdiction: "220102".into(),
        valid_from: from,
        valid_until: from + Duration::days(3650),
        digest,
        status: slots(n),
        document: Packed::pack(text.as_bytes()),
        id,
    });
    (item, chain)
}

/// A status change of licence `n` (whose head digest is `head`).
pub fn status(
    issuer: &Issuer,
    n: u64,
    head: &str,
    action: StatusAction,
) -> (PendingItem, LicenceChain) {
    let id = issuer.id(n);
    let digest = multibase_sha256(format!("bench event {n} {}", action.as_str()).as_bytes());
    let state = match action {
        StatusAction::Revoke => LicenceState::Revoked,
        StatusAction::Suspend => LicenceState::Suspended,
        StatusAction::Resume => LicenceState::Active,
    };
    let chain = chain(&id, head, state, Some(digest.clone()));
    let urn = id.urn();
    let item = PendingItem::Status(NewStatusEvent {
        licence: id,
        action,
        reason: "bench".into(),
        effective_from: Utc::now(),
        digest,
        previous: head.to_owned(),
        document: Packed::pack(
            json!({
                "licence": urn, "action": action.as_str(), "reason": "bench",
                "effectiveFrom": "2026-06-01T00:00:00Z", "previous": head,
            })
            .to_string()
            .as_bytes(),
        ),
    });
    (item, chain)
}

/// The digest a synthesised licence `n` was stored with.
pub fn synthesised_digest(n: u64) -> String {
    multibase_sha256(format!("bench licence {n}").as_bytes())
}

fn chain(id: &LicenceId, head: &str, state: LicenceState, event: Option<String>) -> LicenceChain {
    LicenceChain {
        base: id.base(),
        head: id.clone(),
        head_digest: head.to_owned(),
        state,
        last_event: event,
        holder: HOLDER.parse::<HolderId>().expect("a holder URN"),
        jurisdiction: "220102".parse().expect("a division"),
    }
}
