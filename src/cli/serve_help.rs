//! What `elicence serve --help` says about configuration: every `ELICENCE_*` setting the
//! service reads, with its default. The table is checked against [`Settings::load`]'s defaults
//! by a test, so that the help cannot drift from what the service does.

use std::fmt::Write as _;

#[cfg(test)]
use crate::config::Settings;

/// One setting: its environment variable, its default as text (`None`: unset), and its meaning.
struct Row {
    env: &'static str,
    default: Option<&'static str>,
    meaning: &'static str,
}

const fn row(env: &'static str, default: Option<&'static str>, meaning: &'static str) -> Row {
    Row {
        env,
        default,
        meaning,
    }
}

/// The settings of [`crate::config::Settings`], by environment variable (the field's name in
/// upper case behind `ELICENCE_`; a TOML file takes the field names).
const SETTINGS: &[Row] = &[
    row("ELICENCE_LISTEN", Some("127.0.0.1:8080"), "host:port to listen on"),
    row("ELICENCE_PUBLIC_URL", Some("http://127.0.0.1:8080"), "base URL in QR codes, links and the registry's did:web"),
    row("ELICENCE_DATABASE_URL", Some("sqlite://data/registry.db"), "sqlite://… or postgres://…"),
    row("ELICENCE_DATA_DIR", Some("data"), "where the generated operator token is written"),
    row("ELICENCE_KEYS_DIR", Some("keys"), "the registry's signing keys (created on first start)"),
    row("ELICENCE_ADMIN_TOKEN", None, "the operator's token, 16+ characters; unset: generated into <data dir>/admin-token (set, that file is ignored)"),
    row("ELICENCE_LOG_FORMAT", Some("text"), "text or json"),
    row("ELICENCE_BODY_LIMIT", Some("1048576"), "largest request body, in bytes"),
    row("ELICENCE_SUBMISSION_LIMIT", Some("8388608"), "largest submission envelope, in bytes"),
    row("ELICENCE_SEED", Some("true"), "seed the directory of licence types at start-up"),
    row("ELICENCE_SEED_DIR", None, "seed from this directory instead of the types built in"),
    row("ELICENCE_TRUST_BUNDLE_INTERVAL", Some("86400"), "seconds from a trust bundle's issuedAt to its nextUpdate"),
    row("ELICENCE_SIGNATURE_MAX_AGE_DAYS", Some("7"), "how many days before receipt a licence may have been signed"),
    row("ELICENCE_SUBMISSION_AUTH_SLOTS", Some("64"), "submissions checked at once before 503 intake_busy"),
    row("ELICENCE_SUBMISSION_AUTH_BYTES", Some("33554432"), "bytes of those submissions' bodies at once before 503 intake_busy"),
    row("ELICENCE_VCAPI_ISSUE_OPEN", Some("false"), "let anyone use POST /credentials/issue (test registries only)"),
    row("ELICENCE_VCAPI_CLIENT_TOKEN", None, "bearer token of a VC-API test client, 16+ characters"),
    row("ELICENCE_VCAPI_ISSUE_RATE", Some("5"), "credentials per second per client address that /credentials/issue signs; 0: no limit"),
    row("ELICENCE_VCAPI_ISSUE_BURST", Some("50"), "how many of them at once before the rate applies"),
    row("ELICENCE_OIDC_ISSUER", None, "the identity provider for holders' sign-in (docs/oidc.md)"),
    row("ELICENCE_OIDC_CLIENT_ID", None, "this registry's client id at the provider"),
    row("ELICENCE_OIDC_CLIENT_SECRET", None, "its client secret"),
    row("ELICENCE_OIDC_HOLDER_CLAIM", Some("resident_id"), "the ID token claim naming the holder"),
];

/// What the service reads besides [`SETTINGS`].
const OTHERS: &[Row] = &[
    row(
        "ELICENCE_CONFIG",
        Some("elicence.toml, when present"),
        "a TOML file of the settings above (--config)",
    ),
    row(
        "ELICENCE_VERIFY_RATE_LIMIT",
        Some("100/1000"),
        "anonymous verification per client address: <per second>[/<burst>]; 0: no limit",
    ),
    row("RUST_LOG", Some("info"), "log filter, e.g. elicence=debug"),
];

/// The text after `serve --help`'s options.
pub fn text() -> String {
    let mut out = String::from(
        "Settings (environment variables; defaults, then the TOML file, then the environment):\n",
    );
    for r in SETTINGS.iter().chain(OTHERS) {
        let default = r.default.unwrap_or("unset");
        let _ = write!(
            out,
            "\n  {}\n      {} [default: {default}]",
            r.env, r.meaning
        );
    }
    out.push_str(
        "\n\nSee docs/operations.md for PostgreSQL, several instances, backups and key rotation.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field names of a pretty `Debug` of [`Settings`].
    fn fields(debug: &str) -> Vec<String> {
        debug
            .lines()
            .filter_map(|l| l.strip_prefix("    "))
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_once(':').map(|(name, _)| name.to_owned()))
            .collect()
    }

    fn field(env: &str) -> String {
        env.trim_start_matches("ELICENCE_").to_ascii_lowercase()
    }

    #[test]
    fn the_table_holds_the_defaults_the_service_loads() {
        let mut builder = config::Config::builder();
        for r in SETTINGS {
            if let Some(default) = r.default {
                builder = builder.set_default(field(r.env), default).unwrap();
            }
        }
        let from_table: Settings = builder.build().unwrap().try_deserialize().unwrap();
        let loaded = Settings::load(None).expect("the defaults load");
        assert_eq!(format!("{from_table:#?}"), format!("{loaded:#?}"));
    }

    #[test]
    fn every_setting_has_a_row() {
        let loaded = format!("{:#?}", Settings::load(None).unwrap());
        let mut names = fields(&loaded);
        assert!(names.len() > 10, "{loaded}");
        let mut rows: Vec<String> = SETTINGS.iter().map(|r| field(r.env)).collect();
        names.sort();
        rows.sort();
        assert_eq!(
            rows, names,
            "SETTINGS should have one row for each field of Settings"
        );
    }

    #[test]
    fn the_help_shows_each_variable_with_its_default() {
        let help = text();
        assert!(help.contains("  ELICENCE_DATABASE_URL\n      sqlite://… or postgres://… [default: sqlite://data/registry.db]"));
        assert!(help.contains("ELICENCE_ADMIN_TOKEN") && help.contains("[default: unset]"));
        assert!(help.contains("ELICENCE_VERIFY_RATE_LIMIT"));
    }
}
