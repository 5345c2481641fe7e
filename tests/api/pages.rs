//! The HTML pages: landing, directory with search and type detail, the stylesheet.

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(landing_and_stylesheet, catalogue_search_and_detail);

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
    assert!(detail.contains("执业证号 Certificate number") && detail.contains("lawFirm"));
    assert!(detail.contains("/v1/licence-types/11100000000014062K001/versions/1/schema"));
    html(&app, "/catalogue/11100000000014062K999", 404).await;
    html(&app, "/catalogue/nonsense", 404).await;
}
