//! `bench applications`: application checks per second, each application filed by one citizen
//! (`POST /v1/holder/applications`, the holder's own act) referencing three of its licences
//! (结婚证, driving licence, 律师执业证) for a matter that requires all three. Everything is
//! registered and accepted before the clock starts; each timed request is a full check (three
//! references judged, the application and three access records stored).

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use chrono::{Duration as Span, Utc};
use clap::Args;
use rand::Rng as _;
use serde_json::{json, Value};

use super::fixtures::{random_uscc, subject};
use super::{parse_duration, percentiles, print_report};
use crate::cli::client::{problem, Registry, Submitted};
use crate::crypto::keys::KeyPair;
use crate::domain::identifiers::{HolderId, LicenceId, TypeCode};
use crate::issuer::{
    build_envelope, build_licence, did_for, sign_licence, verification_method, LicenceDraft,
};

/// The three person-held types referenced, with their defining authorities.
const TYPES: [(&str, &str); 3] = [
    ("11100000000013155A001", "11100000000013155A"),
    ("11100000000013338W001", "11100000000013338W"),
    ("11100000000014062K001", "11100000000014062K"),
];

/// `bench applications`.
#[derive(Debug, Args)]
pub struct ApplicationBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    #[command(flatten)]
    operator: crate::cli::args::OperatorArgs,
    /// How long to run: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Requests in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Sets up one citizen with three licences, an agency and a matter, then files applications.
pub async fn applications(args: ApplicationBench) -> anyhow::Result<()> {
    let registry = args.registry.operator(&args.operator)?;
    let public = args.registry.public_url().to_owned();
    let (applicant, references) = issue_three(&registry, &public).await?;
    let matter = agency_and_matter(&registry).await?;
    let api_key = holder_token(&registry, &applicant).await?;
    let body = serde_json::to_vec(&json!({
        "matter": matter, "licences": references, "useCause": "压测 benchmark",
    }))?;
    let url = registry.url("/v1/holder/applications");
    let deadline = Instant::now() + args.duration;
    let start = Instant::now();
    let workers: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let (http, url, body, key) = (
                registry.http().clone(),
                url.clone(),
                body.clone(),
                api_key.clone(),
            );
            tokio::spawn(async move {
                let (mut ok, mut errors, mut unsatisfied) = (Vec::new(), 0usize, 0usize);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status().is_success() => {
                            let answer: Value = r.json().await.unwrap_or(Value::Null);
                            if answer["fullySatisfied"] != Value::Bool(true) {
                                unsatisfied += 1;
                            }
                            ok.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (ok, errors, unsatisfied)
            })
        })
        .collect();
    let (mut latencies, mut errors, mut unsatisfied) = (Vec::new(), 0, 0);
    for worker in workers {
        let (ok, failed, partial) = worker.await.context("a worker panicked")?;
        latencies.extend(ok);
        errors += failed;
        unsatisfied += partial;
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let report = json!({
        "benchmark": "applications",
        "referencesPerApplication": references.len(),
        "concurrency": args.concurrency,
        "seconds": secs,
        "requests": latencies.len(),
        "errors": errors,
        "notFullySatisfied": unsatisfied,
        "requestsPerSecond": latencies.len() as f64 / secs,
        "latencyMs": percentiles(&latencies),
    });
    print_report(&report, args.json);
    if latencies.is_empty() || unsatisfied > 0 {
        bail!(
            "{} applications succeeded, {unsatisfied} not fully satisfied, {errors} errors",
            latencies.len()
        );
    }
    Ok(())
}

