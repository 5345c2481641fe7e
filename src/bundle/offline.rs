//! Verifying a licence against a trust bundle, with no call to the registry. The check list
//! and its order are the online verifier's: signature, issuerKey, authorisation, schema,
//! validityPeriod, status, registered, chain. `status`, `registered` and `chain` can only be as
//! fresh as the bundle, and say so (`asOf`); a bundle past `nextUpdate` adds a warning.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::document::{licence_hash, registered_hash, BundleIssuer, BundleType, TrustedBundle};
use crate::crypto::digest::multibase_sha256;
use crate::crypto::jcs::canonicalize;
use crate::crypto::{multikey, proof};
use crate::domain::authorisation::{covering, withdrawn_covering};
use crate::domain::schema::CompiledSchema;
use crate::domain::submission::licence::{check_fit, parse, LicenceClaims, Submitter};
use crate::domain::time::seconds;

/// One named check with its verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub code: String,
    pub message: Message,
    /// For checks that depend on registry state: the bundle's `issuedAt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// A message in Chinese and English.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

/// The verdict on one credential.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineResult {
    /// True only when every check passed (warnings do not count against it).
    pub verified: bool,
    pub mode: &'static str,
    /// The bundle's `issuedAt`: registry state is known as of then.
    pub as_of: String,
    /// A summary of the licence, when it could be read.
    pub licence: Value,
    pub checks: Vec<Check>,
    pub warnings: Vec<Check>,
}

/// Why a document could not be verified at all (it is not a licence).
#[derive(Debug, thiserror::Error)]
#[error("not a licence credential: {0}")]
pub struct NotALicence(pub String);

/// Verifies `credential` as of `at` against an opened bundle.
pub fn verify_offline(
    credential: &Value,
    trusted: &TrustedBundle,
    at: DateTime<Utc>,
) -> Result<OfflineResult, NotALicence> {
    let bundle = trusted.bundle();
    let issuer_did = credential
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let uscc = crate::issuer::uscc_of_did(issuer_did)
        .filter(|u| issuer_did == format!("{}:issuers:{u}", bundle.registry))
        .ok_or_else(|| {
            NotALicence(format!(
                "issuer {issuer_did:?} is not an issuer of {}",
                bundle.registry
            ))
        })?;
    let by = Submitter {
        issuer: &uscc,
        issuer_did,
        public_base: &bundle.public_base,
    };
    let claims =
        parse(credential, &by).map_err(|e| NotALicence(format!("{}: {}", e.code, e.detail)))?;
    let issuer = bundle.issuers.iter().find(|i| i.uscc == uscc);
    let licence_type = bundle
        .licence_types
        .iter()
        .find(|t| &t.code == claims.id.type_code());
    let as_of = seconds(bundle.issued_at);
    let mut checks = vec![signature(credential, issuer_did)];
    checks.push(issuer_key(credential, issuer));
    checks.push(authorisation(trusted, credential, &claims));
    checks.push(schema(credential, licence_type, &claims));
    checks.push(validity(&claims, at));
    checks.extend(
        [
            status(trusted, &claims, at),
            registered(trusted, &claims),
            chain(trusted, &claims),
        ]
        .into_iter()
        .map(|c| Check {
            as_of: Some(as_of.clone()),
            ..c
        }),
    );
    let mut warnings = Vec::new();
    // A bundle cannot vouch for registry state past nextUpdate, whether that is now or the
    // time asked about.
    if at.max(Utc::now()) > bundle.next_update {
        warnings.push(fail("bundle", "bundle_stale",
            format!("信任包已过期（下次更新时间 {}），撤销与状态信息可能已过时", seconds(bundle.next_update)),
            format!("the trust bundle is stale (nextUpdate {}): revocations and status may be out of date", seconds(bundle.next_update))));
    }
    Ok(OfflineResult {
        verified: checks.iter().all(|c| c.ok),
        mode: "offline",
        as_of,
        licence: summary(&claims, issuer, licence_type),
        checks,
        warnings,
    })
}

fn summary(claims: &LicenceClaims, issuer: Option<&BundleIssuer>, t: Option<&BundleType>) -> Value {
    json!({
        "id": claims.id.urn(),
        "typeCode": claims.id.type_code(),
        "typeName": t.map(|t| json!({"zh": t.name_zh, "en": t.name_en})),
        "issuer": {"uscc": claims.id.issuer(), "name": issuer.map(|i| i.name.clone())},
        "holderCategory": claims.holder.category(),
        "validFrom": seconds(claims.valid_from),
        "validUntil": seconds(claims.valid_until),
        "version": claims.id.version(),
    })
}

