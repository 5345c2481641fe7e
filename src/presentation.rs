//! Presentations by QR, between the routes and the store: create one for a holder's own
//! licence, and answer a scan with the verdict and the disclosed fields. No HTTP.
//!
//! A token is 192 random bits (base64url, 32 characters, so the URL's QR code stays small);
//! only its SHA-256 is stored. A scan counts against the token in the same statement that
//! checks it ([`crate::storage::PresentationStore::scan_presentation`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::digest::sha256;
use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::identifiers::{HolderId, LicenceId};
use crate::domain::presentation::{
    disclose, mask_name, schema_fields, PresentationError, PresentationRequest, SchemaField,
};
use crate::domain::time::seconds;
use crate::storage::{record_access, LicenceHistory, Presentation, Scan, Store, StoreError};
use crate::verify::cache::RegistryCache;

mod verdict;

pub use verdict::{add_engine_failures, judge, Reason, Verdict};

/// Why a presentation could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// No such licence, or not this holder's (the two answer alike).
    #[error("no such licence of this holder")]
    NotFound,
    #[error(transparent)]
    Terms(#[from] PresentationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new presentation, with the only copy of its token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub token: String,
    pub url: String,
    pub expires_at: String,
    pub single_use: bool,
    pub fields: Vec<String>,
    pub qr_svg: String,
    pub qr_png: String,
}

/// What a scanner is shown.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shown {
    pub verdict: Verdict,
    pub licence: String,
    pub type_code: String,
    pub type_name: Names,
    pub holder_name: Option<String>,
    /// Disclosed members with the schema's titles, in schema order.
    pub fields: Vec<ShownField>,
    pub issuer: Names,
    pub issuer_uscc: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub status: &'static str,
    pub version: u16,
    pub checked_at: String,
    /// The licence version's leaf in the registry's transparency log.
    pub log_index: Option<u64>,
    pub expires_at: String,
    /// Whose licence it is, for the holder's access record only: a scanner is anonymous and
    /// is never shown the holder's identity number.
    #[serde(skip)]
    pub holder: HolderId,
}

