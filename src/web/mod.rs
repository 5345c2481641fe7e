//! The HTML pages: the landing page, the public directory, the holder's page and the page a
//! presentation QR code opens. Server-side minijinja templates, embedded in the binary with one
//! small stylesheet; no JavaScript, no external assets.

use std::sync::OnceLock;

use actix_web::{http::header, web, HttpResponse};
use minijinja::Environment;
use serde::Serialize;

use crate::error::ApiError;

mod catalogue;
mod holder;
mod holder_applications;
mod holder_oidc;
mod holder_session;
mod holder_tokens;

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
        for (name, source) in TEMPLATES {
            // Invariant: the embedded templates parse (every page test renders them).
            env.add_template(name, source)
                .expect("embedded template parses");
        }
        env
    })
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

    #[test]
    fn the_presentation_page_renders_every_value_kind() {
        let shown = serde_json::json!({
            "verdict": {"valid": false, "reasons": [{"code": "revoked", "zh": "注销", "en": "revoked"}]},
            "typeName": {"zh": "结婚证", "en": "Marriage certificate"}, "holderName": "张*",
            "fields": [
                {"name": "sex", "title": "性别 Sex", "value": "女"},
                {"name": "vehicleClasses", "title": "准驾车型", "value": ["C1", "D"]},
                {"name": "spouse", "title": "配偶", "value": {"name": "李四"}},
                {"name": "landArea", "title": "面积", "value": 12.5}
            ],
            "issuer": {"zh": "某机关", "en": "某机关"}, "issuerUscc": "11220000013544541J",
            "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
            "status": "revoked", "version": 1, "checkedAt": "2026-11-26T00:00:00Z", "logIndex": 3,
            "licence": "urn:elicence:x"
        });
        let html = templates()
            .get_template("presentation.html")
            .unwrap()
            .render(minijinja::context! { s => shown, en => false, status_text => "注销", lang => "zh-CN" })
            .unwrap();
        assert!(html.contains("C1、D") && html.contains("name: 李四") && html.contains("12.5"));
    }
}
