//! Numbers from outside: every numeric path and query parameter of every route the OpenAPI
//! document lists is sent extreme and malformed values, anonymously and with each kind of
//! credential. Nothing may answer 5xx (or drop the connection): out-of-range numbers are the
//! client's error.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::people::holder_token;

on_both_backends!(no_number_from_outside_answers_5xx);

/// Zero, negatives, the edges of i64 and u64 and just past them, exponents, words, nothing,
/// fractions and digit strings longer than any integer type.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1e3",
    "1.5",
    "abc",
    "",
    " 1",
    "+1",
    "0x10",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999",
];

/// One numeric parameter of one operation.
#[derive(Debug)]
struct Target {
    method: Method,
    path: String,
    name: String,
    in_path: bool,
    /// The operation's other parameters: (name, in path, is numeric, required).
    others: Vec<(String, bool, bool, bool)>,
}

async fn no_number_from_outside_answers_5xx(app: TestApp) {
    let holder = holder_token(&app, "urn:cn:rid:11010519491231002X").await;
    let openapi = json_with_status(app.get("/openapi.json").await, 200).await;
    let targets = numeric_parameters(&openapi);
    let names: Vec<String> = targets
        .iter()
        .map(|t| format!("{} {} {}", t.method, t.path, t.name))
        .collect();
    for expected in [
        "GET /v1/log/entries start",
        "GET /v1/holder/access-records before",
        "GET /v1/licence-types/{code}/versions/{version}/schema version",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let code = seeded_type_code(&app).await;
    let mut failures = Vec::new();
    for target in &targets {
        for value in EXTREMES {
            let url = target.url(&app, value, &code);
            for bearer in [None, Some(ADMIN_TOKEN), Some(holder.as_str())] {
                let mut request = app.client.request(target.method.clone(), url.clone());
                if let Some(token) = bearer {
                    request = request.bearer_auth(token);
                }
                if target.method != Method::GET {
                    request = request.json(&json!({}));
                }
                match request.send().await {
                    Ok(r) if r.status().is_server_error() => failures.push(format!(
                        "{} {url} -> {}: {}",
                        target.method,
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Ok(_) => {}
                    Err(e) => failures.push(format!("{} {url} -> {e}", target.method)),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    past_the_store_is_a_client_error(&app, &holder).await;
}

/// Three numbers that once answered 500: numbers past i64 are refused with a code, not stored data
/// found corrupt.
async fn past_the_store_is_a_client_error(app: &TestApp, holder: &str) {
    for start in ["9223372036854775808", "18446744073709551615"] {
        let path = format!("/v1/log/entries?start={start}&count=1");
        assert_problem(app.get(&path).await, 400, "invalid_query").await;
    }
    let response = app
        .client
        .get(app.url("/v1/holder/access-records?before=9223372036854775808"))
        .bearer_auth(holder)
        .send()
        .await
        .expect("request sent");
    assert_problem(response, 400, "invalid_query").await;
}

/// Every integer or number parameter in the document, with its operation's other parameters.
fn numeric_parameters(openapi: &Value) -> Vec<Target> {
    let mut targets = Vec::new();
    let paths = openapi["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let params: Vec<(String, bool, bool, bool)> = operation["parameters"]
                .as_array()
                .map(|a| a.iter().map(describe).collect())
                .unwrap_or_default();
            for (name, in_path, numeric, _) in &params {
                if *numeric {
                    targets.push(Target {
                        method: method.clone(),
                        path: path.clone(),
                        name: name.clone(),
                        in_path: *in_path,
                        others: params.iter().filter(|p| p.0 != *name).cloned().collect(),
                    });
                }
            }
        }
    }
    targets
}

fn describe(param: &Value) -> (String, bool, bool, bool) {
    let kinds = match &param["schema"]["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    (
        param["name"].as_str().expect("name").to_owned(),
        param["in"] == "path",
        kinds.iter().any(|k| k == "integer" || k == "number"),
        param["required"] == true,
    )
}

impl Target {
    /// The URL with `value` for this parameter and plausible values for the others.
    fn url(&self, app: &TestApp, value: &str, code: &str) -> reqwest::Url {
        let mut path = self.path.clone();
        if self.in_path {
            path = path.replace(&format!("{{{}}}", self.name), &encode(value));
        }
        for (name, in_path, numeric, _) in &self.others {
            if *in_path {
                let fill = match (name.as_str(), numeric) {
                    (_, true) => "1",
                    ("code", _) => code,
                    ("uscc", _) => "91220101MA0000Q01",
                    _ => "x",
                };
                path = path.replace(&format!("{{{name}}}"), fill);
            }
        }
        let mut url = reqwest::Url::parse(&app.url(&path)).expect("a URL");
        {
            let mut query = url.query_pairs_mut();
            if !self.in_path {
                query.append_pair(&self.name, value);
            }
            for (name, in_path, numeric, required) in &self.others {
                if !in_path && *required {
                    query.append_pair(name, if *numeric { "1" } else { "x" });
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }
}

/// Percent-encodes a path segment (the values above need only these).
fn encode(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace('+', "%2B")
}

async fn seeded_type_code(app: &TestApp) -> String {
    let list = json_with_status(app.get("/v1/licence-types").await, 200).await;
    list["items"][0]["code"]
        .as_str()
        .expect("a seeded type")
        .to_owned()
}