/// A name in Chinese and English (the same text when only one exists).
#[derive(Debug, Clone, Serialize)]
pub struct Names {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShownField {
    pub name: String,
    pub title: String,
    pub value: Value,
}

/// The outcome of a scan.
#[derive(Debug, Clone)]
pub enum Scanned {
    Shown(Box<Shown>),
    Expired,
    UsedUp,
    Unknown,
}

/// Creates a presentation of `holder`'s own licence `request.licence`.
pub async fn create(
    store: &dyn Store,
    public_base: &str,
    holder: &HolderId,
    request: &PresentationRequest,
    now: DateTime<Utc>,
) -> Result<Created, CreateError> {
    let id = LicenceId::parse_reference(&request.licence)
        .ok()
        .ok_or(CreateError::NotFound)?;
    let history = store
        .licence_history(&id.base())
        .await?
        .ok_or(CreateError::NotFound)?;
    let document = version_document(&history, &id).ok_or(CreateError::NotFound)?;
    if document["credentialSubject"]["id"].as_str() != Some(holder.urn().as_str()) {
        return Err(CreateError::NotFound);
    }
    let fields = subject_fields(store, &id, document).await?;
    let terms = request.terms(&fields, now)?;
    let token = new_token();
    let presentation = Presentation {
        holder: holder.clone(),
        licence: id,
        fields: terms.fields.clone(),
        created_at: now,
        expires_at: terms.expires_at,
        max_uses: terms.max_uses,
        uses: 0,
    };
    store
        .insert_presentation(&sha256(token.as_bytes()), &presentation)
        .await?;
    Ok(Created {
        url: format!("{public_base}/p/{token}"),
        qr_svg: format!("{public_base}/v1/presentations/{token}/qr.svg"),
        qr_png: format!("{public_base}/v1/presentations/{token}/qr.png"),
        expires_at: seconds(terms.expires_at),
        single_use: terms.max_uses.is_some(),
        fields: terms.fields,
        token,
    })
}

/// Counts a scan of `token` and answers what the scanner sees.
pub async fn scan(
    store: &dyn Store,
    verifier: &RegistryCache,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Scanned, StoreError> {
    let presentation = match store
        .scan_presentation(&sha256(token.as_bytes()), now)
        .await?
    {
        Scan::Shown(p) => p,
        Scan::Expired => return Ok(Scanned::Expired),
        Scan::UsedUp => return Ok(Scanned::UsedUp),
        Scan::Unknown => return Ok(Scanned::Unknown),
    };
    let history = store
        .licence_history(&presentation.licence.base())
        .await?
        .ok_or_else(|| StoreError::corrupt("a presented licence has no history"))?;
    let shown = show(store, verifier, &presentation, &history, now).await?;
    record_access(store, record(&shown)).await?;
    Ok(Scanned::Shown(Box::new(shown)))
}

async fn show(
    store: &dyn Store,
    verifier: &RegistryCache,
    p: &Presentation,
    history: &LicenceHistory,
    now: DateTime<Utc>,
) -> Result<Shown, StoreError> {
    let id = &p.licence;
    let stored = history.versions.iter().find(|v| v.id == *id);
    let document = stored.map(|v| &v.document).unwrap_or(&Value::Null);
    let (mut verdict, status) = judge(history, id, now);
    if let Some(checked) = verifier.verify(vec![document.clone()], now).await?.first() {
        add_engine_failures(&mut verdict, &checked.checks);
    }
    let schema = subject_fields(store, id, document).await?;
    let licence_type = store.licence_type(id.type_code()).await?;
    let issuer = store.issuer(id.issuer()).await?;
    let subject = &document["credentialSubject"];
    Ok(Shown {
        verdict,
        licence: id.urn(),
        type_code: id.type_code().to_string(),
        type_name: licence_type.map_or_else(
            || same(id.type_code().to_string()),
            |t| Names {
                zh: t.name_zh,
                en: t.name_en,
            },
        ),
        holder_name: subject["holderName"].as_str().map(mask_name),
        fields: titled(disclose(subject, &p.fields), &schema),
        issuer: same(issuer.map_or_else(|| id.issuer().to_string(), |i| i.name)),
        issuer_uscc: id.issuer().to_string(),
        valid_from: document["validFrom"].as_str().map(str::to_owned),
        valid_until: document["validUntil"].as_str().map(str::to_owned),
        status,
        version: id.version(),
        checked_at: seconds(now),
        log_index: stored.map(|v| v.leaf_index),
        expires_at: seconds(p.expires_at),
        holder: p.holder.clone(),
    })
}

/// The access record of a scan, which the holder sees: anonymous, with the verdict.
fn record(shown: &Shown) -> NewAccessRecord {
    let result = match shown.verdict.reasons.first() {
        None => "valid",
        Some(reason) => reason.code,
    };
    NewAccessRecord {
        channel: Channel::QrScan,
        agency: None,
        holder: Some(shown.holder.clone()),
        licence: Some(shown.licence.clone()),
        purpose: "扫码出示 QR presentation".to_owned(),
        route: "GET /p/{token}".to_owned(),
        result: result.to_owned(),
        application: None,
    }
}

fn titled(disclosed: Map<String, Value>, schema: &[SchemaField]) -> Vec<ShownField> {
    schema
        .iter()
        .filter_map(|f| {
            disclosed.get(&f.name).map(|value| ShownField {
                name: f.name.clone(),
                title: f.title.clone(),
                value: value.clone(),
            })
        })
        .collect()
}

/// The fields of the schema version the licence names in `credentialSchema`.
async fn subject_fields(
    store: &dyn Store,
    id: &LicenceId,
    document: &Value,
) -> Result<Vec<SchemaField>, StoreError> {
    let version = document["credentialSchema"]["id"]
        .as_str()
        .and_then(|url| url.strip_suffix("/schema"))
        .and_then(|url| url.rsplit('/').next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    let schema = store.schema_document(id.type_code(), version).await?;
    Ok(schema.as_ref().map(schema_fields).unwrap_or_default())
}

fn version_document<'a>(history: &'a LicenceHistory, id: &LicenceId) -> Option<&'a Value> {
    history
        .versions
        .iter()
        .find(|v| v.id == *id)
        .map(|v| &v.document)
}

/// A fresh token: 192 random bits, base64url without padding.
pub fn new_token() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `text` could be a token (so junk is refused before a database round trip).
pub fn plausible_token(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn same(text: String) -> Names {
    Names {
        zh: text.clone(),
        en: text,
    }
}
