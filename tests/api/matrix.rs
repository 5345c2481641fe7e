//! The authorisation matrix: every route of `/openapi.json` × every kind of principal ×
//! the resources of A and of B, against the table in `matrix/table.rs` (one line per route).
//!
//! Besides each cell, these rules hold over the whole table: a route in the document without a line (or a line
//! for no route) fails the test; what is not yours answers exactly as what does not exist
//! (each refusal of A's or B's resource is compared with the answer for a missing one of the
//! same shape); no refusal carries a holder's resident ID; and what a holder's own views
//! (`/v1/holder/…`) answer names nothing of the other holder.
//!
//! To add a route: add its line to `TABLE` (the path with the fixture's placeholders, twelve
//! cells), and, for a POST that needs one, its body in `Fixture::body`.

mod fixture;
mod table;

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use serde_json::Value;

use crate::on_both_backends;
use crate::support::app::TestApp;
use fixture::Fixture;
use table::{normalise, Row, Side, Who, COLUMNS, SERVED_OUTSIDE_OPENAPI};

on_both_backends!(every_route_answers_every_principal_as_the_table_says);

/// The operations of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What one call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    status: u16,
    code: Option<String>,
}

async fn every_route_answers_every_principal_as_the_table_says(app: TestApp) {
    let started = Instant::now();
    let rows = table::rows();
    assert_table_covers_the_document(&app, &rows).await;
    let fixture = Fixture::build(&app).await;
    let mut tally = Tally::default();
    for row in &rows {
        run_row(&app, &fixture, row, &mut tally).await;
    }
    if !tally.deviations.is_empty() {
        eprintln!(
            "known deviations ({}), to be emptied as the findings are fixed:\n  {}",
            tally.deviations.len(),
            tally.deviations.join("\n  ")
        );
    }
    eprintln!(
        "matrix ({:?}): {} rows, {} calls in {:.1?}",
        app.backend,
        rows.len(),
        tally.calls,
        started.elapsed()
    );
    assert!(
        tally.failures.is_empty(),
        "{} cells disagree with the table:\n  {}",
        tally.failures.len(),
        tally.failures.join("\n  ")
    );
}

/// What the rows found: cells that disagree, known deviations seen, calls made.
#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    deviations: Vec<String>,
    calls: usize,
}

/// Calls the row's route as every principal, on every side, and checks each answer.
async fn run_row(app: &TestApp, fixture: &Fixture, row: &Row, tally: &mut Tally) {
    let mut answers = HashMap::new();
    for side in sides(row) {
        for who in in_order(row, side) {
            let (answer, text) = call(app, fixture, row, side, who).await;
            tally.calls += 1;
            if !matches!(side, Side::MissingA | Side::MissingB) {
                check(row, side, who, &answer, &text, fixture, &mut tally.failures);
                note_deviation(row, side, who, &answer, &mut tally.deviations);
            }
            answers.insert((side, who), answer);
        }
    }
    check_not_yours_is_missing(row, &answers, &mut tally.failures);
}

/// Every (method, path) of the document has exactly one line, and every line a route; the
/// routes served outside the document stay outside it (else they need a line).
async fn assert_table_covers_the_document(app: &TestApp, rows: &[Row]) {
    let documented = documented_routes(app).await;
    let mut seen = BTreeSet::new();
    let twice: Vec<String> = rows
        .iter()
        .filter(|r| !seen.insert(r.route()))
        .map(Row::to_string)
        .collect();
    let missing: Vec<String> = documented
        .iter()
        .filter(|(m, p)| !seen.contains(&(m.clone(), normalise(p))))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let normalised: BTreeSet<(String, String)> = documented
        .iter()
        .map(|(m, p)| (m.clone(), normalise(p)))
        .collect();
    let stale: Vec<String> = rows
        .iter()
        .filter(|r| !normalised.contains(&r.route()))
        .map(Row::to_string)
        .collect();
    let now_documented: Vec<String> = SERVED_OUTSIDE_OPENAPI
        .iter()
        .filter(|(m, p)| normalised.contains(&(m.to_string(), normalise(p))))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && twice.is_empty() && now_documented.is_empty(),
        "the matrix and /openapi.json disagree.\n\
         routes in the document without a line in matrix/table.rs (add one per route): {missing:#?}\n\
         lines for no route of the document (remove or fix them): {stale:#?}\n\
         routes with two lines: {twice:#?}\n\
         SERVED_OUTSIDE_OPENAPI entries now in the document (move them to TABLE): {now_documented:#?}"
    );
    assert_served_outside_the_document_are_served(app).await;
}

