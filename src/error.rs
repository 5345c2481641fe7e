//! The HTTP error: RFC 9457 problem details with a stable machine-readable `code`.
//!
//! Every refusal the API makes goes through [`ApiError`]. The status is chosen by an explicit
//! match; 5xx bodies never carry the internal cause, which is logged instead.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::storage::StoreError;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A body within the size limit whose parsed structure would not be (413).
    #[error("{0}")]
    TooComplex(String),
    #[error("expected Content-Type application/json")]
    UnsupportedMediaType,
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("too many requests")]
    TooManyRequests,
    #[error("service unavailable")]
    Unavailable,
    /// Working at capacity: retry shortly (503 with `Retry-After`).
    #[error("{detail}")]
    Busy { code: &'static str, detail: String },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            detail: detail.into(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    /// 410: the thing existed and is no longer available (an expired presentation).
    pub fn gone(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Gone {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// 503 `insufficient_storage`: the database has no room to write; nothing was stored.
    pub fn storage_full() -> Self {
        Self::Busy {
            code: "insufficient_storage",
            detail:
                "the registry's storage is full; nothing of this request was stored: retry later"
                    .into(),
        }
    }

    /// Adds a member to the problem document (400, 409 and 422 only).
    pub fn with(mut self, key: &str, value: Value) -> Self {
        if let Self::BadRequest { extra, .. }
        | Self::Conflict { extra, .. }
        | Self::Unprocessable { extra, .. } = &mut self
        {
            extra.insert(key.to_owned(), value);
        }
        self
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Gone { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Busy { code, .. } => code,
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::TooComplex(_) => "json_too_complex",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::not_found("not_found", format!("{what} not found")),
            StoreError::Conflict(what) => Self::conflict("conflict", what),
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "database unavailable");
                Self::Unavailable
            }
            other if other.is_storage_full() => {
                tracing::error!(error = %other, "database storage full");
                Self::storage_full()
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Gone { .. } => StatusCode::GONE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } | Self::TooComplex(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
            "The service could not complete the request. It has been logged.".to_owned()
        } else {
            self.to_string()
        };
        let mut body = json!({
            "type": format!("urn:elicence:problem:{}", self.code()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": self.code(),
            "detail": detail,
        });
        if let (
            Self::BadRequest { extra, .. }
            | Self::Conflict { extra, .. }
            | Self::Unprocessable { extra, .. },
            Value::Object(map),
        ) = (self, &mut body)
        {
            map.extend(extra.clone());
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if matches!(self, Self::Unauthorized { .. }) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if matches!(self, Self::Unavailable | Self::Busy { .. }) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.body(body.to_string())
    }
}

/// The 429 for a client that must wait `wait` before its next request, with `Retry-After` in
/// whole seconds (at least one).
pub fn rate_limited(wait: std::time::Duration) -> HttpResponse {
    let mut response = ApiError::TooManyRequests.error_response();
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(value) = header::HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A problem+json 404 for routes that do not exist.
pub async fn unknown_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", "no such route"))
}
