//! The pages as a citizen reads them: dates in China Standard Time, codes as words, the scan page
//! in Chinese first whatever the phone asks for, field titles from the schema in both languages,
//! the site icon; and what stays hidden on a refused scan.

use chrono::Utc;
use elicence::crypto::digest::digest_value;
use elicence::domain::identifiers::HolderId;
use elicence::domain::presentation::PresentationRequest;
use serde_json::Value;

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;

on_both_backends!(
    the_scan_page_leads_in_chinese_and_offers_english,
    dates_and_statuses_read_as_a_citizen_reads_them,
    the_type_page_translates_its_status_and_titles,
    the_site_icon_is_served_and_linked,
    refused_scans_show_nothing_in_either_language,
);

const HOLDER: &str = "urn:cn:rid:11010519491231002X";

/// A registered licence of the test issuer (valid 2026-01-01 to 2100-01-01, issued on
/// 2026-01-01), revoked when `revoked`.
async fn licence(app: &TestApp, serial: &str, revoked: bool) -> Value {
    let mut issuer = setup_issuer(app, "91220101MA0000Q01").await;
    let licence = issuer.licence(serial);
    accept(app, &mut issuer, items(&[&licence])).await;
    if revoked {
        let change = issuer.status_change(&licence, "revoke", &digest_value(&licence));
        accept(app, &mut issuer, vec![change]).await;
    }
    licence
}

/// The path of a fresh presentation of `licence` showing `fields`, for any number of scans.
async fn presented(app: &TestApp, licence: &Value, fields: &[&str]) -> String {
    let request = PresentationRequest {
        licence: licence["id"].as_str().unwrap().to_owned(),
        fields: Some(fields.iter().map(|f| f.to_string()).collect()),
        lifetime_seconds: None,
        single_use: Some(false),
    };
    let holder = HolderId::from_urn(HOLDER).unwrap();
    let store = app.state.store.as_ref();
    let base = app.settings.public_base();
    let created = elicence::presentation::create(store, base, &holder, &request, Utc::now())
        .await
        .expect("the holder's own licence");
    created.url.strip_prefix(base).unwrap().to_owned()
}

/// The page at `path` as a phone whose language is `accept_language` sees it.
async fn page(app: &TestApp, path: &str, accept_language: &str, status: u16) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header("Accept-Language", accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), status, "{path}");
    response.text().await.unwrap()
}

/// The first ISO 8601 date (`YYYY-MM-DD`, alone or in a timestamp) in the text a reader sees,
/// outside tags and attributes.
fn raw_iso_date(html: &str) -> Option<String> {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-dd";
    (0..bytes.len().saturating_sub(shape.len() - 1)).find_map(|i| {
        let window = &bytes[i..i + shape.len()];
        let fits = window.iter().zip(shape).all(|(b, s)| match s {
            b'd' => b.is_ascii_digit(),
            _ => b == s,
        });
        fits.then(|| String::from_utf8_lossy(window).into_owned())
    })
}

async fn the_scan_page_leads_in_chinese_and_offers_english(app: TestApp) {
    let licence = licence(&app, "C1", false).await;
    let path = presented(&app, &licence, &["lawFirm"]).await;
    let english_phone = page(&app, &path, "en-US,en;q=0.9", 200).await;
    assert!(
        english_phone.contains("<html lang=\"zh-CN\">"),
        "Chinese first"
    );
    assert!(english_phone.contains("有效 <span lang=\"en\">VALID</span>"));
    assert!(english_phone.contains("<a href=\"?lang=en\" lang=\"en\" hreflang=\"en\">English</a>"));
    assert!(english_phone.contains("执业机构 <span class=\"en\" lang=\"en\">Law firm</span>"));
    let english = page(&app, &format!("{path}?lang=en"), "zh-CN", 200).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains(">VALID"));
    assert!(english.contains("<dt>Law firm</dt>") && !english.contains("执业机构"));
    assert!(english.contains("<a href=\"?lang=zh\" lang=\"zh-CN\" hreflang=\"zh-CN\">中文</a>"));
    // Anything but English is the Chinese page.
    for lang in ["xx", "", "zh", "%3Cb%3E"] {
        let other = page(&app, &format!("{path}?lang={lang}"), "en", 200).await;
        assert!(other.contains("<html lang=\"zh-CN\">"), "?lang={lang}");
    }
}

