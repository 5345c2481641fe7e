//! The authorisation matrix: every route this issue adds (and the holder-facing ones) against
//! every kind of principal. The rule for outsiders: what is not yours answers exactly as what
//! does not exist — 404 for holders' licences, consents and agencies' applications, 403
//! `consent_required` for agency reads outside an application (DESIGN: "outside an application
//! or a consent: 403").

use serde_json::{json, Value};

use crate::helpers::{json_with_status, TestApp, ADMIN_TOKEN};
use crate::on_both_backends;
use crate::people::{agency, file, holder_token, issuer_with_licence, matter, CITIZEN, OTHER};
use crate::signing::{uscc, TYPE_CODE};

on_both_backends!(every_route_answers_every_principal_exactly);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    WrongToken,
    Operator,
    Issuer,
    AgencyWithoutScope,
    OtherAgency,
    OtherHolder,
    Agency,
    Holder,
}

/// In this order, so that the one principal a route lets create or withdraw goes last.
const EVERYONE: [Who; 9] = [
    Who::Nobody,
    Who::WrongToken,
    Who::Operator,
    Who::Issuer,
    Who::AgencyWithoutScope,
    Who::OtherAgency,
    Who::OtherHolder,
    Who::Agency,
    Who::Holder,
];

struct Tokens {
    issuer: String,
    agency: String,
    agency_without_scope: String,
    other_agency: String,
    holder: String,
    other_holder: String,
}

impl Tokens {
    fn of(&self, who: Who) -> Option<&str> {
        match who {
            Who::Nobody => None,
            Who::WrongToken => {
                Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
            }
            Who::Operator => Some(ADMIN_TOKEN),
            Who::Issuer => Some(&self.issuer),
            Who::Agency => Some(&self.agency),
            Who::AgencyWithoutScope => Some(&self.agency_without_scope),
            Who::OtherAgency => Some(&self.other_agency),
            Who::Holder => Some(&self.holder),
            Who::OtherHolder => Some(&self.other_holder),
        }
    }
}

/// One route: who gets what (everyone not listed gets 401, or `public`'s status).
struct Row {
    method: &'static str,
    path: String,
    body: Option<Value>,
    allowed: Vec<(Who, u16)>,
    public: Option<u16>,
}

fn row(
    method: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    allowed: &[(Who, u16)],
) -> Row {
    Row {
        method,
        path: path.into(),
        body,
        allowed: allowed.to_vec(),
        public: None,
    }
}

