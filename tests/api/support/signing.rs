//! Test issuers: registered, keyed and authorised through the API, and able to build signed
//! licences, status changes and envelopes the way a real issuer's tooling would.

use chrono::{Duration, Utc};
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::crypto::proof::{sign, ProofOptions};
use elicence::domain::identifiers::{LicenceId, Uscc};
use serde_json::{json, Value};

use super::app::{json_with_status, TestApp};

/// The seeded type used by these tests: 律师执业证, person holders.
pub const TYPE_CODE: &str = "11100000000014062K001";
/// Its defining authority, which grants the authorisations.
pub const AUTHORITY: &str = "11100000000014062K";
/// The did:web host of test applications (`https://registry.test`).
pub const HOST: &str = "registry.test";

/// A registered issuer with one key and an authorisation for [`TYPE_CODE`] in 吉林省 (22).
pub struct TestIssuer {
    pub uscc: Uscc,
    pub did: String,
    pub key: KeyPair,
    pub token: String,
    /// The chain head this issuer believes in.
    pub sequence: u64,
    pub head: Option<String>,
}

impl TestIssuer {
    /// The same issuer signing with another key.
    pub fn with_key(&self, key: KeyPair) -> TestIssuer {
        TestIssuer {
            uscc: self.uscc.clone(),
            did: self.did.clone(),
            key,
            token: self.token.clone(),
            sequence: self.sequence,
            head: self.head.clone(),
        }
    }

    /// Registers a second key (valid from 2020) and revokes it an hour ago: a licence signed
    /// with it now is signed after its revocation.
    pub async fn add_revoked_key(&self, app: &TestApp) -> KeyPair {
        let key = KeyPair::generate();
        let path = format!("/v1/issuers/{}/keys", self.uscc);
        let body = json!({"publicKey": key.multikey(), "validFrom": "2020-01-01T00:00:00Z"});
        json_with_status(app.post_admin(&path, &body).await, 201).await;
        let path = format!("/v1/issuers/{}/keys/{}/revoke", self.uscc, key.multikey());
        let body = json!({"revokedAt": (Utc::now() - Duration::hours(1)).to_rfc3339()});
        json_with_status(app.post_admin(&path, &body).await, 200).await;
        key
    }

    /// Withdraws the issuer's first authorisation, backdated to 2025-12-01 (before every test
    /// licence's validFrom); answers its id.
    pub async fn withdraw_grant(&self, app: &TestApp) -> String {
        let grants = app
            .client
            .get(app.url(&format!("/v1/authorisations?issuer={}", self.uscc)))
            .bearer_auth(crate::support::app::ADMIN_TOKEN)
            .send()
            .await
            .expect("sent");
        let grants = json_with_status(grants, 200).await;
        let id = grants["items"][0]["id"]
            .as_str()
            .expect("grant id")
            .to_owned();
        let path = format!("/v1/authorisations/{id}/withdraw");
        let body = json!({"at": "2025-12-01T00:00:00Z", "reason": "机构改革"});
        json_with_status(app.post_admin(&path, &body).await, 200).await;
        id
    }

    /// Declares the issuer's key compromised since 2025-01-01 (before it signed anything).
    pub async fn compromise_key(&self, app: &TestApp) {
        let path = format!(
            "/v1/issuers/{}/keys/{}/revoke",
            self.uscc,
            self.key.multikey()
        );
        let body = json!({"compromisedSince": "2025-01-01T00:00:00Z"});
        json_with_status(app.post_admin(&path, &body).await, 200).await;
    }
}

/// A USCC from a 17-character prefix (check character computed).
pub fn uscc(first17: &str) -> Uscc {
    Uscc::with_check(first17).expect("valid USCC prefix")
}