fn signature(credential: &Value, issuer_did: &str) -> Check {
    let name = "signature";
    let prepared = match proof::prepare(credential) {
        Ok(p) => p,
        Err(e) => {
            return fail(
                name,
                e.code(),
                "签名格式无效",
                format!("the proof is malformed: {e}"),
            )
        }
    };
    let key = prepared
        .verification_method
        .strip_prefix(issuer_did)
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|k| multikey::decode(k).ok());
    let Some(key) = key else {
        return fail(
            name,
            "verification_method_invalid",
            "验证方法不是签发机构的密钥",
            "the verification method is not one of the issuer's keys",
        );
    };
    match prepared.verify_with(&key) {
        Ok(_) => pass(
            name,
            "signature_valid",
            "签名有效",
            "the signature is valid",
        ),
        Err(e) => fail(
            name,
            e.code(),
            "签名无效",
            format!("the signature does not verify: {e}"),
        ),
    }
}

/// The proof's `created`: when the issuer says it signed.
fn proof_created(credential: &Value) -> Option<DateTime<Utc>> {
    credential
        .get("proof")
        .and_then(|p| p.get("created"))
        .and_then(Value::as_str)
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map(|c| c.with_timezone(&Utc))
}

fn issuer_key(credential: &Value, issuer: Option<&BundleIssuer>) -> Check {
    let name = "issuerKey";
    let Some(issuer) = issuer else {
        return fail(
            name,
            "issuer_unknown",
            "签发机构不在信任包中",
            "the issuer is not in the trust bundle",
        );
    };
    let proof = credential.get("proof");
    let method = proof
        .and_then(|p| p.get("verificationMethod"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created = proof_created(credential);
    let key = method
        .split_once('#')
        .and_then(|(_, k)| issuer.keys.iter().find(|key| key.multikey == k));
    let (Some(key), Some(created)) = (key, created) else {
        return fail(
            name,
            "key_unknown",
            "签名密钥不属于该签发机构",
            "the signing key is not a key of the issuer",
        );
    };
    match key.to_domain().usable_at(created) {
        Ok(()) => pass(
            name,
            "key_valid",
            "签名时密钥有效",
            "the key was valid when the licence was signed",
        ),
        Err(e) => fail(name, e.code(), "签名时密钥不可用", e.to_string()),
    }
}

/// A grant covered the type and jurisdiction when the licence was signed (`proof.created`), as
/// online verification and intake judge it.
fn authorisation(trusted: &TrustedBundle, credential: &Value, claims: &LicenceClaims) -> Check {
    let grants: Vec<_> = trusted
        .bundle()
        .authorisations
        .iter()
        .map(|a| a.to_domain())
        .collect();
    let Some(signed_at) = proof_created(credential) else {
        return fail(
            "authorisation",
            "not_checked",
            "签名缺少创建时间",
            "the proof has no creation time",
        );
    };
    let facts = (
        claims.id.issuer(),
        claims.id.type_code(),
        &claims.jurisdiction,
        signed_at,
    );
    if let Some(g) = covering(&grants, facts.0, facts.1, facts.2, facts.3) {
        return pass(
            "authorisation",
            "authorised",
            "签发时签发机构已获授权",
            format!(
                "authorisation {} covered the licence when it was signed",
                g.id
            ),
        );
    }
    match withdrawn_covering(&grants, facts.0, facts.1, facts.2, facts.3) {
        Some(g) => fail(
            "authorisation",
            "authorisation_withdrawn",
            "授权在证照签发前已被撤回",
            format!(
                "authorisation {} was withdrawn before the licence was signed ({})",
                g.id,
                g.withdrawn_at.map(seconds).unwrap_or_default()
            ),
        ),
        None => fail(
            "authorisation",
            "not_authorised",
            "签发时签发机构未获授权",
            "no authorisation covered the type and jurisdiction when the licence was signed",
        ),
    }
}

/// The online checks' order: the type, its fit (the same rules as at intake), then the subject
/// against the version's schema.
fn schema(credential: &Value, t: Option<&BundleType>, claims: &LicenceClaims) -> Check {
    let name = "schema";
    let Some(t) = t else {
        return fail(
            name,
            "type_unknown",
            "信任包中没有该证照类型",
            "the licence type is not in the trust bundle",
        );
    };
    let version = t
        .versions
        .iter()
        .find(|v| v.version == claims.schema_version);
    let fit = check_fit(
        claims,
        &t.code,
        version.is_some(),
        t.holder_category,
        &t.validity,
    );
    if let Err(e) = fit {
        let zh = match e.code {
            "holder_category_mismatch" => "持证主体类别与证照类型不符",
            "validity_out_of_range" => "有效期长度超出证照类型允许范围",
            _ => "信任包中没有该证照类型的此模式版本",
        };
        return fail(name, e.code, zh, e.detail);
    }
    let Some(v) = version else {
        return fail(
            name,
            "schema_unknown",
            "信任包中没有该证照类型的此模式版本",
            "the schema version is not in the trust bundle",
        );
    };
    if multibase_sha256(&canonicalize(&v.schema)) != v.digest {
        return fail(
            name,
            "schema_digest_mismatch",
            "模式文件与摘要不符",
            "the schema does not match its digest",
        );
    }
    let subject = credential
        .get("credentialSubject")
        .cloned()
        .unwrap_or(Value::Null);
    match CompiledSchema::compile(v.schema.clone()).map(|s| s.validate(&subject, 5)) {
        Ok(Ok(())) => pass(
            name,
            "schema_valid",
            "证照数据符合模式",
            "the credential subject matches the type's schema",
        ),
        Ok(Err(errors)) => fail(
            name,
            "schema_invalid",
            "证照数据不符合模式",
            errors.join("; "),
        ),
        Err(e) => fail(name, "schema_unusable", "模式文件无法使用", e.to_string()),
    }
}

fn validity(claims: &LicenceClaims, at: DateTime<Utc>) -> Check {
    let name = "validityPeriod";
    if at < claims.valid_from {
        fail(
            name,
            "not_yet_valid",
            "证照尚未生效",
            format!("not valid before {}", seconds(claims.valid_from)),
        )
    } else if at >= claims.valid_until {
        fail(
            name,
            "expired",
            "证照已过期",
            format!("expired at {}", seconds(claims.valid_until)),
        )
    } else {
        pass(
            name,
            "within_validity",
            "在有效期内",
            "within its validity period",
        )
    }
}

fn status(trusted: &TrustedBundle, claims: &LicenceClaims, at: DateTime<Utc>) -> Check {
    let bundle = trusted.bundle();
    let base = licence_hash(&claims.id.base());
    if let Some(s) = bundle
        .licence_status
        .iter()
        .find(|s| s.licence == base && s.since <= at)
    {
        let zh = if s.state == "revoked" {
            "证照已撤销"
        } else {
            "证照已暂停"
        };
        return fail(
            "status",
            &s.state,
            zh,
            format!("{} since {}", s.state, seconds(s.since)),
        );
    }
    match superseded_by(trusted, claims) {
        Some(by) => fail(
            "status",
            "superseded",
            format!("已被第 {by} 版取代"),
            format!("superseded by version {by:03}"),
        ),
        None => pass("status", "active", "证照状态正常", "active"),
    }
}

fn registered(trusted: &TrustedBundle, claims: &LicenceClaims) -> Check {
    let known = registered_hash(&claims.digest)
        .is_some_and(|h| trusted.bundle().registered.binary_search(&h).is_ok());
    if known {
        pass(
            "registered",
            "registered",
            "证照已登记于透明日志",
            "the licence is in the registry's log",
        )
    } else {
        fail(
            "registered",
            "not_registered",
            "证照未在登记处登记",
            "the licence was never accepted by the registry",
        )
    }
}

fn chain(trusted: &TrustedBundle, claims: &LicenceClaims) -> Check {
    match superseded_by(trusted, claims) {
        Some(by) => fail(
            "chain",
            "superseded",
            format!("最新版本为第 {by} 版"),
            format!("the head version is {by:03}"),
        ),
        None => pass("chain", "head", "这是最新版本", "this is the head version"),
    }
}

fn superseded_by(trusted: &TrustedBundle, claims: &LicenceClaims) -> Option<u16> {
    let id = licence_hash(claims.id.as_str());
    trusted
        .bundle()
        .superseded
        .iter()
        .find(|s| s.licence == id)
        .map(|s| s.by)
}

fn pass(name: &'static str, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Check {
    Check {
        name,
        ok: true,
        code: code.into(),
        message: Message {
            zh: zh.into(),
            en: en.into(),
        },
        as_of: None,
    }
}

fn fail(name: &'static str, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Check {
    Check {
        ok: false,
        ..pass(name, code, zh, en)
    }
}
