//! The words the pages show for the registry's codes (a licence's status, a type's, an
//! application's, a consent's, how and with what result a licence was used), in Chinese and in
//! English. The API keeps the codes; only the pages translate them.

/// `code` in Chinese and English. A code the table does not know comes back as itself, in
/// both languages, so that a new code shows (and a test fails) rather than disappears.
pub fn word(code: &str) -> (&str, &str) {
    match short(code) {
        Some(pair) => pair,
        None => verification(code).unwrap_or((code, code)),
    }
}

fn short(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        // A licence (and a consent, which shares these three).
        "active" => ("有效", "In force"),
        "suspended" => ("暂停", "Suspended"),
        "revoked" => ("已注销", "Revoked"),
        "superseded" => ("已被新版本取代", "Replaced by a newer version"),
        "expired" => ("已过期", "Expired"),
        "not_yet_valid" => ("尚未生效", "Not yet in force"),
        // A licence type.
        "draft" => ("草案", "Draft"),
        "published" => ("已发布", "Published"),
        "deprecated" => ("已停用", "Discontinued"),
        // An application, a consent.
        "pending" => ("待您同意", "Awaiting your approval"),
        "approved" => ("已同意", "Approved"),
        "declined" => ("已拒绝", "Declined"),
        "withdrawn" => ("已撤回", "Withdrawn"),
        // How a licence was used.
        "verify" => ("核验", "Verification"),
        "application" => ("办事申请", "Application"),
        "agency_read" => ("部门调阅", "Read by an agency"),
        "qr_scan" => ("扫码出示", "QR code scan"),
        // With what result.
        "valid" => ("有效", "Valid"),
        "read" => ("已调阅", "Read"),
        "fulfilled" => ("已提供", "Provided"),
        "not_verified" => ("未通过核验", "Not verified"),
        "not_found" => ("未找到", "Not found"),
        "invalid_licence_id" => ("证照标识无效", "Invalid licence identifier"),
        "wrong_type" => ("证照类型不符", "Wrong licence type"),
        "version_not_accepted" => ("证照版本不被接受", "Version not accepted"),
        "requirement_already_fulfilled" => ("材料已提供", "Already provided"),
        // A status change in a licence's history.
        "suspend" => ("暂停", "Suspended"),
        "resume" => ("恢复", "Resumed"),
        "revoke" => ("注销", "Revoked"),
        _ => return None,
    })
}

/// The verification engine's own words for a check code it knows.
fn verification(code: &str) -> Option<(&'static str, &'static str)> {
    let generic = crate::verify::messages::message("");
    let message = crate::verify::messages::message(code);
    if message.zh == generic.zh {
        return None;
    }
    match (message.zh, message.en) {
        (std::borrow::Cow::Borrowed(zh), std::borrow::Cow::Borrowed(en)) => Some((zh, en)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Channel;
    use crate::domain::application::ApplicationState;
    use crate::domain::licence::{LicenceState, StatusAction};
    use crate::domain::licence_type::TypeStatus;

    fn translated(code: &str) {
        let (zh, en) = word(code);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{code}: no Chinese word ({zh})"
        );
        assert!(en != code && !en.contains('_'), "{code}: no English word");
    }

    #[test]
    fn every_status_the_pages_show_has_words() {
        let licence = [
            LicenceState::Active,
            LicenceState::Suspended,
            LicenceState::Revoked,
        ];
        for code in licence.map(LicenceState::as_str) {
            translated(code);
        }
        for code in ["superseded", "expired", "not_yet_valid"] {
            translated(code);
        }
        let types = [
            TypeStatus::Draft,
            TypeStatus::Published,
            TypeStatus::Deprecated,
        ];
        for code in types.map(TypeStatus::as_str) {
            translated(code);
        }
        let applications = [
            ApplicationState::Pending,
            ApplicationState::Approved,
            ApplicationState::Declined,
            ApplicationState::Withdrawn,
        ];
        for code in applications.map(ApplicationState::as_str) {
            translated(code);
        }
        for state in ["active", "withdrawn", "expired"] {
            translated(state); // ConsentState, serialised in lower case
        }
        let channels = [
            Channel::Verify,
            Channel::Application,
            Channel::AgencyRead,
            Channel::QrScan,
        ];
        for code in channels.map(Channel::as_str) {
            translated(code);
        }
        let actions = [
            StatusAction::Suspend,
            StatusAction::Resume,
            StatusAction::Revoke,
        ];
        for code in actions.map(StatusAction::as_str) {
            translated(code);
        }
    }

    #[test]
    fn results_of_use_have_words_including_the_engines_codes() {
        for code in ["valid", "read", "fulfilled", "not_found", "key_compromised"] {
            translated(code);
        }
        assert_eq!(word("published"), ("已发布", "Published"));
        assert_eq!(
            word("signature_invalid").1,
            "The signature does not verify: the credential was altered or not signed by this key"
        );
    }

    #[test]
    fn an_unknown_code_shows_as_itself() {
        assert_eq!(
            word("brand_new_state"),
            ("brand_new_state", "brand_new_state")
        );
    }
}