/// `(METHOD, path template)` of every operation of `/openapi.json`.
async fn documented_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let document: Value = app.get("/openapi.json").await.json().await.expect("JSON");
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, operations)| {
            let keys = operations.as_object().expect("operations").keys();
            // A path item may also hold `parameters`, `summary`…: only methods are routes.
            keys.filter(|k| METHODS.contains(&k.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The list of routes outside the document does not rot either: each is still served.
async fn assert_served_outside_the_document_are_served(app: &TestApp) {
    for (method, path) in SERVED_OUTSIDE_OPENAPI {
        let concrete = path
            .replace("{code}", crate::support::signing::TYPE_CODE)
            .replace("{id}", "x");
        let answer = app.call(method, &concrete, None, None).await;
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        assert!(
            !(status == 404 && text.contains("route_not_found")),
            "{method} {path} is listed in SERVED_OUTSIDE_OPENAPI but not served: remove it"
        );
    }
    eprintln!("served but not in /openapi.json: {SERVED_OUTSIDE_OPENAPI:?}");
}

/// A sided row runs with A's, B's, and missing resources of each shape.
fn sides(row: &Row) -> Vec<Side> {
    if row.sided() {
        vec![Side::A, Side::B, Side::MissingA, Side::MissingB]
    } else {
        vec![Side::A]
    }
}

/// Refusals first, so that the call a row lets create, withdraw or close goes last.
fn in_order(row: &Row, side: Side) -> Vec<Who> {
    let (refused, allowed): (Vec<Who>, Vec<Who>) = COLUMNS
        .iter()
        .partition(|w| row.cell(**w, side).accepted() >= 400);
    refused.into_iter().chain(allowed).collect()
}

async fn call(
    app: &TestApp,
    fixture: &Fixture,
    row: &Row,
    side: Side,
    who: Who,
) -> (Answer, String) {
    let path = fixture.path(&row.path, side);
    let body = fixture.body(&row.method, &row.path, side);
    let response = app
        .call(&row.method, &path, fixture.token(who), body.as_ref())
        .await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let code = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned));
    (Answer { status, code }, text)
}

fn check(
    row: &Row,
    side: Side,
    who: Who,
    answer: &Answer,
    text: &str,
    fixture: &Fixture,
    failures: &mut Vec<String>,
) {
    let cell = row.cell(who, side);
    let at = at(row, side, who);
    if cell.today.is_some() && answer.status == cell.expected {
        failures.push(format!(
            "{at}: now answers the expected {}: write `{}` instead of `{}~{}` in the table",
            cell.expected,
            cell.expected,
            cell.expected,
            cell.accepted()
        ));
    } else if answer.status != cell.accepted() {
        failures.push(format!(
            "{at}: expected {}, got {}: {}",
            cell.accepted(),
            answer.status,
            short(text)
        ));
    }
    if answer.status == 401
        && !answer
            .code
            .as_deref()
            .is_some_and(|c| c.ends_with("_token"))
    {
        failures.push(format!(
            "{at}: a 401 says which token is wrong: {}",
            short(text)
        ));
    }
    if answer.status >= 400 && fixture.resident_ids().iter().any(|id| text.contains(id)) {
        failures.push(format!(
            "{at}: a refusal carries a resident ID: {}",
            short(text)
        ));
    }
    if let Some(other) = fixture.other_holder(who) {
        let own_view = row.path.starts_with("/v1/holder/") && answer.status < 300;
        if own_view && (text.contains(&other.licence) || text.contains(&other.holder)) {
            failures.push(format!(
                "{at}: a holder's own view shows the other holder's: {}",
                short(text)
            ));
        }
    }
}

fn note_deviation(row: &Row, side: Side, who: Who, answer: &Answer, deviations: &mut Vec<String>) {
    let cell = row.cell(who, side);
    if cell.today == Some(answer.status) {
        deviations.push(format!(
            "{}: expected {}, answers {} — {}",
            at(row, side, who),
            cell.expected,
            answer.status,
            row.comment.as_deref().unwrap_or("")
        ));
    }
}

/// Every refusal of A's (B's) resource to someone else is the answer for a missing resource
/// shaped like it. (Its owner may be refused for the resource's state, e.g. 409 for an
/// application already decided: that tells the owner nothing it does not know.)
fn check_not_yours_is_missing(
    row: &Row,
    answers: &HashMap<(Side, Who), Answer>,
    failures: &mut Vec<String>,
) {
    for (side, missing) in [(Side::A, Side::MissingA), (Side::B, Side::MissingB)] {
        for who in COLUMNS {
            let (Some(theirs), Some(none)) =
                (answers.get(&(side, who)), answers.get(&(missing, who)))
            else {
                continue;
            };
            if row.cell(who, side).accepted() >= 400 && !owns(who, side) && theirs != none {
                failures.push(format!(
                    "{row} [{who:?}]: {side:?}'s resource answers {} {:?}, a missing one {} {:?}",
                    theirs.status, theirs.code, none.status, none.code
                ));
            }
        }
    }
}

/// `GET /v1/x/{licence} [HolB, A's]`: the cell, for a message.
fn at(row: &Row, side: Side, who: Who) -> String {
    match row.sided() {
        true => format!("{row} [{who:?}, {side:?}'s]"),
        false => format!("{row} [{who:?}]"),
    }
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Whether `who` is the owner of `side`'s resources (its issuer, agency or holder).
fn owns(who: Who, side: Side) -> bool {
    matches!(
        (who, side),
        (Who::IssA | Who::AgA | Who::HolA, Side::A) | (Who::IssB | Who::AgB | Who::HolB, Side::B)
    )
}
