//! Published status lists: the entries a licence names, fetching a list, reading a bit.

use std::process::{Command, Stdio};

use elicence::crypto::proof;
use elicence::domain::status_list::{StatusPurpose, StatusSlot};
use serde_json::{json, Value};

use super::app::{json_with_status, TestApp};
use super::signing::{TestIssuer, HOST};

pub(crate) fn entries(issuer: &TestIssuer, revocation: u64, suspension: u64) -> Value {
    let base = format!("https://{HOST}");
    json!([
        StatusSlot::at(StatusPurpose::Revocation, revocation)
            .expect("in range")
            .entry(&base, &issuer.uscc),
        StatusSlot::at(StatusPurpose::Suspension, suspension)
            .expect("in range")
            .entry(&base, &issuer.uscc),
    ])
}

/// The list credential at `path`, with its proof checked against the registry's DID document.
pub(crate) async fn fetch_list(app: &TestApp, path: &str) -> Value {
    let list = json_with_status(app.get(path).await, 200).await;
    let did = json_with_status(app.get("/.well-known/did.json").await, 200).await;
    let multikey = did["verificationMethod"][0]["publicKeyMultibase"]
        .as_str()
        .expect("the registry's key");
    let key = elicence::crypto::multikey::decode(multikey).expect("a Multikey");
    proof::prepare(&list)
        .expect("a proof")
        .verify_with(&key)
        .expect("signed by the registry key");
    list
}

/// Runs tests/interop/read-bit.mjs on one licence and list.
pub(crate) fn read_bit(licence: &Value, list: &Value, purpose: &str) -> String {
    use std::io::Write as _;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
    let mut child = Command::new("node")
        .arg("read-bit.mjs")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let input = json!({"licence": licence, "list": list, "purpose": purpose});
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
