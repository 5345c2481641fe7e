//! `elicence demo`: the whole story against a running registry, printed step by step. The
//! operator registers an issuer (key, authorisations) and an agency; the issuer signs and
//! submits licences for a citizen and a company; matters are defined; the citizen applies with
//! its own licences, the company approves an application the agency prepared, both satisfied by
//! reference; the agency reads a licence; the citizen lists who used it.
//!
//! Every run uses fresh random USCCs, so it can be repeated against the same registry.

use anyhow::{bail, Context as _};
use chrono::{Duration, Utc};
use clap::Args;
use rand::Rng as _;
use secrecy::ExposeSecret as _;
use serde_json::{json, Value};

use crate::crypto::keys::KeyPair;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::issuer::{
    build_envelope, build_licence, did_for, sign_licence, verification_method, LicenceDraft,
};

/// 律师执业证 (persons) and its defining authority.
const LAWYER: (&str, &str) = ("11100000000014062K001", "11100000000014062K");
/// 营业执照 (legal persons) and its defining authority.
const BUSINESS: (&str, &str) = ("111000000000176429001", "111000000000176429");
/// The demo citizen (a test resident ID from GB 11643).
const CITIZEN: &str = "11010519491231002X";

/// `elicence demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    #[command(flatten)]
    operator: crate::cli::args::OperatorArgs,
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{method} {path}: {status}: {}",
                super::client::problem(&body)
            );
        }
        Ok(body)
    }
}

fn step(n: u32, text: &str) {
    println!("\n{n}. {text}");
}

fn random_uscc(prefix: &str) -> anyhow::Result<Uscc> {
    let mut rng = rand::thread_rng();
    let digits: String = (0..17 - prefix.len())
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    Ok(Uscc::with_check(&format!("{prefix}{digits}"))?)
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let admin = args.operator.token()?;
    let admin = admin.expose_secret();
    let base = args.registry.registry_url.trim_end_matches('/').to_owned();
    let public = args.registry.public_url().to_owned();
    let c = Client {
        http: reqwest::Client::new(),
        base,
    };
    let issuer = random_uscc("91220101MA")?;
    let agency = random_uscc("11220000MB")?;
    let company = random_uscc("91220102MA")?;
    let did = did_for(&public, &issuer).context("the public URL has no did:web host")?;
    let key = KeyPair::generate();

    step(
        1,
        "The operator registers an issuer, its signing key, and its authorisations",
    );
    c.call(
        "POST",
        "/v1/issuers",
        admin,
        Some(json!({"uscc": issuer, "name": "演示签发机构"})),
    )
    .await?;
    let from = "2020-01-01T00:00:00Z";
    c.call(
        "POST",
        &format!("/v1/issuers/{issuer}/keys"),
        admin,
        Some(json!({"publicKey": key.multikey(), "validFrom": from})),
    )
    .await?;
    for (code, authority) in [LAWYER, BUSINESS] {
        c.call("POST", "/v1/authorisations", admin, Some(json!({
            "issuer": issuer, "typeCodes": [code], "jurisdiction": "22", "validFrom": from, "grantedBy": authority,
        }))).await?;
    }
    println!("   issuer {issuer} ({did}), key {}", key.multikey());

    step(
        2,
        "The operator registers an agency (用证部门) and gets its API key, once",
    );
    let registered = c.call("POST", "/v1/agencies", admin, Some(json!({
        "uscc": agency, "name": "演示市政务服务中心", "jurisdiction": "220100", "scopes": ["verify", "applications", "read"],
    }))).await?;
    let api_key = registered["apiKey"].as_str().context("apiKey")?.to_owned();
    println!("   agency {agency}, scopes verify applications read");

    step(
        3,
        "The issuer signs licences for a citizen and a company and submits them in one envelope",
    );
    let lawyer = licence(
        &issuer,
        &did,
        &key,
        &public,
        LAWYER.0,
        &format!("urn:cn:rid:{CITIZEN}"),
        json!({
            "holderName": "张三", "certificateNumber": "12201202610123456", "practiceType": "专职律师",
            "lawFirm": "吉林某律师事务所", "issuingAuthority": "吉林省司法厅", "issuedOn": "2026-01-01",
        }),
    )?;
    let business = licence(
        &issuer,
        &did,
        &key,
        &public,
        BUSINESS.0,
        &format!("urn:cn:uscc:{company}"),
        json!({
            "holderName": "吉林某科技有限公司", "entityType": "有限责任公司", "legalRepresentative": "李四",
            "establishedOn": "2020-05-01", "domicile": "吉林省长春市", "businessScope": "软件开发",
            "registrationAuthority": "长春市市场监督管理局",
        }),
    )?;
    let vm = verification_method(&did, &key);
    let envelope = build_envelope(
        &did,
        1,
        None,
        vec![json!({"licence": lawyer}), json!({"licence": business})],
        &key,
        &vm,
        Utc::now(),
    )?;
    let receipt = c
        .call("POST", "/v1/submissions", "", Some(envelope))
        .await?;
    println!(
        "   accepted into the log, tree size {}",
        receipt["treeSize"]
    );
    println!(
        "   {} (citizen)\n   {} (company)",
        lawyer["id"].as_str().unwrap_or(""),
        business["id"].as_str().unwrap_or("")
    );

    step(
        4,
        "The operator defines service matters handled by the agency",
    );
    let suffix: u16 = rand::thread_rng().gen_range(1000..10000);
    let (m1, m2) = (format!("DEMO-SF-{suffix}"), format!("DEMO-SC-{suffix}"));
    for (code, name, type_code) in [
        (&m1, "律师执业备案", LAWYER.0),
        (&m2, "企业开办登记", BUSINESS.0),
    ] {
        c.call("POST", "/v1/matters", admin, Some(json!({
            "code": code, "name": name, "agency": agency, "requirements": [{"typeCode": type_code, "required": true}],
        }))).await?;
        println!("   {code} {name}: requires {type_code}");
    }

    step(
        5,
        "The citizen applies with its own licences; the company approves the agency's application",
    );
    let token = holder_token(&c, admin, CITIZEN).await?;
    let citizen_app = c
        .call(
            "POST",
            "/v1/holder/applications",
            &token,
            Some(json!({"matter": m1, "useCause": "律师执业备案", "propose": true})),
        )
        .await?;
    show_application(&citizen_app);
    let prepared = c.call("POST", "/v1/applications", &api_key, Some(json!({
        "matter": m2, "applicant": company, "useCause": "企业开办登记", "licences": [business["id"]],
    }))).await?;
    println!(
        "   prepared by the agency: {} ({}), nothing readable yet",
        prepared["id"].as_str().unwrap_or(""),
        prepared["state"].as_str().unwrap_or("")
    );
    let company_token = holder_token(&c, admin, company.as_str()).await?;
    let approve = format!(
        "/v1/holder/applications/{}/approve",
        prepared["id"].as_str().context("application id")?
    );
    let company_app = c
        .call("POST", &approve, &company_token, Some(json!({})))
        .await?;
    show_application(&company_app);

    step(
        6,
        "The agency reads the citizen's licence through the application",
    );
    let id = citizen_app["id"].as_str().context("application id")?;
    let read = c
        .call(
            "GET",
            &format!(
                "/v1/applications/{id}/licences/{}",
                lawyer["id"].as_str().unwrap_or("")
            ),
            &api_key,
            None,
        )
        .await?;
    println!(
        "   {} — status {}, holder {}",
        read["licence"].as_str().unwrap_or(""),
        read["status"].as_str().unwrap_or(""),
        read["credential"]["credentialSubject"]["holderName"]
            .as_str()
            .unwrap_or("")
    );

    step(7, "The citizen sees its licences and who used them");
    let held = c.call("GET", "/v1/holder/licences", &token, None).await?;
    for l in held["licences"].as_array().into_iter().flatten() {
        println!(
            "   holds {} — {}",
            l["id"].as_str().unwrap_or(""),
            l["status"].as_str().unwrap_or("")
        );
    }
    let records = c
        .call("GET", "/v1/holder/access-records", &token, None)
        .await?;
    for r in records["records"].as_array().into_iter().flatten() {
        println!(
            "   #{} {} agency {} via {} for {:?}: {}",
            r["seq"],
            r["at"].as_str().unwrap_or(""),
            r["agency"].as_str().unwrap_or("-"),
            r["route"].as_str().unwrap_or(""),
            r["purpose"].as_str().unwrap_or(""),
            r["result"].as_str().unwrap_or("")
        );
    }
    println!("\nDone: run `elicence audit-access` against the database to check the access-record chain.");
    Ok(())
}

