//! The directory of licence types (目录清单): public reads and operator upkeep. Its refusals
//! are in `directory_refusals.rs`.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::directory::{new_type_body, type_count, NEW_CODE, SEEDED};

on_both_backends!(
    seeded_directory_lists_with_filters_and_paging,
    seeding_is_idempotent,
    get_one_with_versions_and_schema,
    create_publish_deprecate_lifecycle,
    add_schema_version_keeps_old_versions,
    transfer_keeps_history,
    catalogue_exports,
);

async fn seeded_directory_lists_with_filters_and_paging(app: TestApp) {
    let all = json_with_status(app.get("/v1/licence-types?perPage=100").await, 200).await;
    assert!(all["total"].as_u64().expect("total") >= 10);
    let persons = json_with_status(
        app.get("/v1/licence-types?holderCategory=1&perPage=100")
            .await,
        200,
    )
    .await;
    let companies = json_with_status(
        app.get("/v1/licence-types?holderCategory=2&perPage=100")
            .await,
        200,
    )
    .await;
    assert!(persons["total"].as_u64() > Some(0) && companies["total"].as_u64() > Some(0));
    assert_eq!(
        persons["total"].as_u64().unwrap_or(0) + companies["total"].as_u64().unwrap_or(0),
        all["total"].as_u64().unwrap_or(0)
    );
    for item in persons["items"].as_array().expect("items") {
        assert_eq!(item["holderCategory"], 1);
    }
    let page = json_with_status(app.get("/v1/licence-types?perPage=3&page=2").await, 200).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["items"][0]["code"], all["items"][3]["code"]);
    let text = json_with_status(app.get("/v1/licence-types?q=%E9%A9%BE%E9%A9%B6").await, 200).await;
    assert_eq!(
        text["total"], 1,
        "驾驶 matches the driving licence only: {text}"
    );
    assert_eq!(text["items"][0]["code"], SEEDED);
    let english = json_with_status(app.get("/v1/licence-types?q=DRIVING").await, 200).await;
    assert_eq!(english["total"], 1);
    let wildcard = json_with_status(app.get("/v1/licence-types?q=%25").await, 200).await;
    assert_eq!(wildcard["total"], 0, "% is literal, not a wildcard");
    let by_authority = json_with_status(
        app.get("/v1/licence-types?authority=11100000000013338W")
            .await,
        200,
    )
    .await;
    assert_eq!(by_authority["total"], 2);
    let published = json_with_status(
        app.get("/v1/licence-types?status=published&perPage=100")
            .await,
        200,
    )
    .await;
    assert_eq!(published["total"], all["total"]);
}

async fn seeding_is_idempotent(app: TestApp) {
    let before = type_count(&app).await;
    // The start-up seeded the embedded types; seeding them again, or from the folder they were
    // built from (what `ELICENCE_SEED_DIR` points at), adds nothing.
    let store = app.state.store.as_ref();
    let embedded = elicence::seed::seed(store, None)
        .await
        .expect("seeding again");
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/licence-types");
    let from_dir = elicence::seed::seed(store, Some(std::path::Path::new(folder)))
        .await
        .expect("seeding from the folder");
    for report in [embedded, from_dir] {
        assert_eq!(report.added, 0);
        assert_eq!(report.present as u64, before);
    }
    assert_eq!(type_count(&app).await, before);
}

async fn get_one_with_versions_and_schema(app: TestApp) {
    let body = json_with_status(app.get(&format!("/v1/licence-types/{SEEDED}")).await, 200).await;
    assert_eq!(body["nameZh"], "机动车驾驶证");
    assert_eq!(body["status"], "published");
    assert_eq!(body["latestVersion"], 1);
    let version = &body["versions"][0];
    assert!(version["digest"]
        .as_str()
        .expect("digest")
        .starts_with("uEi"));
    assert_eq!(
        version["schemaUrl"],
        format!("https://registry.test/v1/licence-types/{SEEDED}/versions/1/schema")
    );
    let response = app
        .get(&format!("/v1/licence-types/{SEEDED}/versions/1/schema"))
        .await;
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/schema+json")
    );
    let schema: Value = response.json().await.expect("schema json");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        elicence::crypto::digest::digest_value(&schema),
        version["digest"].as_str().expect("digest")
    );
    assert_problem(
        app.get(&format!("/v1/licence-types/{SEEDED}/versions/9/schema"))
            .await,
        404,
        "schema_version_not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/licence-types/11100000000013338W098").await,
        404,
        "licence_type_not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/licence-types/not-a-code").await,
        400,
        "invalid_type_code",
    )
    .await;
}

