//! Parsing request fields into domain values, with the refusals every resource shares.

use chrono::{DateTime, Utc};

use crate::domain::identifiers::Uscc;
use crate::error::ApiError;

/// Parses a USCC, naming where it came from in the refusal.
pub(crate) fn parse_uscc(text: &str, field: &str) -> Result<Uscc, ApiError> {
    text.parse().map_err(|e| {
        ApiError::bad_request(
            "invalid_uscc",
            format!(
                "{field}: {:?} is not a USCC: {e}",
                text.chars().take(40).collect::<String>()
            ),
        )
    })
}

/// Parses an optional RFC 3339 time.
pub(crate) fn parse_time(
    text: Option<&str>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_time",
                    format!("{field}: not an RFC 3339 time ({e})"),
                )
            })
    })
    .transpose()
}

/// Refuses a window whose end is not after its start.
pub(crate) fn check_window(
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    if until.is_some_and(|u| u <= from) {
        return Err(ApiError::unprocessable(
            "invalid_window",
            "validUntil must be after validFrom",
        ));
    }
    Ok(())
}

/// Trims a free-text field; empty becomes `None`; longer than `max` characters is refused.
pub(crate) fn text_field(
    text: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(text) = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: at most {max} characters, no control characters"),
        ));
    }
    Ok(Some(text))
}

/// The largest count or position a request may name: the store's integers are signed 64-bit.
pub(crate) const MAX_POSITION: u64 = i64::MAX as u64;

/// Refuses (400 `invalid_query`) a count or position from a query past [`MAX_POSITION`].
pub(crate) fn position(value: u64, field: &str) -> Result<u64, ApiError> {
    if value > MAX_POSITION {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("{field}: at most {MAX_POSITION}"),
        ));
    }
    Ok(value)
}