fn licence(
    issuer: &Uscc,
    did: &str,
    key: &KeyPair,
    public: &str,
    type_code: &str,
    holder: &str,
    fields: Value,
) -> anyhow::Result<Value> {
    let type_code: TypeCode = type_code.parse()?;
    let serial: u32 = rand::thread_rng().gen_range(1_000_000..10_000_000);
    let mut subject = json!({"id": holder});
    if let (Some(s), Value::Object(f)) = (subject.as_object_mut(), fields) {
        s.extend(f);
    }
    let now = Utc::now();
    let draft = LicenceDraft {
        id: LicenceId::build(&type_code, issuer, &serial.to_string(), 1)?,
        issuer_did: did.to_owned(),
        public_base: public.trim_end_matches('/').to_owned(),
        schema_version: 1,
        valid_from: now - Duration::days(1),
        valid_until: Some(now + Duration::days(5 * 365)),
        jurisdiction: "220102".parse()?,
        subject,
        previous: None,
    };
    let vc = build_licence(&draft)?;
    Ok(sign_licence(
        &vc,
        key,
        &verification_method(did, key),
        now - Duration::minutes(1),
    )?)
}

/// A holder token from the operator (standing in for the identity provider's sign-in).
async fn holder_token(c: &Client, admin: &str, holder: &str) -> anyhow::Result<String> {
    let token = c
        .call("POST", &format!("/v1/holders/{holder}/tokens"), admin, None)
        .await?;
    Ok(token["token"].as_str().context("token")?.to_owned())
}

fn show_application(a: &Value) {
    println!(
        "   application {} ({}) for {} ({}): fully satisfied = {}",
        a["id"].as_str().unwrap_or(""),
        a["state"].as_str().unwrap_or(""),
        a["applicant"].as_str().unwrap_or(""),
        a["matter"].as_str().unwrap_or(""),
        a["fullySatisfied"]
    );
    for r in a["requirements"].as_array().into_iter().flatten() {
        println!(
            "     {} ← {}",
            r["typeCode"].as_str().unwrap_or(""),
            r["fulfilledBy"].as_str().unwrap_or("(unfulfilled)")
        );
    }
}
