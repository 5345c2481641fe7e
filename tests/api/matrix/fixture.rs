//! The matrix's world, built through the API: issuers A and B, each with a licence for its
//! holder (A's for the citizen, B's for another person); agencies A and B, each handling its
//! own matter and holding an application and a consent for its holder's licence; the twelve
//! principals of the table's columns; and the bodies each route is called with.

use chrono::{Duration, Utc};
use elicence::crypto::digest::sha256;
use elicence::crypto::keys::KeyPair;
use elicence::domain::identifiers::HolderId;
use serde_json::{json, Value};

use super::table::{Side, Who};
use crate::support::app::{json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::directory::{new_type_body, NEW_CODE};
use crate::support::people::{agency, holder_token, licence_for, matter, CITIZEN, OTHER};
use crate::support::signing::{items, setup_issuer, uscc, TestIssuer, AUTHORITY, TYPE_CODE};

/// A bearer token nobody was given.
const WRONG_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// A valid resident ID nobody holds anything under.
const NOBODY: &str = "110101199003070011";

/// What one side (A or B) owns, as the strings that go into paths and bodies.
#[derive(Debug, Clone)]
pub struct Owned {
    pub issuer: String,
    pub issuer_key: String,
    pub grant: String,
    pub licence: String,
    pub licence_document: Value,
    pub envelope: Value,
    pub agency: String,
    pub agency_key: String,
    pub matter: String,
    pub application: String,
    pub holder: String,
    pub consent: String,
    pub presentation: String,
}

/// Everything the table's rows are run against.
pub struct Fixture {
    a: Owned,
    b: Owned,
    missing_a: Owned,
    missing_b: Owned,
    tokens: Vec<(Who, String)>,
}

/// One side's issuer, agency, matter and holder, before its application and consent.
struct Start {
    issuer: TestIssuer,
    owned: Owned,
    agency_token: String,
    holder_token: String,
}

impl Fixture {
    pub async fn build(app: &TestApp) -> Fixture {
        let mut a = start(
            app,
            "91220101MA0000001",
            "11220000MB0000001",
            "MA",
            CITIZEN,
            "A1",
        )
        .await;
        let mut b = start(
            app,
            "91220101MA0000002",
            "11220000MB0000003",
            "MB",
            OTHER,
            "B1",
        )
        .await;
        let (_, no_scope) = agency(app, "11220000MB0000002", &[]).await;
        let revoked = revoked_key(app, &a.owned.agency).await;
        let expired = expired_holder_token(app, CITIZEN).await;
        for side in [&mut a, &mut b] {
            finish(app, side).await;
        }
        let tokens = vec![
            (Who::Wrong, WRONG_TOKEN.to_owned()),
            (Who::Oper, ADMIN_TOKEN.to_owned()),
            (Who::IssA, a.issuer.token.clone()),
            (Who::IssB, b.issuer.token.clone()),
            (Who::AgA, a.agency_token.clone()),
            (Who::AgB, b.agency_token.clone()),
            (Who::AgN, no_scope),
            (Who::AgX, revoked),
            (Who::HolA, a.holder_token.clone()),
            (Who::HolB, b.holder_token.clone()),
            (Who::HolX, expired),
        ];
        Fixture {
            missing_a: missing(&a.issuer, &a.owned),
            missing_b: missing(&b.issuer, &b.owned),
            a: a.owned,
            b: b.owned,
            tokens,
        }
    }

    /// The bearer token of `who` (none for the anonymous caller).
    pub fn token(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, t)| t.as_str())
    }

    pub fn owned(&self, side: Side) -> &Owned {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
            Side::MissingA => &self.missing_a,
            Side::MissingB => &self.missing_b,
        }
    }

    /// For holder A's and holder B's tokens, what the other holder owns.
    pub fn other_holder(&self, who: Who) -> Option<&Owned> {
        match who {
            Who::HolA | Who::HolX => Some(&self.b),
            Who::HolB => Some(&self.a),
            _ => None,
        }
    }

    /// The resident IDs of the holders (what no refusal may carry).
    pub fn resident_ids(&self) -> [&'static str; 2] {
        [CITIZEN, OTHER]
    }

    /// `path` with the fixture's placeholders filled from `side`'s resources.
    pub fn path(&self, path: &str, side: Side) -> String {
        let o = self.owned(side);
        let values = [
            ("{type}", TYPE_CODE),
            ("{version}", "1"),
            ("{new_type}", NEW_CODE),
            ("{issuer}", &o.issuer),
            ("{issuer_key}", &o.issuer_key),
            ("{grant}", &o.grant),
            ("{licence}", &o.licence),
            ("{agency}", &o.agency),
            ("{agency_key}", &o.agency_key),
            ("{application}", &o.application),
            ("{holder}", &o.holder),
            ("{consent}", &o.consent),
            ("{presentation}", &o.presentation),
            ("{purpose}", "revocation"),
            ("{list}", "0"),
        ];
        let filled = values
            .iter()
            .fold(path.to_owned(), |p, (k, v)| p.replace(k, v));
        assert!(!filled.contains('{'), "unknown placeholder in {path}");
        filled
    }

    /// The body a route is called with: one that succeeds for the principal the table lets
    /// through (so that a refusal can only come from who is calling).
    pub fn body(&self, method: &str, path: &str, side: Side) -> Option<Value> {
        let o = self.owned(side);
        let body = match (method, path) {
            ("POST", "/v1/licence-types") => new_type_body(NEW_CODE),
            ("POST", "/v1/licence-types/{new_type}/versions") => {
                let mut schema = new_type_body(NEW_CODE)["schema"].clone();
                schema["properties"]["remark"] = json!({"type": "string", "title": "备注"});
                json!({"schema": schema})
            }
            ("POST", "/v1/licence-types/{new_type}/transfer") => json!({
                "definingAuthority": {"name": "吉林省公安厅", "uscc": "11220000013544541J", "level": 2},
                "reason": "机构改革",
            }),
            ("POST", "/v1/issuers") => {
                json!({"uscc": uscc("91220101MA0000009"), "name": "矩阵签发机构"})
            }
            ("POST", "/v1/issuers/{issuer}/keys") => json!({
                "publicKey": KeyPair::generate().multikey(), "validFrom": "2020-01-01T00:00:00Z",
            }),
            ("POST", "/v1/authorisations") => grant_body(&self.a.issuer, "2203"),
            ("POST", "/v1/authorisations/{grant}/withdraw") => {
                json!({"at": "2027-03-01T00:00:00Z", "reason": "合同终止"})
            }
            ("POST", "/v1/submissions") => self.owned(side.shape()).envelope.clone(),
            ("POST", "/v1/verify") => json!({"credential": o.licence_document}),
            ("POST", "/v1/verify/batch") => {
                json!({"items": [{"credential": o.licence_document}], "purpose": "矩阵"})
            }
            ("POST", "/credentials/verify") => {
                json!({"verifiableCredential": o.licence_document})
            }
            ("POST", "/credentials/issue") => {
                let mut credential = o.licence_document.clone();
                credential.as_object_mut().map(|c| c.remove("proof"));
                json!({"credential": credential})
            }
            ("POST", "/v1/agencies") => json!({
                "uscc": uscc("11220000MB0000009"), "name": "矩阵政务服务中心",
                "jurisdiction": "22", "scopes": [],
            }),
            ("POST", "/v1/matters") => json!({
                "code": "MC", "name": "矩阵事项", "agency": self.a.agency,
                "requirements": [{"typeCode": TYPE_CODE}],
            }),
            ("POST", "/v1/applications") => application_body(o),
            ("POST", "/v1/holder/applications") => {
                json!({"matter": o.matter, "licences": [o.licence], "useCause": "矩阵"})
            }
            ("POST", "/v1/consents") => consent_body(o),
            ("POST", "/v1/presentations") => presentation_body(&o.licence),
            ("POST", _) => json!({}),
            _ => return None,
        };
        Some(body)
    }
}

