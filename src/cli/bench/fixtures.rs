//! What `bench submit` prepares before the clock starts: a licence type and a subject that its
//! schema accepts, registered and authorised issuers with fresh keys, and every envelope of
//! every issuer's chain, signed.
//!
//! Subjects are hard-coded for two seeded person-held types, 结婚证 (`11100000000013155A001`) and
//! the driving licence (`11100000000013338W001`): generating values for arbitrary patterns is
//! more machinery than a load generator deserves. The first published person-held type with a
//! sample is used (or `--type-code`), and the sample is checked against the type's schema as the
//! registry serves it before anything is timed.

use anyhow::{bail, Context as _};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use rand::Rng as _;
use serde_json::{json, Value};

use super::super::client::Registry;
use crate::crypto::keys::KeyPair;
use crate::domain::identifiers::{DivisionCode, LicenceId, ResidentId, TypeCode, Uscc};
use crate::domain::schema::CompiledSchema;
use crate::issuer::{self, ChainState, LicenceDraft};

/// The seeded types this benchmark can fill a subject for.
const SAMPLE_TYPES: [&str; 2] = ["11100000000013155A001", "11100000000013338W001"];

/// The licence type the benchmark issues.
pub struct ChosenType {
    pub code: TypeCode,
    pub schema_version: u32,
    /// The defining authority's USCC, which grants the authorisations.
    pub authority: Uscc,
}

/// One registered issuer, its key and DID.
pub struct BenchIssuer {
    pub uscc: Uscc,
    pub did: String,
    pub key: KeyPair,
}

/// Picks the type: `wanted`, else the first published person-held type with a sample.
pub async fn choose_type(
    registry: &Registry,
    wanted: Option<&TypeCode>,
) -> anyhow::Result<ChosenType> {
    let page = registry
        .get_json("/v1/licence-types?status=published&holderCategory=1&perPage=100")
        .await?;
    let items = page["items"]
        .as_array()
        .context("the directory answer has no items")?;
    let found = items.iter().find(|t| {
        let code = t["code"].as_str().unwrap_or("");
        match wanted {
            Some(w) => code == w.as_str(),
            None => SAMPLE_TYPES.contains(&code),
        }
    });
    let Some(found) = found else {
        bail!("no published person-held licence type among {SAMPLE_TYPES:?} (or --type-code)");
    };
    let code: TypeCode = found["code"].as_str().unwrap_or("").parse()?;
    if !SAMPLE_TYPES.contains(&code.as_str()) {
        bail!("no sample subject for {code}; known: {SAMPLE_TYPES:?}");
    }
    let chosen = ChosenType {
        schema_version: found["latestVersion"].as_u64().unwrap_or(1).try_into()?,
        authority: found["definingAuthority"]["uscc"]
            .as_str()
            .unwrap_or("")
            .parse()?,
        code,
    };
    check_sample(registry, &chosen).await?;
    Ok(chosen)
}

/// Validates a sample subject against the schema the registry serves for the chosen type.
async fn check_sample(registry: &Registry, chosen: &ChosenType) -> anyhow::Result<()> {
    let path = format!(
        "/v1/licence-types/{}/versions/{}/schema",
        chosen.code, chosen.schema_version
    );
    let schema = CompiledSchema::compile(registry.get_json(&path).await?)
        .map_err(|e| anyhow::anyhow!("the schema of {}: {e}", chosen.code))?;
    let sample = subject(&chosen.code, 0, 0);
    if let Err(errors) = schema.validate(&sample, 10) {
        bail!(
            "the sample subject for {} fails its schema: {errors:?}",
            chosen.code
        );
    }
    Ok(())
}

/// A subject for licence `n` of issuer `i` of the chosen type (one of [`SAMPLE_TYPES`]).
pub fn subject(code: &TypeCode, i: usize, n: usize) -> Value {
    let holder = format!("urn:cn:rid:{}", resident_id(i, n));
    if code.as_str() == SAMPLE_TYPES[0] {
        json!({
            "id": holder, "holderName": "张三",
            "certificateNumber": format!("J220102-2025-{:06}", n % 1_000_000),
            "registeredOn": "2025-05-20",
            "spouse": {"name": "李四", "idNumber": "220102199002020024"},
            "registrationAuthority": "长春市南关区民政局",
        })
    } else {
        json!({
            "id": holder, "holderName": "张三", "sex": "男", "birthDate": "1990-01-01",
            "firstIssuedOn": "2010-06-01", "vehicleClasses": ["C1"], "validityTerm": "10年",
            "issuingAuthority": "吉林省长春市公安局交通警察支队",
        })
    }
}

