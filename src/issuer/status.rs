//! Status-change items: an issuer suspends, resumes or revokes one of its licences. The item
//! carries no proof of its own; the envelope's proof covers it.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::domain::identifiers::LicenceId;
use crate::domain::licence::StatusAction;
use crate::domain::time::seconds;

/// The envelope item `{"statusChange": {licence, action, reason, effectiveFrom, previous}}`.
/// `previous_digest` is the digest of the licence's previous status event, or of its head
/// version when it has none.
pub fn status_change(
    licence: &LicenceId,
    action: StatusAction,
    reason: &str,
    effective_from: DateTime<Utc>,
    previous_digest: &str,
) -> Value {
    json!({"statusChange": {
        "licence": licence.urn(),
        "action": action.as_str(),
        "reason": reason,
        "effectiveFrom": seconds(effective_from),
        "previous": previous_digest,
    }})
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn item_has_the_documented_shape() {
        let id: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
            .parse()
            .expect("vector");
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let item = status_change(&id, "revoke".parse().unwrap(), "吊销", at, "uEiAbc");
        assert_eq!(
            item,
            json!({"statusChange": {
                "licence": id.urn(), "action": "revoke", "reason": "吊销",
                "effectiveFrom": "2026-03-01T08:00:00Z", "previous": "uEiAbc"}})
        );
        assert!("delete".parse::<StatusAction>().is_err());
    }
}
