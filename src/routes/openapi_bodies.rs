//! Schemas of the request bodies that handlers read raw or as JSON values (envelopes,
//! verification requests, VC-API requests, licence-type definitions): for the API document
//! only. The handlers parse these bodies themselves and answer 400 or 422 with the reason.
#![expect(
    dead_code,
    reason = "documentation types: read by utoipa, never constructed"
)]

use serde_json::Value;
use utoipa::ToSchema;

/// `POST /v1/licence-types`: a licence type in draft, with schema version 1.
#[derive(ToSchema)]
#[schema(as = NewLicenceType)]
#[schema(rename_all = "camelCase")]
pub struct NewLicenceTypeDoc {
    /// The defining authority's USCC and three digits.
    #[schema(
        pattern = r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}[0-9]{3}$",
        example = "11100000000013338W032"
    )]
    code: String,
    #[schema(min_length = 1, example = "营业执照")]
    name_zh: String,
    #[schema(min_length = 1, example = "Business licence")]
    name_en: String,
    /// `{"uscc", "name"}` of the authority that defines the type.
    #[schema(value_type = Object)]
    defining_authority: Value,
    /// `national`, `provincial`, `municipal` or `county`.
    #[schema(value_type = String, example = "municipal")]
    issuing_authority_level: Value,
    /// 1 for natural persons, 2 for organisations.
    #[schema(value_type = u8, minimum = 1, maximum = 2)]
    holder_category: Value,
    /// `{"min", "max"}` ISO 8601 durations, or `{"indefinite": true}`.
    #[schema(value_type = Object)]
    validity: Value,
    /// Matter codes the licence serves.
    matters: Option<Vec<String>>,
    /// The JSON Schema (2020-12) of a licence's `credentialSubject`.
    #[schema(value_type = Object)]
    schema: Value,
}

/// `POST /v1/licence-types/{code}/versions`.
#[derive(ToSchema)]
#[schema(as = NewSchemaVersion)]
pub struct NewVersionDoc {
    /// The JSON Schema (2020-12) of a licence's `credentialSubject`.
    #[schema(value_type = Object)]
    schema: Value,
}

/// `POST /v1/licence-types/{code}/transfer`.
#[derive(ToSchema)]
#[schema(as = Transfer)]
#[schema(rename_all = "camelCase")]
pub struct TransferDoc {
    /// `{"uscc", "name"}` of the new competent authority.
    #[schema(value_type = Object)]
    defining_authority: Value,
    reason: Option<String>,
}

/// `POST /v1/submissions`: an issuer's signed envelope of licence events.
#[derive(ToSchema)]
#[schema(as = Envelope)]
pub struct EnvelopeDoc {
    /// The issuer's USCC.
    #[schema(pattern = r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")]
    issuer: String,
    /// One more than the issuer's last accepted envelope (1 for the first).
    #[schema(minimum = 1)]
    sequence: u64,
    /// Hash of the previous envelope; `null` for the first.
    previous: Option<String>,
    /// The signed licences and status changes.
    #[schema(min_items = 1)]
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
    /// Data Integrity proof (eddsa-jcs-2022) by one of the issuer's keys.
    #[schema(value_type = Object)]
    proof: Value,
}

/// `POST /v1/verify`: exactly one of `credential`, `licenceId`, `qr`.
#[derive(ToSchema)]
#[schema(as = VerifyRequest)]
#[schema(rename_all = "camelCase")]
pub struct VerifyDoc {
    /// A licence credential as issued.
    #[schema(value_type = Option<Object>)]
    credential: Option<Value>,
    /// A licence identifier, bare or `urn:elicence:`.
    #[schema(
        example = "urn:elicence:1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
    )]
    licence_id: Option<String>,
    /// The text of a presentation QR code.
    #[schema(example = "EL1:…")]
    qr: Option<String>,
    /// RFC 3339 time to judge validity and status at (default now).
    #[schema(format = DateTime)]
    at: Option<String>,
    /// Use cause (agency callers; recorded with the access).
    #[schema(max_length = 200)]
    purpose: Option<String>,
}

/// `POST /v1/verify/batch`: up to 1,000 verification requests.
#[derive(ToSchema)]
#[schema(as = VerifyBatch)]
pub struct VerifyBatchDoc {
    /// `POST /v1/verify` requests (`VerifyRequest`). Each is answered in its place in `results`:
    /// its verdict, or `{"error": {status, code, detail}}` for an item that is not a valid
    /// request (an unknown member, a malformed `at`…); the batch itself is still answered 200.
    /// At most 1,000 (a larger batch is refused with 400; utoipa writes no `maxItems` for an
    /// array of arbitrary values).
    items: Vec<Value>,
    #[schema(format = DateTime)]
    at: Option<String>,
}

/// `POST /credentials/issue` (W3C VC-API).
#[derive(ToSchema)]
#[schema(as = VcIssueRequest)]
pub struct VcIssueDoc {
    /// An unsigned credential with a `credentialSubject`.
    #[schema(value_type = Object)]
    credential: Value,
    /// `{"created"?}`.
    #[schema(value_type = Option<Object>)]
    options: Option<Value>,
}

/// `POST /credentials/verify` (W3C VC-API).
#[derive(ToSchema)]
#[schema(as = VcVerifyRequest)]
#[schema(rename_all = "camelCase")]
pub struct VcVerifyDoc {
    /// A credential with one or more Data Integrity proofs.
    #[schema(value_type = Object)]
    verifiable_credential: Value,
    #[schema(value_type = Option<Object>)]
    options: Option<Value>,
}
