//! The 目录清单 export: the whole directory as JSON, or as CSV (UTF-8 with a BOM so that
//! spreadsheet software shows Chinese correctly).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use crate::domain::licence_type::{LicenceType, TypeFilter};
use crate::error::ApiError;
use crate::routes::licence_types::present;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/catalogue.json", web::get().to(catalogue_json))
        .route("/v1/catalogue.csv", web::get().to(catalogue_csv));
}

/// Every licence type, in code order, fetched a page at a time.
async fn all_types(state: &AppState) -> Result<Vec<LicenceType>, ApiError> {
    let mut all = Vec::new();
    loop {
        let filter = TypeFilter {
            offset: u32::try_from(all.len()).unwrap_or(u32::MAX),
            limit: 100,
            ..TypeFilter::default()
        };
        let (page, total) = state.store.list_licence_types(&filter).await?;
        let done = page.is_empty();
        all.extend(page);
        if done || all.len() as u64 >= total {
            return Ok(all);
        }
    }
}

/// The directory as one JSON document.
#[utoipa::path(get, path = "/v1/catalogue.json", tag = "directory", responses((status = 200, description = "the whole directory")))]
pub async fn catalogue_json(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let types = all_types(&state).await?;
    let items: Vec<Value> = types.iter().map(|t| present(t, &state)).collect();
    Ok(HttpResponse::Ok().json(json!({
        "title": "电子证照目录清单 Directory of electronic licence types",
        "generatedAt": Utc::now(),
        "count": items.len(),
        "licenceTypes": items,
    })))
}

const CSV_HEADER: [&str; 13] = [
    "证照类型代码 Code",
    "证照名称 Name (zh)",
    "英文名称 Name (en)",
    "定义机构 Defining authority",
    "定义机构统一社会信用代码 Authority USCC",
    "定义机构级别 Authority level",
    "颁发机构级别 Issuing authority level",
    "持证主体类别 Holder category",
    "有效期下限(天) Min validity (days)",
    "有效期上限(天) Max validity (days)",
    "关联事项 Service matters",
    "状态 Status",
    "最新版本 Latest schema version",
];

/// The directory as CSV with a UTF-8 BOM.
#[utoipa::path(get, path = "/v1/catalogue.csv", tag = "directory", responses((status = 200, description = "the whole directory", content_type = "text/csv")))]
pub async fn catalogue_csv(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let types = all_types(&state).await?;
    let mut out = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let write = |out: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        out.write_record(CSV_HEADER)?;
        for t in &types {
            out.write_record(csv_row(t))?;
        }
        out.flush()?;
        Ok(())
    };
    write(&mut out).map_err(|e| ApiError::Internal(e.into()))?;
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"catalogue.csv\"",
        ))
        .body(bytes))
}

fn csv_row(t: &LicenceType) -> [String; 13] {
    let category = match u8::from(t.holder_category) {
        1 => "1 自然人 person",
        _ => "2 法人 legal person",
    };
    [
        t.code.to_string(),
        t.name_zh.clone(),
        t.name_en.clone(),
        t.defining_authority.name.clone(),
        t.defining_authority.uscc.to_string(),
        t.defining_authority.level.value().to_string(),
        t.issuing_authority_level.value().to_string(),
        category.to_owned(),
        t.validity.min_days.to_string(),
        t.validity.max_days.to_string(),
        t.matters.join(";"),
        t.status.as_str().to_owned(),
        t.latest_version().to_string(),
    ]
}