/// Registers an issuer authorised for the three types and has one licence of each accepted for
/// one citizen; answers the citizen's id and the three licence URNs.
async fn issue_three(registry: &Registry, public: &str) -> anyhow::Result<(String, Vec<String>)> {
    let issuer = random_uscc();
    let key = KeyPair::generate();
    let did = did_for(public, &issuer).context("the public URL has no did:web host")?;
    registry
        .admin_post(
            "/v1/issuers",
            &json!({"uscc": issuer, "name": "压测发证方"}),
        )
        .await?;
    let from = "2020-01-01T00:00:00Z";
    registry
        .admin_post(
            &format!("/v1/issuers/{issuer}/keys"),
            &json!({"publicKey": key.multikey(), "validFrom": from}),
        )
        .await?;
    for (code, authority) in TYPES {
        registry
            .admin_post(
                "/v1/authorisations",
                &json!({"issuer": issuer, "typeCodes": [code],
                "jurisdiction": "22", "validFrom": from, "grantedBy": authority}),
            )
            .await?;
    }
    let holder = subject(&TYPES[0].0.parse()?, 0, 0)["id"].clone();
    let applicant = HolderId::from_urn(holder.as_str().context("holder id")?)?
        .bare()
        .to_owned();
    let vm = verification_method(&did, &key);
    let now = Utc::now();
    let mut licences = Vec::new();
    for (code, _) in TYPES {
        let code: TypeCode = code.parse()?;
        let mut fields = if code.as_str() == TYPES[2].0 {
            json!({"holderName": "张三", "certificateNumber": "12201202610123456",
                   "practiceType": "专职律师", "lawFirm": "吉林某律师事务所",
                   "issuingAuthority": "吉林省司法厅", "issuedOn": "2026-01-01"})
        } else {
            subject(&code, 0, 0)
        };
        fields["id"] = holder.clone();
        let serial: u32 = rand::thread_rng().gen_range(1_000_000..10_000_000);
        let draft = LicenceDraft {
            id: LicenceId::build(&code, &issuer, &serial.to_string(), 1)?,
            issuer_did: did.clone(),
            public_base: public.trim_end_matches('/').to_owned(),
            schema_version: 1,
            valid_from: now - Span::days(1),
            valid_until: Some(now + Span::days(5 * 365)),
            jurisdiction: "220102".parse()?,
            subject: fields,
            previous: None,
        };
        licences.push(sign_licence(
            &build_licence(&draft)?,
            &key,
            &vm,
            now - Span::minutes(1),
        )?);
    }
    let items = licences.iter().map(|l| json!({"licence": l})).collect();
    let envelope = build_envelope(&did, 1, None, items, &key, &vm, now)?;
    match registry.submit(serde_json::to_vec(&envelope)?).await? {
        Submitted::Accepted { .. } => {}
        Submitted::Rejected(body) => bail!("the licences were refused: {body}"),
        Submitted::Conflict(_) => bail!("a fresh issuer's chain conflicted"),
    }
    let ids = licences
        .iter()
        .map(|l| l["id"].as_str().map(str::to_owned).context("licence id"))
        .collect::<anyhow::Result<_>>()?;
    Ok((applicant, ids))
}

/// A holder token for the applicant (the operator's development stand-in for the sign-in).
async fn holder_token(registry: &Registry, applicant: &str) -> anyhow::Result<String> {
    let created = registry
        .admin_post(&format!("/v1/holders/{applicant}/tokens"), &json!({}))
        .await?;
    Ok(created["token"]
        .as_str()
        .with_context(|| format!("no holder token: {}", problem(&created)))?
        .to_owned())
}

/// Registers an agency and a matter it handles requiring the three types.
async fn agency_and_matter(registry: &Registry) -> anyhow::Result<String> {
    let agency = random_uscc();
    let created = registry
        .admin_post(
            "/v1/agencies",
            &json!({"uscc": agency, "name": "压测政务服务中心",
            "jurisdiction": "220100", "scopes": ["applications"]}),
        )
        .await?;
    created["apiKey"]
        .as_str()
        .with_context(|| format!("no apiKey: {}", problem(&created)))?;
    let matter = format!("BENCH-{}", rand::thread_rng().gen_range(100_000..1_000_000));
    let requirements: Vec<Value> = TYPES
        .iter()
        .map(|(code, _)| json!({"typeCode": code, "required": true}))
        .collect();
    registry
        .admin_post(
            "/v1/matters",
            &json!({"code": matter, "name": "压测事项",
            "agency": agency, "requirements": requirements}),
        )
        .await?;
    Ok(matter)
}