/// Registers, keys, authorises and gives a read token to an issuer.
pub async fn setup_issuer(app: &TestApp, first17: &str) -> TestIssuer {
    let uscc = uscc(first17);
    let key = KeyPair::generate();
    let body = json!({"uscc": uscc.as_str(), "name": format!("测试签发机构 {first17}")});
    json_with_status(app.post_admin("/v1/issuers", &body).await, 201).await;
    let body = json!({"publicKey": key.multikey(), "validFrom": "2020-01-01T00:00:00Z"});
    let path = format!("/v1/issuers/{uscc}/keys");
    json_with_status(app.post_admin(&path, &body).await, 201).await;
    let body = json!({
        "issuer": uscc.as_str(), "typeCodes": [TYPE_CODE], "jurisdiction": "22",
        "validFrom": "2020-01-01T00:00:00Z", "grantedBy": AUTHORITY,
    });
    json_with_status(app.post_admin("/v1/authorisations", &body).await, 201).await;
    let path = format!("/v1/issuers/{uscc}/tokens");
    let token = json_with_status(app.post_admin(&path, &json!({})).await, 201).await;
    TestIssuer {
        did: format!("did:web:{HOST}:issuers:{uscc}"),
        uscc,
        key,
        token: token["token"].as_str().expect("token").to_owned(),
        sequence: 0,
        head: None,
    }
}

impl TestIssuer {
    /// The licence identifier of `serial` at `version`.
    pub fn licence_id(&self, serial: &str, version: u16) -> LicenceId {
        LicenceId::build(
            &TYPE_CODE.parse().expect("type code"),
            &self.uscc,
            serial,
            version,
        )
        .expect("valid licence id")
    }

    /// An unsigned licence of `serial` at `version`, valid for a year from 2026-01-01.
    pub fn unsigned_licence(&self, serial: &str, version: u16) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": self.licence_id(serial, version).urn(),
            "type": ["VerifiableCredential", "ELicence"],
            "issuer": self.did,
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2100-01-01T00:00:00Z",
            "jurisdiction": "220102",
            "credentialSchema": {
                "id": format!("https://{HOST}/v1/licence-types/{TYPE_CODE}/versions/1/schema"),
                "type": "JsonSchema",
            },
            "credentialSubject": {
                "id": "urn:cn:rid:11010519491231002X",
                "holderName": "张三",
                "certificateNumber": "12201202610123456",
                "practiceType": "专职律师",
                "lawFirm": "吉林某律师事务所",
                "issuingAuthority": "吉林省司法厅",
                "issuedOn": "2026-01-01",
            },
        })
    }

    /// Signs any document with this issuer's key.
    pub fn sign(&self, document: &Value) -> Value {
        self.sign_at(document, Utc::now() - Duration::minutes(1))
    }

    /// Signs any document with this issuer's key, the proof `created` at `created`.
    pub fn sign_at(&self, document: &Value, created: chrono::DateTime<Utc>) -> Value {
        let options =
            ProofOptions::assertion(format!("{}#{}", self.did, self.key.multikey()), created);
        sign(document, &self.key, &options).expect("signable document")
    }

    /// A signed licence, version 001.
    pub fn licence(&self, serial: &str) -> Value {
        self.sign(&self.unsigned_licence(serial, 1))
    }

    /// A signed later version naming its predecessor.
    pub fn renewal(&self, serial: &str, version: u16, predecessor: &Value) -> Value {
        let mut vc = self.unsigned_licence(serial, version);
        vc["relatedResource"] = json!([{
            "id": predecessor["id"], "digestMultibase": digest_value(predecessor),
        }]);
        self.sign(&vc)
    }

    /// A status change item.
    pub fn status_change(&self, licence: &Value, action: &str, previous: &str) -> Value {
        json!({"statusChange": {
            "licence": licence["id"], "action": action, "reason": "测试原因",
            "effectiveFrom": "2026-06-01T00:00:00Z", "previous": previous,
        }})
    }

    /// A signed envelope following this issuer's head.
    pub fn envelope(&self, items: Vec<Value>) -> Value {
        self.envelope_at(self.sequence + 1, self.head.clone(), items)
    }

    /// A signed envelope with an explicit sequence and previous digest.
    pub fn envelope_at(&self, sequence: u64, previous: Option<String>, items: Vec<Value>) -> Value {
        self.sign(&json!({
            "issuer": self.did, "sequence": sequence, "previous": previous, "items": items,
        }))
    }

    /// Moves this issuer's idea of its head past an accepted envelope.
    pub fn accepted(&mut self, envelope: &Value) {
        self.sequence = envelope["sequence"].as_u64().expect("sequence");
        self.head = Some(digest_value(envelope));
    }
}

/// Wraps licences as items.
pub fn items(licences: &[&Value]) -> Vec<Value> {
    licences.iter().map(|l| json!({"licence": l})).collect()
}
