//! The HTML pages: landing, directory with search and type detail, the stylesheet.

use crate::on_both_backends;
use crate::support::app::TestApp;

on_both_backends!(
    landing_and_stylesheet,
    catalogue_search_and_detail,
    holder_page_signs_in_lists_and_presents,
    holder_page_approves_declines_and_withdraws_applications,
    holder_page_withdraws_a_consent,
);

async fn html(app: &TestApp, path: &str, status: u16) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status().as_u16(), status, "{path}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{path}: {kind}");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"zh-CN\">"),
        "{path}: lang attribute"
    );
    assert!(!body.contains("<script"), "{path}: no JavaScript");
    assert!(
        !body.contains("http://") && !body.contains("//cdn"),
        "{path}: no external assets"
    );
    body
}

async fn landing_and_stylesheet(app: TestApp) {
    let body = html(&app, "/", 200).await;
    assert!(body.contains("电子证照") && body.contains("Electronic licences"));
    assert!(body.contains("href=\"/holder\"") && body.contains("href=\"/catalogue\""));
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(css.text().await.unwrap().contains(".verdict"));
}

async fn catalogue_search_and_detail(app: TestApp) {
    let all = html(&app, "/catalogue", 200).await;
    assert!(all.contains("律师执业证") && all.contains("营业执照"));
    assert!(all.contains("<label for=\"q\">"), "labelled search box");
    let found = html(&app, "/catalogue?q=%E5%BE%8B%E5%B8%88", 200).await; // 律师
    assert!(found.contains("律师执业证") && !found.contains("营业执照"));
    let english = html(&app, "/catalogue?q=business", 200).await;
    assert!(english.contains("营业执照") && !english.contains("律师执业证"));
    let escaped = html(&app, "/catalogue?q=%3Cb%3E", 200).await;
    assert!(escaped.contains("&lt;b&gt;") && !escaped.contains("<b>"));
    let detail = html(&app, "/catalogue/11100000000014062K001", 200).await;
    assert!(detail.contains("执业证号") && detail.contains("Certificate number"));
    assert!(detail.contains("lawFirm"));
    assert!(detail.contains("/v1/licence-types/11100000000014062K001/versions/1/schema"));
    html(&app, "/catalogue/11100000000014062K999", 404).await;
    html(&app, "/catalogue/nonsense", 404).await;
}