/// Issuer (with a second, spare key and a spare grant), its accepted licence for `holder`, the
/// agency handling `matter_code`, and the holder's token.
async fn start(
    app: &TestApp,
    issuer_prefix: &str,
    agency_prefix: &str,
    matter_code: &str,
    holder: &str,
    serial: &str,
) -> Start {
    let mut issuer = setup_issuer(app, issuer_prefix).await;
    let licence = licence_for(&issuer, serial, holder, (2026, 2030));
    let envelope = issuer.envelope(items(&[&licence]));
    json_with_status(app.submit(&envelope).await, 201).await;
    issuer.accepted(&envelope);
    let spare = KeyPair::generate();
    let path = format!("/v1/issuers/{}/keys", issuer.uscc);
    let body = json!({"publicKey": spare.multikey(), "validFrom": "2020-01-01T00:00:00Z"});
    json_with_status(app.post_admin(&path, &body).await, 201).await;
    let grant = json_with_status(
        app.post_admin(
            "/v1/authorisations",
            &grant_body(issuer.uscc.as_str(), "2202"),
        )
        .await,
        201,
    )
    .await;
    let (agency_uscc, agency_token) =
        agency(app, agency_prefix, &["verify", "applications", "read"]).await;
    matter(app, matter_code, &agency_uscc, &[TYPE_CODE]).await;
    let spare_key = json_with_status(
        app.post_admin(&format!("/v1/agencies/{agency_uscc}/keys"), &json!({}))
            .await,
        201,
    )
    .await;
    let owned = Owned {
        issuer: issuer.uscc.to_string(),
        issuer_key: spare.multikey(),
        grant: text(&grant["id"]),
        licence: text(&licence["id"]),
        licence_document: licence,
        envelope,
        agency: agency_uscc.to_string(),
        agency_key: spare_key["keyId"].to_string(),
        matter: matter_code.to_owned(),
        application: String::new(),
        holder: holder.to_owned(),
        consent: String::new(),
        presentation: String::new(),
    };
    Start {
        issuer,
        owned,
        agency_token,
        holder_token: holder_token(app, holder).await,
    }
}

