//! The verdict a scanner sees: valid only when the presented version is the licence's head,
//! the issuer has not suspended or revoked it, and it is within its validity period. The
//! registry accepted the version only after checking its signature, key, authorisation and
//! schema (the write path), so those hold for any stored version.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::identifiers::LicenceId;
use crate::domain::licence::LicenceState;
use crate::storage::LicenceHistory;

/// Valid or not, and every reason why not.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub valid: bool,
    pub reasons: Vec<Reason>,
}

/// One reason a licence is not valid, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

const fn reason(code: &'static str, zh: &'static str, en: &'static str) -> Reason {
    Reason {
        code,
        zh: Cow::Borrowed(zh),
        en: Cow::Borrowed(en),
    }
}

/// The checks the stored state alone cannot answer, because they can change after the
/// registry accepted the licence (a key found compromised voids its signatures) or concern
/// the document itself: the verification engine's answer for them is added to the verdict.
const ENGINE_CHECKS: [&str; 5] = [
    "signature",
    "issuerKey",
    "authorisation",
    "schema",
    "registered",
];

/// Adds the failures of the engine's [`ENGINE_CHECKS`] to the verdict.
pub fn add_engine_failures(verdict: &mut Verdict, checks: &[crate::verify::Check]) {
    for check in checks {
        if !check.ok && ENGINE_CHECKS.contains(&check.name) {
            verdict.reasons.push(Reason {
                code: check.code,
                zh: check.message.zh.clone(),
                en: check.message.en.clone(),
            });
        }
    }
    verdict.valid = verdict.reasons.is_empty();
}

/// Judges version `id` of the licence in `history` at `now`; also answers its status word
/// (`active`, `suspended`, `revoked`, `superseded`, `expired`, `not_yet_valid`).
pub fn judge(
    history: &LicenceHistory,
    id: &LicenceId,
    now: DateTime<Utc>,
) -> (Verdict, &'static str) {
    let mut reasons = Vec::new();
    let mut status = history.state.as_str();
    match history.state {
        LicenceState::Active => {}
        LicenceState::Suspended => reasons.push(reason(
            "suspended",
            "证照已被发证机关暂停",
            "Suspended by the issuer",
        )),
        LicenceState::Revoked => reasons.push(reason(
            "revoked",
            "证照已被发证机关注销（吊销）",
            "Revoked by the issuer",
        )),
    }
    let version = history.versions.iter().find(|v| v.id == *id);
    if history.versions.last().map(|v| &v.id) != Some(id) {
        reasons.push(reason(
            "superseded",
            "已有更新版本，此版本不再有效",
            "Replaced by a newer version",
        ));
        status = if reasons.len() == 1 {
            "superseded"
        } else {
            status
        };
    }
    let time = |name: &str| {
        version
            .and_then(|v| v.document[name].as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    if time("validFrom").is_some_and(|from| now < from) {
        reasons.push(reason(
            "not_yet_valid",
            "尚未到有效期起始日",
            "Not yet valid",
        ));
        status = if reasons.len() == 1 {
            "not_yet_valid"
        } else {
            status
        };
    }
    if time("validUntil").is_some_and(|until| now >= until) {
        reasons.push(reason("expired", "已超过有效期", "Expired"));
        status = if reasons.len() == 1 {
            "expired"
        } else {
            status
        };
    }
    let valid = reasons.is_empty();
    (Verdict { valid, reasons }, status)
}
