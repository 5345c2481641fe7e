//! A licence's standing at a given time, for "was it valid then?" (`at` in a verify request).
//!
//! What the registry keeps per licence is its latest state: the status its events led to, and
//! its newest version. That is also the answer at `at` unless an event took effect after `at`
//! (a status change dated after the time asked about, or not yet in force now) or the head
//! version only became valid after it. Only then is the licence's history read, and the
//! standing rebuilt from it:
//!
//! - status: the events whose `effectiveFrom` is at or before `at`, in log order, the last one
//!   deciding (suspend → suspended, resume → active, revoke → revoked); none → active;
//! - head: the newest version, from the one asked about up, that was valid from at or before
//!   `at` (a renewal supersedes from its own `validFrom`; the version asked about stands for
//!   itself even if `at` precedes it, and the validity period check says so).
//!
//! What is read is the registry's knowledge now: a revocation submitted today but effective
//! from last month makes the licence revoked last month.

use chrono::{DateTime, Utc};

use crate::domain::licence::{LicenceState, StatusAction};
use crate::storage::{LicenceHistory, LicenceStanding, StoreError};

/// Whether the standing may differ at `at` from the latest one.
pub(super) fn needs_history(standing: &LicenceStanding, at: DateTime<Utc>) -> bool {
    standing.since.is_some_and(|since| since > at)
        || (standing.head != standing.id && standing.head_valid_from > at)
}

/// The standing at `at`, rebuilt from the licence's whole history (see the module doc).
pub(super) fn standing_at(
    standing: &LicenceStanding,
    history: &LicenceHistory,
    at: DateTime<Utc>,
) -> Result<LicenceStanding, StoreError> {
    let mut state = LicenceState::Active;
    let mut since = None;
    for event in history.events.iter().filter(|e| e.effective_from <= at) {
        state = match event.action {
            StatusAction::Suspend => LicenceState::Suspended,
            StatusAction::Resume => LicenceState::Active,
            StatusAction::Revoke => LicenceState::Revoked,
        };
        since = Some(event.effective_from);
    }
    let mut head = (standing.id.clone(), None);
    for version in &history.versions {
        if version.id.version() <= standing.id.version() {
            continue;
        }
        let window = validity(&version.document)?;
        if window.0 <= at && version.id.version() > head.0.version() {
            head = (version.id.clone(), Some(window));
        }
    }
    let (head, window) = head;
    let (head_valid_from, head_valid_until) = match window {
        Some(window) => window,
        None if standing.head == standing.id => {
            (standing.head_valid_from, standing.head_valid_until)
        }
        None => own_window(standing, history)?,
    };
    Ok(LicenceStanding {
        head,
        head_valid_from,
        head_valid_until,
        state,
        since,
        ..standing.clone()
    })
}

/// The validity window of the version the standing is about.
fn own_window(
    standing: &LicenceStanding,
    history: &LicenceHistory,
) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
    let own = history
        .versions
        .iter()
        .find(|v| v.id == standing.id)
        .ok_or_else(|| StoreError::corrupt("a registered version is missing from its history"))?;
    validity(&own.document)
}

