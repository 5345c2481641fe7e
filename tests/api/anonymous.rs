//! Nothing anonymous carries a resident ID or a natural person's full name: a whole scenario
//! (an issuer, a licence, presentations) is walked through every answer an anonymous caller
//! can get — pages, presentations and their QR codes, verification, the trust bundle, the log,
//! DID documents, the directory — and each is searched for the holder's identity.

use chrono::Utc;
use elicence::domain::identifiers::{HolderId, Uscc};
use elicence::domain::presentation::PresentationRequest;
use elicence::presentation::create;
use elicence::qr::encode_offline;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::qr::decode_png;
use crate::support::signing::{items, setup_issuer, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(no_anonymous_answer_names_the_holder);

const RESIDENT_ID: &str = "11010519491231002X";
const FULL_NAME: &str = "张三";
const USCC: &str = "91220101MA0000Q01";

/// What a finding needs: the request and why it leaks.
type Leak = String;

async fn no_anonymous_answer_names_the_holder(app: TestApp) {
    assert_eq!(
        resident_ids(&format!("urn:cn:rid:{RESIDENT_ID}\"")),
        [RESIDENT_ID]
    );
    assert!(resident_ids("11010519491231002Y 110105194912310021").is_empty());
    assert!(
        RESIDENT_ID.parse::<Uscc>().is_err(),
        "the fixture is no USCC"
    );
    let mut issuer = setup_issuer(&app, USCC).await;
    let licence = issuer.licence("ANON1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    let id = licence["id"].as_str().expect("licence id").to_owned();
    let token = present(&app, &id).await;

    let mut leaks = Vec::new();
    let gets = anonymous_gets(&app, &id, &token, TYPE_CODE).await;
    for path in &gets {
        for accept in ["text/html", "application/json"] {
            let response = app
                .client
                .get(app.url(path))
                .header("Accept", accept)
                .send()
                .await
                .expect("request sent");
            let status = response.status();
            let bytes = response.bytes().await.expect("body");
            let text = if path.ends_with(".png") && status == 200 {
                decode_png(&bytes)
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            leaks.extend(find(&format!("GET {path} ({accept}) {status}"), &text));
        }
    }
    for (path, body) in anonymous_posts(&licence, &id) {
        let response = app.post_anon(path, &body).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        leaks.extend(find(&format!("POST {path} {body:.60} {status}"), &text));
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// A multi-use presentation of the holder's name (masked) and law firm; its token.
async fn present(app: &TestApp, id: &str) -> String {
    let request = PresentationRequest {
        licence: id.to_owned(),
        fields: Some(vec!["holderName".into(), "lawFirm".into()]),
        lifetime_seconds: None,
        single_use: Some(false),
    };
    let holder = HolderId::from_urn(&format!("urn:cn:rid:{RESIDENT_ID}")).expect("holder");
    let store = app.state.store.as_ref();
    create(
        store,
        app.settings.public_base(),
        &holder,
        &request,
        Utc::now(),
    )
    .await
    .expect("the holder's own licence")
    .token
}

/// The pages and the public GET routes of the OpenAPI document, their parameters filled from
/// the scenario (new public routes are walked without a change here).
async fn anonymous_gets(app: &TestApp, id: &str, token: &str, code: &str) -> Vec<String> {
    let mut paths: Vec<String> = [
        "/",
        "/catalogue",
        "/catalogue/{code}",
        "/p/{token}",
        "/p/{token}?lang=en",
        "/v1/presentations/{token}/qr.svg",
        "/v1/presentations/{token}/qr.png",
        "/v1/log/entries?start=0&count=1000",
        "/v1/log/proof/inclusion?index=0&size=1",
    ]
    .map(str::to_owned)
    .to_vec();
    let openapi = json_with_status(app.get("/openapi.json").await, 200).await;
    for (path, operations) in openapi["paths"].as_object().expect("paths") {
        let get = &operations["get"];
        let required_query = get["parameters"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["in"] == "query" && p["required"] == true)
        });
        if get.is_object() && get.get("security").is_none() && !required_query {
            paths.push(path.clone());
        }
    }
    paths
        .iter()
        .map(|p| {
            p.replace("{token}", token)
                .replace("{code}", code)
                .replace("{uscc}", USCC)
                .replace("{id}", id)
        })
        .collect()
}

/// Verification as an anonymous caller: by credential (the caller holds it) and by id.
fn anonymous_posts(licence: &Value, id: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("/v1/verify", json!({"credential": licence})),
        ("/v1/verify", json!({"licenceId": id})),
        ("/v1/verify", json!({"qr": encode_offline(licence)})),
        (
            "/v1/verify/batch",
            json!({"items": [{"credential": licence}, {"licenceId": id}]}),
        ),
        (
            "/credentials/verify",
            json!({"verifiableCredential": licence}),
        ),
    ]
}

/// The resident IDs and the full name in `text`, as findings about `what`.
fn find(what: &str, text: &str) -> Vec<Leak> {
    let mut leaks: Vec<Leak> = resident_ids(text)
        .into_iter()
        .map(|rid| format!("{what}: resident ID {rid}"))
        .collect();
    if text.contains(FULL_NAME) {
        leaks.push(format!("{what}: the holder's full name"));
    }
    leaks
}

/// Every 18-character run `\d{17}[\dX]` whose last character is its GB 11643 check character,
/// standing alone (a run inside a longer code, such as the authority USCC that opens a
/// 21-character type code, is that code's, not a person's) and not a valid USCC (an
/// enterprise's code is public; an all-digit one may pass the GB 11643 check by chance).
fn resident_ids(text: &str) -> Vec<String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for start in 0..bytes.len().saturating_sub(17) {
        let run = &bytes[start..start + 18];
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(start + 18).copied();
        // The fraction of a decimal number (a metric's value) is no identifier either.
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
            || after.is_some_and(|b| b.is_ascii_alphanumeric())
        {
            continue;
        }
        if !run[..17].iter().all(u8::is_ascii_digit) {
            continue;
        }
        let sum: u32 = run[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        let run = String::from_utf8_lossy(run).into_owned();
        if run.as_bytes()[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
            && run.parse::<Uscc>().is_err()
        {
            found.push(run);
        }
    }
    found
}