/// A valid resident ID born 1990-01-01 in 220102, varied by issuer and licence.
fn resident_id(i: usize, n: usize) -> ResidentId {
    let sequence = (i * 7919 + n) % 1000;
    // 6 division digits + 8 date digits + 3 sequence digits: 17 digits with a real birth date.
    ResidentId::with_check(&format!("22010219900101{sequence:03}")).expect("17 digits, real date")
}

/// A random valid USCC of a Jilin enterprise (`91220100…`).
pub fn random_uscc() -> Uscc {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut rng = rand::thread_rng();
    let body: String = (0..9)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    Uscc::with_check(&format!("91220100{body}")).expect("17 characters of the USCC alphabet")
}

/// Registers an issuer with a fresh key and authorises it for `chosen` in `jurisdiction`.
pub async fn register_issuer(
    registry: &Registry,
    chosen: &ChosenType,
    jurisdiction: &DivisionCode,
    index: usize,
) -> anyhow::Result<BenchIssuer> {
    let uscc = random_uscc();
    let key = KeyPair::generate();
    let long_ago = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .expect("a real date");
    registry
        .admin_post(
            "/v1/issuers",
            &json!({"uscc": uscc, "name": format!("压测发证方 {index}"), "contact": "bench@example.invalid"}),
        )
        .await?;
    let key_from = Utc::now() - Duration::hours(1);
    registry
        .admin_post(
            &format!("/v1/issuers/{uscc}/keys"),
            &json!({"publicKey": key.multikey(), "validFrom": issuer_time(key_from)}),
        )
        .await?;
    registry
        .admin_post(
            "/v1/authorisations",
            &json!({"issuer": uscc, "typeCodes": [chosen.code], "jurisdiction": jurisdiction,
                    "validFrom": issuer_time(long_ago), "grantedBy": chosen.authority}),
        )
        .await?;
    let head = registry.head(&uscc).await?;
    Ok(BenchIssuer {
        uscc,
        did: head.issuer,
        key,
    })
}

/// Signs `envelopes` envelopes of `per_envelope` licences each for `issuer`, chained from an
/// empty head, serialised and ready to post.
pub fn presign(
    issuer: &BenchIssuer,
    index: usize,
    chosen: &ChosenType,
    jurisdiction: &DivisionCode,
    public_base: &str,
    envelopes: usize,
    per_envelope: usize,
) -> anyhow::Result<(Vec<Vec<u8>>, Value)> {
    let vm = issuer::verification_method(&issuer.did, &issuer.key);
    let now = Utc::now();
    let valid_from = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a real date");
    let mut state = ChainState::new(public_base, &issuer.did);
    let mut out = Vec::with_capacity(envelopes);
    let mut first_licence = Value::Null;
    for e in 0..envelopes {
        let mut items = Vec::with_capacity(per_envelope);
        for k in 0..per_envelope {
            let n = e * per_envelope + k;
            let draft = LicenceDraft {
                id: LicenceId::build(&chosen.code, &issuer.uscc, &format!("B{n:08}"), 1)?,
                issuer_did: issuer.did.clone(),
                public_base: public_base.to_owned(),
                schema_version: chosen.schema_version,
                valid_from,
                valid_until: Some(valid_from + Duration::days(3650)),
                jurisdiction: jurisdiction.clone(),
                subject: subject(&chosen.code, index, n),
                previous: None,
            };
            let signed =
                issuer::sign_licence(&issuer::build_licence(&draft)?, &issuer.key, &vm, now)?;
            if first_licence.is_null() {
                first_licence = signed.clone();
            }
            items.push(json!({"licence": signed}));
        }
        let (sequence, previous) = state.next();
        let envelope = issuer::build_envelope(
            &issuer.did,
            sequence,
            previous,
            items,
            &issuer.key,
            &vm,
            now,
        )?;
        state.advance(&envelope);
        out.push(serde_json::to_vec(&envelope)?);
    }
    Ok((out, first_licence))
}

fn issuer_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
