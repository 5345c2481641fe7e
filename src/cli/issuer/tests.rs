//! `submit` against a fake registry that keeps one chain head in memory and answers as
//! docs/design.md says the real one does: 201, 409 with the head, 422 with per-item errors.

use std::sync::Mutex;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;

use super::*;
use crate::crypto::digest::digest_value;

const USCC: &str = "11220000013544541J";

/// The fake's chain head: (sequence, digest).
type Head = Mutex<(u64, Option<String>)>;

async fn head(state: web::Data<Head>) -> HttpResponse {
    let head = state.lock().expect("no poisoning in tests");
    HttpResponse::Ok().json(json!({
        "issuer": format!("did:web:fake:issuers:{USCC}"), "sequence": head.0, "digest": head.1}))
}

async fn submissions(state: web::Data<Head>, envelope: web::Json<Value>) -> HttpResponse {
    let mut head = state.lock().expect("no poisoning in tests");
    if envelope["items"].to_string().contains("reject-me") {
        return HttpResponse::UnprocessableEntity().json(json!({
            "code": "items_invalid", "title": "Invalid items",
            "errors": [{"item": 0, "code": "schema", "detail": "bad subject"}]}));
    }
    let sequence = envelope["sequence"].as_u64();
    let previous = envelope["previous"].as_str().map(str::to_owned);
    if sequence != Some(head.0 + 1) || previous != head.1 {
        return HttpResponse::Conflict().json(json!({
            "code": "chain_conflict", "head": {"sequence": head.0, "digest": head.1}}));
    }
    *head = (head.0 + 1, Some(digest_value(&envelope)));
    HttpResponse::Created().json(json!({"sequence": head.0}))
}

/// Starts the fake on a free port; answers its base URL and its head.
fn fake_registry() -> (String, web::Data<Head>) {
    let state = web::Data::new(Mutex::new((0, None)));
    let data = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/v1/issuers/{uscc}/head", web::get().to(head))
            .route("/v1/submissions", web::post().to(submissions))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("a free port");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), state)
}

fn chain_args(dir: &Path, url: &str, key: &Path) -> ChainArgs {
    ChainArgs {
        key: Some(key.to_owned()),
        state: dir.join("chain.json"),
        issuer_uscc: Some(USCC.parse().expect("vector USCC")),
        registry: RegistryArgs {
            registry_url: url.to_owned(),
            public_url: None,
        },
    }
}

fn item(reason: &str) -> Value {
    let licence: LicenceId =
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
            .parse()
            .expect("vector");
    issuer::status_change(&licence, StatusAction::Suspend, reason, Utc::now(), "uEiX")
}

#[actix_web::test]
async fn submits_chains_recovers_from_a_stale_state_and_reports_rejections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("issuer.pem");
    KeyPair::write_new(&key).expect("new key");
    let (url, fake) = fake_registry();
    let chain = chain_args(dir.path(), &url, &key);

    // No state file: starts from the registry's head, then continues from the file.
    submit(&chain, vec![item("one")])
        .await
        .expect("first envelope");
    submit(&chain, vec![item("two")])
        .await
        .expect("second envelope");
    let state = ChainState::load(&chain.state).unwrap().expect("saved");
    assert_eq!(state.sequence, 2);
    assert_eq!(state.digest, fake.lock().unwrap().1);
    assert_eq!(state.issuer_did, format!("did:web:fake:issuers:{USCC}"));

    // A stale state file (a fork, or a lost write): 409, then one retry on the real head.
    let stale = ChainState {
        sequence: 1,
        digest: Some("uEiStale".into()),
        ..state
    };
    stale.save(&chain.state).unwrap();
    submit(&chain, vec![item("three")])
        .await
        .expect("retried on the head");
    assert_eq!(ChainState::load(&chain.state).unwrap().unwrap().sequence, 3);

    // 422: an error, and the state does not move.
    let err = submit(&chain, vec![item("reject-me")]).await.unwrap_err();
    assert!(err.to_string().contains("422"), "{err}");
    assert_eq!(ChainState::load(&chain.state).unwrap().unwrap().sequence, 3);

    // A state file for another registry is refused before anything is sent.
    let other = chain_args(dir.path(), "http://127.0.0.1:1", &key);
    assert!(submit(&other, vec![item("x")]).await.is_err());
}

#[test]
fn times_parse_as_rfc3339_or_dates() {
    assert_eq!(
        parse_time("2026-01-01").unwrap(),
        parse_time("2026-01-01T08:00:00+08:00").unwrap()
    );
    assert!(parse_time("01/01/2026").is_err());
}

#[actix_web::test]
async fn sign_with_status_takes_fresh_indices_and_submit_keeps_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("issuer.pem");
    KeyPair::write_new(&key).expect("new key");
    std::fs::write(
        dir.path().join("subject.json"),
        r#"{"id": "urn:cn:rid:11010519491231002X", "holderName": "张三"}"#,
    )
    .expect("subject");
    let (url, _fake) = fake_registry();
    let sign_args = |serial: &str| SignArgs {
        key: Some(key.clone()),
        issuer_uscc: Some(USCC.parse().expect("vector USCC")),
        type_code: "11100000000013338W032".parse().expect("type code"),
        serial: serial.into(),
        version: 1,
        schema_version: 1,
        subject: dir.path().join("subject.json"),
        valid_from: parse_time("2026-01-01").expect("date"),
        valid_until: parse_time("2031-01-01").expect("date"),
        jurisdiction: "220100".parse().expect("division"),
        registry: RegistryArgs {
            registry_url: url.clone(),
            public_url: None,
        },
        previous: None,
        created: None,
        out: Some(dir.path().join(format!("{serial}.json"))),
        no_status: false,
        state: dir.path().join("chain.json"),
    };
    sign(&sign_args("A1")).expect("signed");
    sign(&sign_args("A2")).expect("signed");
    let second = read_json(&dir.path().join("A2.json")).expect("licence");
    let entries = second["credentialStatus"].as_array().expect("two entries");
    assert_eq!(entries[0]["statusPurpose"], "revocation");
    assert_eq!(entries[0]["statusListIndex"], "1");
    assert_eq!(entries[1]["statusPurpose"], "suspension");
    assert_eq!(
        entries[1]["statusListCredential"],
        format!("{url}/v1/status-lists/{USCC}/suspension/0")
    );
    // The registry's own parse accepts what the CLI wrote.
    let uscc: Uscc = USCC.parse().expect("vector USCC");
    let did = second["issuer"].as_str().expect("issuer").to_owned();
    let by = crate::domain::submission::licence::Submitter {
        issuer: &uscc,
        issuer_did: &did,
        public_base: &url,
    };
    let claims = crate::domain::submission::licence::parse(&second, &by).expect("valid");
    assert_eq!(claims.status.len(), 2);

    // A state file made by `sign` has no head yet: submit fetches it and keeps the counters.
    submit(&chain_args(dir.path(), &url, &key), vec![item("one")])
        .await
        .expect("submitted");
    let state = ChainState::load(&dir.path().join("chain.json"))
        .unwrap()
        .expect("saved");
    assert_eq!(state.sequence, 1);
    assert_eq!((state.status.revocation, state.status.suspension), (2, 2));
}