async fn create_publish_deprecate_lifecycle(app: TestApp) {
    let created = json_with_status(
        app.post_admin("/v1/licence-types", &new_type_body(NEW_CODE))
            .await,
        201,
    )
    .await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["code"], NEW_CODE);
    let published = json_with_status(
        app.post_admin(&format!("/v1/licence-types/{NEW_CODE}/publish"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(published["status"], "published");
    let deprecated = json_with_status(
        app.post_admin(
            &format!("/v1/licence-types/{NEW_CODE}/deprecate"),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(deprecated["status"], "deprecated");
    let listed = json_with_status(app.get("/v1/licence-types?status=deprecated").await, 200).await;
    assert_eq!(listed["items"][0]["code"], NEW_CODE);
}

async fn add_schema_version_keeps_old_versions(app: TestApp) {
    let mut schema = new_type_body(NEW_CODE)["schema"].clone();
    schema["properties"]["remark"] = json!({"type": "string", "title": "备注 Remark"});
    let added = json_with_status(
        app.post_admin(
            &format!("/v1/licence-types/{SEEDED}/versions"),
            &json!({"schema": schema}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(added["version"], 2);
    let body = json_with_status(app.get(&format!("/v1/licence-types/{SEEDED}")).await, 200).await;
    assert_eq!(body["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["latestVersion"], 2);
    let v1: Value = app
        .get(&format!("/v1/licence-types/{SEEDED}/versions/1/schema"))
        .await
        .json()
        .await
        .expect("v1");
    assert!(
        v1["properties"].get("remark").is_none(),
        "version 1 is unchanged"
    );
    let bad = app.post_admin(&format!("/v1/licence-types/{SEEDED}/versions"), &json!({"schema": {"type": "object", "properties": {"id": {}, "holderName": {}, "x": {"$ref": "http://evil.example/s"}}, "required": ["id", "holderName"]}})).await;
    assert_problem(bad, 422, "schema_remote_reference").await;
    let unknown = app
        .post_admin(
            "/v1/licence-types/11100000000013338W098/versions",
            &json!({"schema": schema}),
        )
        .await;
    assert_problem(unknown, 404, "licence_type_not_found").await;
}

async fn transfer_keeps_history(app: TestApp) {
    let to = json!({"name": "吉林省公安厅", "uscc": "11220000013544541J", "level": 2});
    let body = json_with_status(
        app.post_admin(
            &format!("/v1/licence-types/{SEEDED}/transfer"),
            &json!({"definingAuthority": to, "reason": "机构改革"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["definingAuthority"]["uscc"], "11220000013544541J");
    assert_eq!(body["code"], SEEDED, "the code never changes");
    let transfer = &body["transfers"][0];
    assert_eq!(transfer["from"]["uscc"], "11100000000013338W");
    assert_eq!(transfer["to"]["uscc"], "11220000013544541J");
    assert_eq!(transfer["reason"], "机构改革");
    assert!(transfer["effectiveAt"].is_string());
    let again = app
        .post_admin(
            &format!("/v1/licence-types/{SEEDED}/transfer"),
            &json!({"definingAuthority": to}),
        )
        .await;
    assert_problem(again, 409, "same_authority").await;
    let bad = app
        .post_admin(
            &format!("/v1/licence-types/{SEEDED}/transfer"),
            &json!({"definingAuthority": {"name": "x", "uscc": "11220000013544541K", "level": 2}}),
        )
        .await;
    assert_problem(bad, 400, "invalid_authority").await;
}

async fn catalogue_exports(app: TestApp) {
    let total = type_count(&app).await;
    let json = json_with_status(app.get("/v1/catalogue.json").await, 200).await;
    assert_eq!(json["count"].as_u64(), Some(total));
    assert_eq!(
        json["licenceTypes"].as_array().map(Vec::len),
        Some(total as usize)
    );
    let response = app.get("/v1/catalogue.csv").await;
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let bytes = response.bytes().await.expect("csv");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM first");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len() as u64, total);
    assert!(rows
        .iter()
        .any(|r| &r[0] == SEEDED && &r[1] == "机动车驾驶证"));
}
