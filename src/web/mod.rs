//! The HTML pages: the landing page, the public directory, the holder's page and the page a
//! presentation QR code opens. Server-side minijinja templates, embedded in the binary with one
//! small stylesheet; no JavaScript, no external assets.

use std::sync::OnceLock;

use actix_web::{http::header, web, HttpResponse};
use minijinja::Environment;
use serde::Serialize;

use crate::error::ApiError;

mod catalogue;
pub mod dates;
mod holder;
mod holder_applications;
mod holder_oidc;
mod holder_session;
mod holder_tokens;
pub mod words;

const STYLE: &str = include_str!("style.css");

/// Every template, by name; `.html` names are auto-escaped.
const TEMPLATES: [(&str, &str); 10] = [
    ("base.html", include_str!("templates/base.html")),
    ("landing.html", include_str!("templates/landing.html")),
    ("catalogue.html", include_str!("templates/catalogue.html")),
    (
        "licence_type.html",
        include_str!("templates/licence_type.html"),
    ),
    ("message.html", include_str!("templates/message.html")),
    (
        "presentation.html",
        include_str!("templates/presentation.html"),
    ),
    (
        "holder_login.html",
        include_str!("templates/holder_login.html"),
    ),
    ("holder.html", include_str!("templates/holder.html")),
    (
        "holder_token.html",
        include_str!("templates/holder_token.html"),
    ),
    (
        "holder_created.html",
        include_str!("templates/holder_created.html"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/style.css", web::get().to(style));
    catalogue::configure(cfg);
    holder::configure(cfg);
    holder_applications::configure(cfg);
    holder_oidc::configure(cfg);
    holder_tokens::configure(cfg);
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        add_filters(&mut env);
        for (name, source) in TEMPLATES {
            // Invariant: the embedded templates parse (every page test renders them).
            env.add_template(name, source)
                .expect("embedded template parses");
        }
        env
    })
}

/// What the templates use to show the registry's values as a reader expects them; each takes
/// an optional language, `"en"` for English and anything else for Chinese:
/// `{{ t | date }}` and `{{ t | datetime("en") }}` ([`dates`]), `{{ code | word }}` ([`words`]),
/// `{{ title | titled("en") }}` (one language's part of a bilingual schema title), and the test
/// `is isodate`.
fn add_filters(env: &mut Environment<'static>) {
    fn en(lang: Option<String>) -> bool {
        lang.as_deref() == Some("en")
    }
    env.add_filter("date", |v: Option<String>, lang: Option<String>| {
        dates::date(v.as_deref().unwrap_or(""), en(lang))
    });
    env.add_filter("datetime", |v: Option<String>, lang: Option<String>| {
        dates::date_time(v.as_deref().unwrap_or(""), en(lang))
    });
    env.add_filter("word", |code: Option<String>, lang: Option<String>| {
        let (zh, english) = words::word(code.as_deref().unwrap_or(""));
        if en(lang) { english } else { zh }.to_owned()
    });
    env.add_filter("titled", |title: Option<String>, lang: Option<String>| {
        let (zh, english) = split_title(title.as_deref().unwrap_or(""));
        if en(lang) { english } else { zh }.to_owned()
    });
    env.add_test("isodate", |v: minijinja::Value| {
        v.as_str().is_some_and(dates::is_date)
    });
}

/// A schema title written `中文 English` (as the seeded schemas write them) in its two parts;
/// a title in one language only is that title in both.
pub fn split_title(title: &str) -> (&str, &str) {
    match title.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) if !title[..i].trim().is_empty() => (title[..i].trim(), title[i..].trim()),
        _ => (title, title),
    }
}

