//! Who is calling. The operator presents the admin bearer token from configuration; it is
//! compared as a SHA-256 hash in constant time and never logged. An issuer presents one of its
//! read tokens, stored only as SHA-256 and looked up by that hash.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use crate::crypto::digest::sha256;
use crate::domain::identifiers::Uscc;
use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the caller is the operator (the e-licence management department).
#[derive(Debug, Clone, Copy)]
pub struct Operator;

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("invalid_token", "malformed Authorization header"))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized(
            "invalid_token",
            "expected Authorization: Bearer <token>",
        )),
    }
}

/// Compares a presented token with a stored SHA-256 hash in constant time.
pub fn token_matches(token: &str, hash: &[u8; 32]) -> bool {
    sha256(token.as_bytes()).ct_eq(hash).into()
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(operator(req))
    }
}

fn operator(req: &HttpRequest) -> Result<Operator, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = bearer(req)?
        .ok_or_else(|| ApiError::unauthorized("missing_token", "an operator token is required"))?;
    if token_matches(token, &state.admin_token_hash) {
        Ok(Operator)
    } else {
        Err(ApiError::unauthorized(
            "invalid_token",
            "the token is not valid for this route",
        ))
    }
}

/// Permission to have `POST /credentials/issue` sign: the operator token or the configured
/// VC-API client token, or anyone when the operator opened the route
/// ([`crate::config::Settings::vcapi_issue_open`]).
#[derive(Debug, Clone, Copy)]
pub struct VcApiClient;

impl FromRequest for VcApiClient {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(vcapi_client(req))
    }
}

fn vcapi_client(req: &HttpRequest) -> Result<VcApiClient, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = bearer(req)?;
    if state.settings.vcapi_issue_open && token.is_none() {
        return Ok(VcApiClient);
    }
    let token = token.ok_or_else(|| {
        ApiError::unauthorized(
            "missing_token",
            "this registry signs VC-API credentials only for its configured client",
        )
    })?;
    let client = state
        .vcapi_client_hash
        .is_some_and(|hash| token_matches(token, &hash));
    if client || token_matches(token, &state.admin_token_hash) {
        Ok(VcApiClient)
    } else {
        Err(invalid_token())
    }
}

/// Proof that the caller holds a read token of this issuer (suspended issuers still read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub uscc: Uscc,
}

impl FromRequest for Issuer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let found = state_and_token(req, "an issuer token is required");
        Box::pin(async move {
            let (state, token) = found?;
            issuer_for(&state, &token).await
        })
    }
}

/// The operator or an issuer: for reads an issuer may make of its own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorOrIssuer {
    Operator,
    Issuer(Uscc),
}

impl OperatorOrIssuer {
    /// Refuses an issuer asking about another issuer's data.
    pub fn may_read(&self, issuer: &Uscc) -> Result<(), ApiError> {
        match self {
            Self::Issuer(own) if own != issuer => Err(ApiError::forbidden(
                "not_your_issuer",
                "an issuer token reads only its own issuer's data",
            )),
            _ => Ok(()),
        }
    }
}

impl FromRequest for OperatorOrIssuer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let found = state_and_token(req, "an operator or issuer token is required");
        Box::pin(async move {
            let (state, token) = found?;
            if token_matches(&token, &state.admin_token_hash) {
                return Ok(Self::Operator);
            }
            issuer_for(&state, &token)
                .await
                .map(|i| Self::Issuer(i.uscc))
        })
    }
}

fn state_and_token(
    req: &HttpRequest,
    missing: &'static str,
) -> Result<(web::Data<AppState>, String), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = bearer(req)?.ok_or_else(|| ApiError::unauthorized("missing_token", missing))?;
    Ok((state, token.to_owned()))
}

async fn issuer_for(state: &AppState, token: &str) -> Result<Issuer, ApiError> {
    match state
        .store
        .issuer_by_token(&sha256(token.as_bytes()))
        .await?
    {
        Some(uscc) => Ok(Issuer { uscc }),
        None => Err(ApiError::unauthorized(
            "invalid_token",
            "the token is not valid for this route",
        )),
    }
}

/// A fresh random 256-bit token, hex-encoded.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Proof that the caller presents an unrevoked API key of this agency. Scope checks are the
/// handler's: [`Agency::require`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency(pub crate::domain::agency::Agency);

impl Agency {
    /// Refuses (403 `scope_missing`) a key without `scope`.
    pub fn require(&self, scope: crate::domain::agency::Scope) -> Result<&Self, ApiError> {
        if self.0.has(scope) {
            Ok(self)
        } else {
            Err(ApiError::forbidden(
                "scope_missing",
                format!("this agency key lacks the {scope} scope"),
            ))
        }
    }

    pub fn uscc(&self) -> &Uscc {
        &self.0.uscc
    }
}

impl FromRequest for Agency {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let found = state_and_token(req, "an agency API key is required");
        Box::pin(async move {
            let (state, token) = found?;
            match state.store.agency_by_key(&sha256(token.as_bytes())).await? {
                Some(agency) => Ok(Self(agency)),
                None => Err(invalid_token()),
            }
        })
    }
}

/// Proof that the caller presents an unexpired holder token (issued by the identity provider,
/// for which `POST /v1/holders/{holder id}/tokens` stands in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: crate::domain::identifiers::HolderId,
}

impl FromRequest for Holder {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let found = state_and_token(req, "a holder token is required");
        Box::pin(async move {
            let (state, token) = found?;
            let hash = sha256(token.as_bytes());
            match state
                .store
                .holder_by_token(&hash, chrono::Utc::now())
                .await?
            {
                Some(id) => Ok(Self { id }),
                None => Err(invalid_token()),
            }
        })
    }
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized("invalid_token", "the token is not valid for this route")
}