async fn dates_and_statuses_read_as_a_citizen_reads_them(app: TestApp) {
    let licence = licence(&app, "C2", true).await;
    let path = presented(&app, &licence, &["issuedOn"]).await;
    let scan = page(&app, &path, "zh-CN", 200).await;
    assert_eq!(raw_iso_date(&scan), None, "{scan}");
    assert!(
        scan.contains("2026年1月1日 – 2100年1月1日"),
        "validity: {scan}"
    );
    assert!(scan.contains(
        "发证日期 <span class=\"en\" lang=\"en\">Date of issue</span></dt>\n<dd>2026年1月1日</dd>"
    ));
    assert!(
        scan.contains("（北京时间）"),
        "the check time names its zone"
    );
    assert!(scan
        .contains("data-status=\"revoked\">已注销 <span class=\"en\" lang=\"en\">Revoked</span>"));
    let english = page(&app, &format!("{path}?lang=en"), "zh-CN", 200).await;
    assert_eq!(raw_iso_date(&english), None);
    assert!(english.contains("1 January 2026 – 1 January 2100"));
    assert!(english.contains("China Standard Time (UTC+8)"));
    assert!(english.contains("data-status=\"revoked\">Revoked</dd>"));

    // The holder's page: the same words, and every scan listed with its result.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = crate::support::people::holder_token(&app, "11010519491231002X").await;
    let login = client
        .post(app.url("/holder/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let holder = client.get(app.url("/holder")).header("Cookie", cookie);
    let holder = holder.send().await.unwrap().text().await.unwrap();
    assert_eq!(raw_iso_date(&holder), None, "{holder}");
    assert!(holder
        .contains("data-status=\"revoked\">已注销 <span class=\"en\" lang=\"en\">Revoked</span>"));
    assert!(holder.contains("2026年1月1日 – 2100年1月1日"));
    assert!(
        holder.contains("注销 <span class=\"en\" lang=\"en\">Revoked</span>：测试原因"),
        "the history says why"
    );
    assert!(
        holder.contains("data-result=\"revoked\">已注销"),
        "the scan is listed with its result"
    );
    assert!(holder.contains("扫码出示 <span class=\"en\" lang=\"en\">QR code scan</span>"));
    // A revoked licence is not offered for presenting, by QR code or offline.
    assert!(
        !holder.contains("action=\"/holder/presentations\""),
        "{holder}"
    );
    assert!(!holder.contains("href=\"/holder/licences/"));
    assert!(holder.contains(
        "<p data-not-presentable>此证照已注销，不能出示。<span lang=\"en\">This licence is revoked and cannot be presented.</span></p>"
    ));
}

async fn the_type_page_translates_its_status_and_titles(app: TestApp) {
    let detail = page(&app, "/catalogue/11100000000012851E001", "en", 200).await;
    assert!(detail.contains(
        "data-status=\"published\">已发布 <span class=\"en\" lang=\"en\">Published</span>"
    ));
    assert!(!detail.contains(">published<"));
    assert!(detail.contains(
        "统一社会信用代码 <span class=\"en\" lang=\"en\">Unified social credit code</span>"
    ));
    assert!(detail.contains("<dd class=\"code\">11100000000012851E001</dd>"));
    let all = page(&app, "/catalogue", "en", 200).await;
    assert!(all.contains("<span class=\"code\">11100000000012851E001</span>"));
    assert!(all.contains("法人<br><span class=\"en\" lang=\"en\">Legal person</span>"));
    // Every seeded type titles each of its fields in Chinese and English.
    for (file, _) in elicence::seed::EMBEDDED {
        let code = file.trim_end_matches(".json");
        let detail = page(&app, &format!("/catalogue/{code}"), "zh", 200).await;
        let titles = detail.matches("</span><br><span class=\"code\">").count();
        let rows = detail.matches("<tr><td>").count();
        assert!(
            rows > 3 && titles == rows,
            "{code}: {titles} bilingual titles of {rows}"
        );
    }
}

async fn the_site_icon_is_served_and_linked(app: TestApp) {
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
    let home = page(&app, "/", "zh", 200).await;
    assert!(home.contains("<link rel=\"icon\" href=\"/favicon.ico\" type=\"image/svg+xml\">"));
    assert_eq!(app.get("/favicon.png").await.status(), 404);
}

async fn refused_scans_show_nothing_in_either_language(app: TestApp) {
    let unknown = page(&app, "/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "en-US", 404).await;
    assert!(unknown.contains("<html lang=\"zh-CN\">") && unknown.contains("无效的二维码"));
    assert!(unknown.contains("Unknown QR code"));
    let junk = page(&app, "/p/%3Cscript%3E?lang=en", "en-US", 404).await;
    assert!(!junk.contains("<script") && !junk.contains("data-verdict"));
}

#[test]
fn a_raw_date_is_found_in_text_but_not_in_markup() {
    assert_eq!(
        raw_iso_date("<p>valid until 2026-06-01T00:00:00Z</p>").as_deref(),
        Some("2026-06-01")
    );
    assert_eq!(
        raw_iso_date("<td>1949-12-31</td>").as_deref(),
        Some("1949-12-31")
    );
    assert_eq!(
        raw_iso_date("<time datetime=\"2026-06-01\">2026年6月1日</time>"),
        None
    );
    assert_eq!(raw_iso_date("2026年6月1日 08:00（北京时间）"), None);
}