/// Renders `name` with `context` as a page with `status`.
pub(crate) fn page(
    status: actix_web::http::StatusCode,
    name: &str,
    context: impl Serialize,
) -> Result<HttpResponse, ApiError> {
    let html = templates()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("template {name}: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(html))
}

/// Every page's Content-Security-Policy: nothing from elsewhere, forms only to this site.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

/// A page with a title and one short bilingual message.
pub(crate) fn message(
    status: actix_web::http::StatusCode,
    title: (&str, &str),
    text: (&str, &str),
) -> Result<HttpResponse, ApiError> {
    page(
        status,
        "message.html",
        minijinja::context! {
            title_zh => title.0, title_en => title.1, text_zh => text.0, text_en => text.1,
        },
    )
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            templates().get_template(name).expect(name);
        }
    }

    fn scan_page(status: &str, en: bool) -> String {
        let shown = serde_json::json!({
            "verdict": {"valid": false, "reasons": [{"code": "revoked", "zh": "注销", "en": "Revoked by the issuer"}]},
            "typeName": {"zh": "结婚证", "en": "Marriage certificate"}, "holderName": "张*",
            "fields": [
                {"name": "sex", "title": "性别 Sex", "value": "女"},
                {"name": "vehicleClasses", "title": "准驾车型", "value": ["C1", "D"]},
                {"name": "spouse", "title": "配偶 Spouse", "value": {"name": "李四"}},
                {"name": "landArea", "title": "面积 Area", "value": 12.5},
                {"name": "birthDate", "title": "出生日期 Date of birth", "value": "1949-12-31"}
            ],
            "issuer": {"zh": "某机关", "en": "某机关"}, "issuerUscc": "11220000013544541J",
            "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
            "status": status, "version": 1, "checkedAt": "2026-11-26T17:30:00Z", "logIndex": 3,
            "licence": "urn:elicence:x"
        });
        let (ln, lang) = if en { ("en", "en") } else { ("zh", "zh-CN") };
        templates()
            .get_template("presentation.html")
            .unwrap()
            .render(minijinja::context! { s => shown, en, ln, lang })
            .unwrap()
    }

    #[test]
    fn the_presentation_page_renders_every_value_kind() {
        let html = scan_page("revoked", false);
        assert!(html.contains("C1、D") && html.contains("name: 李四") && html.contains("12.5"));
    }

    #[test]
    fn the_scan_page_shows_dates_in_china_standard_time_and_words_for_codes() {
        let zh = scan_page("revoked", false);
        assert!(zh.contains("2026年1月1日 – 2027年1月1日"), "{zh}");
        assert!(zh.contains("2026年11月27日 01:30（北京时间）"), "{zh}");
        assert!(zh.contains("1949年12月31日") && !zh.contains("1949-12-31"));
        assert!(
            zh.contains(">已注销 <span class=\"en\" lang=\"en\">Revoked</span><"),
            "{zh}"
        );
        assert!(!zh.contains(">revoked<"));
        assert!(zh.contains("性别 <span class=\"en\" lang=\"en\">Sex</span>"));
        assert!(
            zh.contains("<dt>准驾车型</dt>"),
            "a title in one language is shown once"
        );
        assert!(!zh.contains("T00:00:00Z") && !zh.contains("2026-11-26"));
        let en = scan_page("expired", true);
        assert!(en.contains("1 January 2026 – 1 January 2027"), "{en}");
        assert!(en.contains("27 November 2026, 01:30 China Standard Time (UTC+8)"));
        assert!(en.contains(">Expired<") && en.contains(">Sex<") && !en.contains("性别"));
        assert!(en.contains("href=\"?lang=zh\""));
    }

    #[test]
    fn a_bilingual_title_splits_into_its_languages() {
        assert_eq!(split_title("性别 Sex"), ("性别", "Sex"));
        assert_eq!(
            split_title("法定代表人（负责人） Legal representative"),
            ("法定代表人（负责人）", "Legal representative")
        );
        assert_eq!(
            split_title("宗地面积 Parcel area (m²)"),
            ("宗地面积", "Parcel area (m²)")
        );
        assert_eq!(split_title("准驾车型"), ("准驾车型", "准驾车型"));
        assert_eq!(split_title("holderName"), ("holderName", "holderName"));
    }
}