/// The side's application (filed by its agency), consent (its holder's, to its agency) and
/// presentation (its holder's, any number of scans). The application stays pending until the
/// table's approve line, where its holder approves it.
async fn finish(app: &TestApp, side: &mut Start) {
    let o = &mut side.owned;
    let agency_key = Some(side.agency_token.as_str());
    let holder = Some(side.holder_token.as_str());
    let filed = app
        .call(
            "POST",
            "/v1/applications",
            agency_key,
            Some(&application_body(o)),
        )
        .await;
    o.application = text(&json_with_status(filed, 201).await["id"]);
    let consent = app
        .call("POST", "/v1/consents", holder, Some(&consent_body(o)))
        .await;
    o.consent = text(&json_with_status(consent, 201).await["id"]);
    let presented = app
        .call(
            "POST",
            "/v1/presentations",
            holder,
            Some(&presentation_body(&o.licence)),
        )
        .await;
    o.presentation = text(&json_with_status(presented, 201).await["token"]);
}

/// Resources shaped like `owned` that do not exist: same issuer segment, matter and agency
/// in bodies, unknown identifiers everywhere else.
fn missing(issuer: &TestIssuer, owned: &Owned) -> Owned {
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut licence_document = owned.licence_document.clone();
    licence_document["id"] = json!(issuer.licence_id("NOPE", 1).urn());
    Owned {
        issuer: uscc("91220101MA0000008").to_string(),
        issuer_key: KeyPair::generate().multikey(),
        grant: unknown.clone(),
        licence: issuer.licence_id("NOPE", 1).urn(),
        licence_document,
        envelope: owned.envelope.clone(),
        agency: uscc("11220000MB0000008").to_string(),
        agency_key: "999999".to_owned(),
        matter: owned.matter.clone(),
        application: unknown.clone(),
        holder: NOBODY.to_owned(),
        consent: unknown,
        presentation: "a".repeat(owned.presentation.len()),
    }
}

/// A second key of `agency`, revoked at once; answers the key.
async fn revoked_key(app: &TestApp, agency: &str) -> String {
    let added = json_with_status(
        app.post_admin(&format!("/v1/agencies/{agency}/keys"), &json!({}))
            .await,
        201,
    )
    .await;
    let path = format!("/v1/agencies/{agency}/keys/{}/revoke", added["keyId"]);
    json_with_status(app.post_admin(&path, &json!({})).await, 200).await;
    text(&added["apiKey"])
}

/// A token of `holder` that expired an hour ago. The API mints tokens valid from now on only
/// (`validForSeconds` ≥ 1), so this one goes in through the store, as the API would store it.
async fn expired_holder_token(app: &TestApp, holder: &str) -> String {
    let token = elicence::auth::random_token();
    let id = HolderId::parse_bare(holder).expect("valid resident ID");
    let now = Utc::now();
    app.state
        .store
        .insert_holder_token(
            &id,
            &sha256(token.as_bytes()),
            now - Duration::hours(2),
            now - Duration::hours(1),
        )
        .await
        .expect("token stored");
    token
}

fn grant_body(issuer: &str, jurisdiction: &str) -> Value {
    json!({
        "issuer": issuer, "typeCodes": [TYPE_CODE], "jurisdiction": jurisdiction,
        "validFrom": "2020-01-01T00:00:00Z", "grantedBy": AUTHORITY,
    })
}

fn application_body(o: &Owned) -> Value {
    json!({"matter": o.matter, "applicant": o.holder_of_licence(), "licences": [o.licence], "useCause": "矩阵"})
}

fn consent_body(o: &Owned) -> Value {
    json!({"agency": o.agency, "licences": [o.licence], "purpose": "矩阵", "until": "2099-01-01T00:00:00Z"})
}

fn presentation_body(licence: &str) -> Value {
    json!({"licence": licence, "singleUse": false, "lifetimeSeconds": 3600})
}

impl Owned {
    /// The holder named in the side's licence (a missing side keeps its shape's holder).
    fn holder_of_licence(&self) -> String {
        let subject = &self.licence_document["credentialSubject"]["id"];
        text(subject).trim_start_matches("urn:cn:rid:").to_owned()
    }
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}