/// `validFrom` and `validUntil` of a stored credential (checked when it was accepted).
fn validity(document: &serde_json::Value) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
    let time = |name: &str| {
        document
            .get(name)
            .and_then(serde_json::Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| StoreError::corrupt(format!("a stored licence has no valid {name}")))
    };
    Ok((time("validFrom")?, time("validUntil")?))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::identifiers::LicenceId;
    use crate::storage::{StoredEvent, StoredLicence};

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, d, 0, 0, 0).unwrap()
    }

    fn id(version: u16) -> LicenceId {
        let type_code = "11100000000013338W032".parse().unwrap();
        let issuer = "11220000013544541J".parse().unwrap();
        LicenceId::build(&type_code, &issuer, "2430599", version).unwrap()
    }

    fn version(v: u16, valid_from: DateTime<Utc>) -> StoredLicence {
        StoredLicence {
            id: id(v),
            digest: format!("uEi{v}"),
            document: json!({"validFrom": valid_from.to_rfc3339(), "validUntil": "2027-01-01T00:00:00Z"}),
            envelope: "uEiE".into(),
            leaf_index: u64::from(v),
            accepted_at: day(28),
        }
    }

    fn event(action: StatusAction, effective: DateTime<Utc>, leaf: u64) -> StoredEvent {
        StoredEvent {
            licence: id(1),
            action,
            reason: "测试".into(),
            effective_from: effective,
            digest: format!("uEiS{leaf}"),
            previous: "uEiP".into(),
            envelope: "uEiE".into(),
            leaf_index: leaf,
            accepted_at: day(28),
        }
    }

    /// The latest standing of version `v` given the history (what the store answers).
    fn latest(v: u16, history: &LicenceHistory) -> LicenceStanding {
        let head = history.versions.last().unwrap();
        let window = validity(&head.document).unwrap();
        LicenceStanding {
            id: id(v),
            digest: format!("uEi{v}"),
            leaf_index: u64::from(v),
            leaf_hash: [0; 32],
            head: head.id.clone(),
            head_valid_from: window.0,
            head_valid_until: window.1,
            state: history.state,
            since: history.events.last().map(|e| e.effective_from),
        }
    }

    fn history(versions: Vec<StoredLicence>, events: Vec<StoredEvent>) -> LicenceHistory {
        LicenceHistory {
            state: LicenceState::Revoked,
            versions,
            events,
        }
    }

    #[test]
    fn status_follows_the_events_in_force_at_the_time() {
        let h = history(
            vec![version(1, day(1))],
            vec![
                event(StatusAction::Suspend, day(10), 5),
                event(StatusAction::Resume, day(12), 6),
                event(StatusAction::Revoke, day(20), 7),
            ],
        );
        let s = latest(1, &h);
        let state_at = |d| {
            let at = day(d);
            let rebuilt = standing_at(&s, &h, at).unwrap();
            (needs_history(&s, at), rebuilt.state, rebuilt.since)
        };
        assert_eq!(state_at(5), (true, LicenceState::Active, None));
        assert_eq!(state_at(11), (true, LicenceState::Suspended, Some(day(10))));
        assert_eq!(state_at(15), (true, LicenceState::Active, Some(day(12))));
        assert_eq!(state_at(20), (false, LicenceState::Revoked, Some(day(20))));
        assert_eq!(standing_at(&s, &h, day(25)).unwrap(), s);
    }

    #[test]
    fn an_event_dated_before_an_earlier_one_counts_from_its_own_date() {
        // Log order: a suspension from the 10th, then a revocation backdated to the 5th.
        let h = history(
            vec![version(1, day(1))],
            vec![
                event(StatusAction::Suspend, day(10), 5),
                event(StatusAction::Revoke, day(5), 6),
            ],
        );
        let s = latest(1, &h);
        let at = day(11);
        assert!(!needs_history(&s, at));
        assert_eq!(
            standing_at(&s, &h, at).unwrap().state,
            LicenceState::Revoked
        );
        let before = standing_at(&s, &h, day(4)).unwrap();
        assert_eq!((before.state, before.since), (LicenceState::Active, None));
    }

    #[test]
    fn a_renewal_supersedes_from_its_own_valid_from() {
        let h = history(
            vec![version(1, day(1)), version(2, day(15)), version(3, day(20))],
            vec![],
        );
        let s = latest(1, &h);
        let head_at = |d| {
            let rebuilt = standing_at(&s, &h, day(d)).unwrap();
            (
                needs_history(&s, day(d)),
                rebuilt.head.version(),
                rebuilt.head_valid_from,
            )
        };
        assert_eq!(head_at(10), (true, 1, day(1)));
        assert_eq!(head_at(16), (true, 2, day(15)));
        assert_eq!(head_at(25), (false, 3, day(20)));
        // The head version asked about itself needs nothing.
        assert!(!needs_history(&latest(3, &h), day(2)));
    }
}
