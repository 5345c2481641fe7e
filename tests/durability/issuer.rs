//! Issuers registered through the operator API and envelopes built with the library's issuer
//! module, as an issuer's own tooling would.

use chrono::{Duration, TimeZone, Utc};
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::domain::identifiers::{LicenceId, Uscc};
use elicence::issuer::{
    build_envelope, build_licence, sign_licence, verification_method, LicenceDraft,
};
use serde_json::{json, Value};

use crate::service::{ADMIN_TOKEN, PUBLIC_URL};

/// A seeded, published type (律师执业证, person holders) and its defining authority.
const TYPE_CODE: &str = "11100000000014062K001";
const AUTHORITY: &str = "11100000000014062K";
/// Licences per envelope.
pub const ITEMS: usize = 2;

/// An issuer and its key.
#[derive(Clone)]
pub struct Issuer {
    pub uscc: Uscc,
    pub did: String,
    key: std::sync::Arc<KeyPair>,
}

impl Issuer {
    /// Registers the issuer, one key and an authorisation for the type in 吉林省 (22).
    pub async fn register(client: &reqwest::Client, base: &str, first17: &str) -> Self {
        let uscc = Uscc::with_check(first17).expect("valid USCC prefix");
        let key = KeyPair::generate();
        let post = |path: String, body: Value| {
            let request = client
                .post(format!("{base}{path}"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&body);
            async move {
                let response = request.send().await.expect("operator request");
                let status = response.status().as_u16();
                assert_eq!(status, 201, "{}", response.text().await.unwrap_or_default());
            }
        };
        post(
            "/v1/issuers".into(),
            json!({"uscc": uscc.as_str(), "name": format!("耐久测试 {first17}")}),
        )
        .await;
        let body = json!({"publicKey": key.multikey(), "validFrom": "2020-01-01T00:00:00Z"});
        post(format!("/v1/issuers/{uscc}/keys"), body).await;
        let body = json!({
            "issuer": uscc.as_str(), "typeCodes": [TYPE_CODE], "jurisdiction": "22",
            "validFrom": "2020-01-01T00:00:00Z", "grantedBy": AUTHORITY,
        });
        post("/v1/authorisations".into(), body).await;
        let did = elicence::issuer::did_for(PUBLIC_URL, &uscc).expect("did:web host");
        Self {
            uscc,
            did,
            key: std::sync::Arc::new(key),
        }
    }

    /// Envelope `sequence` after `previous`, carrying [`ITEMS`] fresh licences.
    pub fn envelope(&self, sequence: u64, previous: Option<&Value>) -> Value {
        let method = verification_method(&self.did, &self.key);
        let created = Utc::now() - Duration::minutes(1);
        let items = (0..ITEMS)
            .map(
                |i| json!({"licence": self.licence(&format!("S{sequence}N{i}"), &method, created)}),
            )
            .collect();
        build_envelope(
            &self.did,
            sequence,
            previous.map(digest_value),
            items,
            &self.key,
            &method,
            created,
        )
        .expect("signable envelope")
    }

    fn licence(&self, serial: &str, method: &str, created: chrono::DateTime<Utc>) -> Value {
        let type_code = TYPE_CODE.parse().expect("type code");
        let draft = LicenceDraft {
            id: LicenceId::build(&type_code, &self.uscc, serial, 1).expect("licence id"),
            issuer_did: self.did.clone(),
            public_base: PUBLIC_URL.into(),
            schema_version: 1,
            valid_from: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
            valid_until: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single(),
            jurisdiction: "220102".parse().expect("division"),
            subject: json!({
                "id": "urn:cn:rid:11010519491231002X", "holderName": "张三",
                "certificateNumber": "12201202610123456", "practiceType": "专职律师",
                "lawFirm": "吉林某律师事务所", "issuingAuthority": "吉林省司法厅", "issuedOn": "2026-01-01",
            }),
            previous: None,
        };
        let vc = build_licence(&draft).expect("buildable licence");
        sign_licence(&vc, &self.key, method, created).expect("signable licence")
    }
}