async fn holder_page_signs_in_lists_and_presents(app: TestApp) {
    let mut issuer = crate::support::signing::setup_issuer(&app, "91220101MA0000Q09").await;
    let licence = issuer.licence("H1");
    crate::support::submissions::accept(
        &app,
        &mut issuer,
        crate::support::signing::items(&[&licence]),
    )
    .await;
    let token = crate::support::people::holder_token(&app, "11010519491231002X").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(app.url("/holder"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("<label for=\"token\">") && form.contains("action=\"/holder/login\""));
    let wrong = client
        .post(app.url("/holder/login"))
        .form(&[("token", "not-a-valid-token-at-all")]);
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    let login = client
        .post(app.url("/holder/login"))
        .form(&[("token", token.as_str())]);
    let login = login.send().await.unwrap();
    assert_eq!(login.status(), 303);
    let set = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/holder"),
        "{set}"
    );
    assert!(set.contains("Secure"), "https public URL: {set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = client
        .get(app.url("/holder"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("律师执业证") && page.contains(licence["id"].as_str().unwrap()));
    assert!(page.contains("name=\"field\" value=\"lawFirm\""));
    assert!(page.contains("data-sign-in=\"development\""));
    let csrf = csrf_in(&page);
    let form = [
        ("csrf", csrf.as_str()),
        ("licence", licence["id"].as_str().unwrap()),
        ("field", "holderName"),
        ("field", "lawFirm"),
        ("lifetime", "300"),
        ("use", "single"),
    ];
    let created = client
        .post(app.url("/holder/presentations"))
        .header("Cookie", &cookie)
        .form(&form);
    let created = created.send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created = created.text().await.unwrap().replace("&#x2f;", "/");
    let url = created
        .split("id=\"presentation-url\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let scan = app
        .get(url.strip_prefix("https://registry.test").unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(scan.contains("data-verdict=\"valid\"") && scan.contains("吉林某律师事务所"));
    let again = client
        .get(app.url("/holder"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        again.text().await.unwrap().contains("qr_scan"),
        "the scan is listed"
    );
    let offline = format!(
        "/holder/licences/{}/offline-qr.svg",
        licence["id"].as_str().unwrap()
    );
    let svg = client
        .get(app.url(&offline))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(
        client.get(app.url(&offline)).send().await.unwrap().status(),
        404
    );
}

/// The CSRF token of a signed-in holder page.
fn csrf_in(page: &str) -> String {
    let rest = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a CSRF field");
    rest.split('"').next().unwrap().to_owned()
}

/// Signs in on the holder page; answers the session cookie.
async fn sign_in(app: &TestApp, client: &reqwest::Client, holder: &str) -> String {
    let token = crate::support::people::holder_token(app, holder).await;
    let login = client
        .post(app.url("/holder/login"))
        .form(&[("token", token.as_str())]);
    let login = login.send().await.unwrap();
    let set = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

async fn holder_page_approves_declines_and_withdraws_applications(app: TestApp) {
    use serde_json::json;
    let (_issuer, current) = crate::support::people::issuer_with_licence(&app).await;
    let lid = current["id"].as_str().unwrap();
    let (agency, key) =
        crate::support::people::agency(&app, "11220000MB0000001", &["applications"]).await;
    crate::support::people::matter(&app, "WEB", &agency, &[crate::support::signing::TYPE_CODE])
        .await;
    let body = json!({"matter": "WEB", "applicant": crate::support::people::CITIZEN, "licences": [lid], "useCause": "网上办"});
    let file = |body: serde_json::Value| crate::support::people::file_application(&app, &key, body);
    let first: serde_json::Value = file(body.clone()).await.json().await.unwrap();
    let second: serde_json::Value = file(body).await.json().await.unwrap();
    let (first, second) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = sign_in(&app, &client, crate::support::people::CITIZEN).await;
    let first_page = client.get(app.url("/holder")).header("Cookie", &cookie);
    let csrf = csrf_in(&first_page.send().await.unwrap().text().await.unwrap());
    let post = |path: String, mut form: Vec<(&'static str, String)>| {
        form.push(("csrf", csrf.clone()));
        client
            .post(app.url(&path))
            .header("Cookie", &cookie)
            .form(&form)
            .send()
    };
    let page = || async {
        let page = client.get(app.url("/holder")).header("Cookie", &cookie);
        page.send().await.unwrap().text().await.unwrap()
    };
    let shown = page().await;
    assert!(shown.contains(&format!(
        "data-application=\"{first}\" data-state=\"pending\""
    )));
    assert!(
        shown.contains(&format!("name=\"licence\" value=\"{lid}\" checked")),
        "{shown}"
    );
    assert!(shown.contains("网上办"));
    let read = format!("/v1/applications/{first}/licences/{lid}");
    let agency_reads = || async {
        app.call("GET", &read, Some(&key), None)
            .await
            .status()
            .as_u16()
    };
    assert_eq!(agency_reads().await, 403);
    // Approve the first with the ticked licence, decline the second.
    let approve = format!("/holder/applications/{first}/approve");
    let done = post(approve.clone(), vec![("licence", lid.to_owned())])
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(agency_reads().await, 200);
    let done = post(format!("/holder/applications/{second}/decline"), vec![])
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let shown = page().await;
    assert!(shown.contains(&format!(
        "data-application=\"{second}\" data-state=\"declined\""
    )));
    assert!(shown.contains(&format!("action=\"/holder/applications/{first}/withdraw\"")));
    // A second approval is refused with a page saying why.
    let again = post(approve, vec![("licence", lid.to_owned())])
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("not pending"));
    let done = post(format!("/holder/applications/{first}/withdraw"), vec![])
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(agency_reads().await, 403);
    // Without the cookie, or with it but without the session's CSRF token, nothing happens.
    let anonymous = client
        .post(app.url(&format!("/holder/applications/{second}/withdraw")))
        .form(&[("csrf", csrf.as_str())]);
    assert_eq!(anonymous.send().await.unwrap().status(), 403);
    let cross_site = client
        .post(app.url(&format!("/holder/applications/{first}/withdraw")))
        .header("Cookie", &cookie)
        .form(&[("x", "y")]);
    assert_eq!(cross_site.send().await.unwrap().status(), 403);
}

async fn holder_page_withdraws_a_consent(app: TestApp) {
    use serde_json::json;
    let (_issuer, current) = crate::support::people::issuer_with_licence(&app).await;
    let (agency, _key) = crate::support::people::agency(&app, "11220000MB0000002", &["read"]).await;
    let token = crate::support::people::holder_token(&app, crate::support::people::CITIZEN).await;
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let body = json!({"agency": agency, "licences": [current["id"]], "purpose": "公积金提取", "until": until});
    let consent = app
        .call("POST", "/v1/consents", Some(&token), Some(&body))
        .await;
    assert_eq!(consent.status(), 201);
    let consent: serde_json::Value = consent.json().await.unwrap();
    let action = format!(
        "/holder/consents/{}/withdraw",
        consent["id"].as_str().unwrap()
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = sign_in(&app, &client, crate::support::people::CITIZEN).await;
    let page = |cookie: String| {
        let request = client.get(app.url("/holder")).header("Cookie", cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let before = page(cookie.clone()).await;
    assert!(before.contains(&format!("action=\"{action}\"")), "{before}");
    let post = |fields: Vec<(&'static str, String)>| {
        let request = client
            .post(app.url(&action))
            .header("Cookie", cookie.clone())
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    // Without the page's CSRF token: refused, and the consent stands.
    assert_eq!(post(vec![]).await.status(), 403);
    let listed = app
        .call("GET", "/v1/holder/consents", Some(&token), None)
        .await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["consents"][0]["state"], "active");

    let done = post(vec![("csrf", csrf_in(&before))]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/holder");
    let after = page(cookie.clone()).await;
    assert!(after.contains("data-state=\"withdrawn\""), "{after}");
    assert!(
        !after.contains(&format!("action=\"{action}\"")),
        "no second withdrawal offered"
    );
    let listed = app
        .call("GET", "/v1/holder/consents", Some(&token), None)
        .await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["consents"][0]["state"], "withdrawn");
    // Again: a page that says why, not a second withdrawal.
    let again = post(vec![("csrf", csrf_in(&after))]).await;
    assert_eq!(again.status(), 409);
    // Another holder's consent is not found from this page.
    let other = sign_in(&app, &client, crate::support::people::OTHER).await;
    let stranger = client
        .get(app.url("/holder"))
        .header("Cookie", other.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let theirs = client
        .post(app.url(&action))
        .header("Cookie", other)
        .form(&[("csrf", csrf_in(&stranger))])
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404);
}
