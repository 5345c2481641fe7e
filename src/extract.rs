//! Request extractors: strict JSON bodies (size-limited, duplicate keys refused) and the error
//! handlers that turn actix's own extractor failures into problem details.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::crypto::strict_json::{self, StrictJsonError};
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body parsed strictly: at most the configured size, no duplicate keys at any depth,
/// then deserialised into `T`. The parsed [`Value`] is kept for signature checks.
#[derive(Debug)]
pub struct StrictJson<T> {
    pub value: T,
    pub raw: Value,
}

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1024 * 1024, |s| s.settings.body_limit);
        let json_type = is_json(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if json_type != Some(true) {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = read_limited(&mut payload, limit).await?;
            let raw = parse_body(&bytes, limit)?;
            let value = serde_json::from_value(raw.clone())
                .map_err(|e| ApiError::bad_request("invalid_request_body", clip(&e.to_string())))?;
            Ok(Self { value, raw })
        })
    }
}

/// An optional strict JSON body: an empty body (with or without a Content-Type) stands for
/// `T::default()`; anything else is read exactly as [`StrictJson`] reads it.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1024 * 1024, |s| s.settings.body_limit);
        let json_type = is_json(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(&mut payload, limit).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(T::default()));
            }
            if json_type != Some(true) {
                return Err(ApiError::UnsupportedMediaType);
            }
            let raw = parse_body(&bytes, limit)?;
            serde_json::from_value(raw)
                .map(Self)
                .map_err(|e| ApiError::bad_request("invalid_request_body", clip(&e.to_string())))
        })
    }
}

/// Whether the request declares a JSON body (`application/json` or `…+json`); `None` when it
/// declares nothing.
pub(crate) fn is_json(req: &HttpRequest) -> Option<bool> {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || m.ends_with("+json")
        })
}

/// Parses a body strictly, mapping failures to problem details.
pub fn parse_body(bytes: &[u8], limit: usize) -> Result<Value, ApiError> {
    strict_json::parse(bytes, limit).map_err(|e| match e {
        StrictJsonError::TooLarge { limit } => ApiError::PayloadTooLarge { limit },
        StrictJsonError::TooComplex { .. } => ApiError::TooComplex(e.to_string()),
        StrictJsonError::DuplicateKey { .. } => {
            ApiError::bad_request("duplicate_key", e.to_string())
        }
        other => ApiError::bad_request("malformed_json", other.to_string()),
    })
}

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_limited<S>(
    payload: &mut S,
    limit: usize,
) -> Result<web::BytesMut, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e: PayloadError| match e {
            PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
            other => ApiError::bad_request("body_unreadable", other.to_string()),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// actix `Json` failures as problem details.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::bad_request("invalid_request_body", clip(&e.to_string()))
        }
        other => ApiError::bad_request("malformed_json", clip(&other.to_string())),
    };
    api.into()
}

/// Query-string failures as problem details.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", clip(&err.to_string())).into()
}

/// Path-segment failures as problem details.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_path", clip(&err.to_string())).into()
}