async fn every_route_answers_every_principal_exactly(app: TestApp) {
    let (issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, agency_key) = agency(
        &app,
        "11220000MB0000001",
        &["verify", "applications", "read"],
    )
    .await;
    let (_, without_scope) = agency(&app, "11220000MB0000002", &["verify"]).await;
    let (_, other_agency) = agency(
        &app,
        "11220000MB0000003",
        &["verify", "applications", "read"],
    )
    .await;
    matter(&app, "MTX", &agency_uscc, &[TYPE_CODE]).await;
    let lid = current["id"].as_str().expect("id").to_owned();
    let missing = issuer.licence_id("NOPE", 1).urn();
    let body =
        json!({"matter": "MTX", "applicant": CITIZEN, "licences": [lid], "useCause": "矩阵"});
    let filed = json_with_status(file(&app, &agency_key, body.clone()).await, 201).await;
    let app_id = filed["id"].as_str().expect("id").to_owned();
    let tokens = Tokens {
        issuer: issuer.token.clone(),
        agency: agency_key,
        agency_without_scope: without_scope,
        other_agency,
        holder: holder_token(&app, CITIZEN).await,
        other_holder: holder_token(&app, OTHER).await,
    };
    let grant = json!({"agency": agency_uscc, "licences": [lid], "purpose": "矩阵", "until": "2099-01-01T00:00:00Z"});
    let consent = json_with_status(
        app.call("POST", "/v1/consents", Some(&tokens.holder), Some(&grant))
            .await,
        201,
    )
    .await;
    let consent_id = consent["id"].as_str().expect("id").to_owned();
    // The citizen approves the agency's application: only then may the agency read through it.
    let approve = format!("/v1/holder/applications/{app_id}/approve");
    let approval = app
        .call("POST", &approve, Some(&tokens.holder), Some(&json!({})))
        .await;
    json_with_status(approval, 200).await;

    use Who::*;
    let agency_only = |ok: u16, other: u16| {
        vec![
            (AgencyWithoutScope, 403),
            (OtherAgency, other),
            (Agency, ok),
        ]
    };
    let rows = vec![
        Row {
            public: Some(200),
            ..row("GET", "/v1/matters", None, &[])
        },
        row(
            "POST",
            "/v1/matters",
            Some(
                json!({"code": "MTX2", "name": "x", "agency": agency_uscc, "requirements": [{"typeCode": TYPE_CODE}]}),
            ),
            &[(Operator, 201)],
        ),
        row(
            "POST",
            "/v1/agencies",
            Some(
                json!({"uscc": uscc("11220000MB0000009"), "name": "x", "jurisdiction": "22", "scopes": []}),
            ),
            &[(Operator, 201)],
        ),
        row(
            "POST",
            format!("/v1/agencies/{agency_uscc}/keys"),
            None,
            &[(Operator, 201)],
        ),
        row(
            "GET",
            format!("/v1/agencies/{agency_uscc}"),
            None,
            &[(Operator, 200)],
        ),
        row(
            "POST",
            format!("/v1/holders/{CITIZEN}/tokens"),
            None,
            &[(Operator, 201)],
        ),
        row("GET", "/v1/stats", None, &[(Operator, 200)]),
        row(
            "GET",
            format!("/v1/licences/{lid}"),
            None,
            &[(Operator, 200), (Issuer, 200)],
        ),
        row(
            "POST",
            "/v1/applications",
            Some(body),
            &agency_only(201, 403),
        ),
        row(
            "GET",
            format!("/v1/applications/{app_id}"),
            None,
            &agency_only(200, 404),
        ),
        row(
            "GET",
            "/v1/applications/00000000-0000-0000-0000-000000000000",
            None,
            &agency_only(404, 404),
        ),
        row(
            "GET",
            format!("/v1/applications/{app_id}/licences/{lid}"),
            None,
            &agency_only(200, 404),
        ),
        row(
            "GET",
            format!("/v1/applications/{app_id}/licences/{missing}"),
            None,
            &agency_only(403, 404),
        ),
        row(
            "GET",
            format!("/v1/agency/licences/{lid}"),
            None,
            &agency_only(200, 403),
        ),
        row(
            "GET",
            format!("/v1/agency/licences/{missing}"),
            None,
            &agency_only(403, 403),
        ),
        row(
            "POST",
            "/v1/consents",
            Some(grant),
            &[(OtherHolder, 404), (Holder, 201)],
        ),
        row(
            "GET",
            "/v1/holder/licences",
            None,
            &[(OtherHolder, 200), (Holder, 200)],
        ),
        row(
            "GET",
            format!("/v1/holder/licences/{lid}"),
            None,
            &[(OtherHolder, 404), (Holder, 200)],
        ),
        row(
            "GET",
            format!("/v1/holder/licences/{missing}"),
            None,
            &[(OtherHolder, 404), (Holder, 404)],
        ),
        row(
            "GET",
            "/v1/holder/access-records",
            None,
            &[(OtherHolder, 200), (Holder, 200)],
        ),
        row(
            "GET",
            "/v1/holder/consents",
            None,
            &[(OtherHolder, 200), (Holder, 200)],
        ),
        row(
            "POST",
            format!("/v1/applications/{app_id}/close"),
            None,
            &agency_only(200, 404),
        ),
        row(
            "DELETE",
            format!("/v1/consents/{consent_id}"),
            None,
            &[(OtherHolder, 404), (Holder, 200)],
        ),
    ];
    for row in rows {
        for who in EVERYONE {
            let expected = row
                .allowed
                .iter()
                .find(|(w, _)| *w == who)
                .map(|(_, s)| *s)
                .or(row.public)
                .unwrap_or(401);
            let response = app
                .call(row.method, &row.path, tokens.of(who), row.body.as_ref())
                .await;
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            assert_eq!(
                status, expected,
                "{who:?} {} {}: {text}",
                row.method, row.path
            );
            if who == OtherHolder {
                assert!(
                    !text.contains(&lid),
                    "another holder sees nothing of the licence: {text}"
                );
            }
            if status == 401 {
                assert!(text.contains("_token"), "{who:?} {}: {text}", row.path);
            }
        }
    }
    // "Not yours" and "does not exist" answer alike: same status and code.
    let code = |v: Value| v["code"].clone();
    let a = app
        .call(
            "GET",
            &format!("/v1/holder/licences/{lid}"),
            Some(&tokens.other_holder),
            None,
        )
        .await;
    let b = app
        .call(
            "GET",
            &format!("/v1/holder/licences/{missing}"),
            Some(&tokens.other_holder),
            None,
        )
        .await;
    assert_eq!(
        code(json_with_status(a, 404).await),
        code(json_with_status(b, 404).await)
    );
    let a = app
        .call(
            "GET",
            &format!("/v1/agency/licences/{lid}"),
            Some(&tokens.other_agency),
            None,
        )
        .await;
    let b = app
        .call(
            "GET",
            &format!("/v1/agency/licences/{missing}"),
            Some(&tokens.other_agency),
            None,
        )
        .await;
    assert_eq!(
        code(json_with_status(a, 403).await),
        code(json_with_status(b, 403).await)
    );
    let a = app
        .call(
            "GET",
            &format!("/v1/applications/{app_id}"),
            Some(&tokens.other_agency),
            None,
        )
        .await;
    let b = app
        .call(
            "GET",
            "/v1/applications/nope",
            Some(&tokens.other_agency),
            None,
        )
        .await;
    assert_eq!(
        code(json_with_status(a, 404).await),
        code(json_with_status(b, 404).await)
    );
}
