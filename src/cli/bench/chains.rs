//! Issuer chains signed as they go, for the harnesses that run longer than anything could be
//! signed in advance (`bench crash-cycles`, `bench soak`): each envelope is signed after the
//! current head, with fresh licences, when it is about to be posted.

use anyhow::Context as _;
use chrono::{Duration, TimeZone as _, Utc};
use serde_json::{json, Value};

use super::fixtures::{self, BenchIssuer, ChosenType};
use crate::cli::client::Registry;
use crate::domain::identifiers::{DivisionCode, LicenceId, TypeCode};
use crate::issuer::{self, ChainState, LicenceDraft};

/// What every licence of a run is: its type, schema version, division and public base.
#[derive(Clone)]
pub struct Licensing {
    pub code: TypeCode,
    pub schema_version: u32,
    pub jurisdiction: DivisionCode,
    pub public_base: String,
}

/// One registered issuer and the head of its chain as far as this client knows.
pub struct Chain {
    pub issuer: BenchIssuer,
    index: usize,
    method: String,
    state: ChainState,
    serial: usize,
}

/// An envelope ready to post, and the licences it carries.
#[derive(Clone)]
pub struct Signed {
    pub envelope: Value,
    pub licences: Vec<Value>,
}

impl Chain {
    /// Registers issuer `index` (fresh key, authorised for the chosen type).
    pub async fn register(
        registry: &Registry,
        chosen: &ChosenType,
        what: &Licensing,
        index: usize,
    ) -> anyhow::Result<Self> {
        let issuer = fixtures::register_issuer(registry, chosen, &what.jurisdiction, index)
            .await
            .with_context(|| format!("registering issuer {index}"))?;
        let method = issuer::verification_method(&issuer.did, &issuer.key);
        let state = ChainState::new(what.public_base.clone(), issuer.did.clone());
        Ok(Self {
            issuer,
            index,
            method,
            state,
            serial: 0,
        })
    }

    /// Signs the envelope after the head with `count` fresh licences.
    pub fn sign_next(&mut self, what: &Licensing, count: usize) -> anyhow::Result<Signed> {
        let now = Utc::now();
        let valid_from = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .context("a real date")?;
        let mut licences = Vec::with_capacity(count);
        for _ in 0..count {
            let n = self.serial;
            self.serial += 1;
            let draft = LicenceDraft {
                id: LicenceId::build(&what.code, &self.issuer.uscc, &format!("R{n:09}"), 1)?,
                issuer_did: self.issuer.did.clone(),
                public_base: what.public_base.clone(),
                schema_version: what.schema_version,
                valid_from,
                valid_until: Some(valid_from + Duration::days(3650)),
                jurisdiction: what.jurisdiction.clone(),
                subject: fixtures::subject(&what.code, self.index, n),
                previous: None,
            };
            let vc = issuer::build_licence(&draft)?;
            licences.push(issuer::sign_licence(
                &vc,
                &self.issuer.key,
                &self.method,
                now,
            )?);
        }
        let items = licences.iter().map(|l| json!({"licence": l})).collect();
        let (sequence, previous) = self.state.next();
        let envelope = issuer::build_envelope(
            &self.issuer.did,
            sequence,
            previous,
            items,
            &self.issuer.key,
            &self.method,
            now,
        )?;
        Ok(Signed { envelope, licences })
    }

    /// Moves the head to `envelope`, which the registry accepted.
    pub fn advance(&mut self, envelope: &Value) {
        self.state.advance(envelope);
    }
}

/// The licence type and division of a run: the first published person-held type with a sample
/// subject, in 长春市 (220100).
pub async fn licensing(registry: &Registry) -> anyhow::Result<(ChosenType, Licensing)> {
    let chosen = fixtures::choose_type(registry, None).await?;
    let what = Licensing {
        code: chosen.code.clone(),
        schema_version: chosen.schema_version,
        jurisdiction: "220100".parse()?,
        public_base: super::service::PUBLIC_URL.to_owned(),
    };
    Ok((chosen, what))
}
