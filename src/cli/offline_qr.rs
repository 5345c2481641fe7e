//! `elicence offline-qr [--receipt R] FILE|-`: the offline QR payload of a signed licence as
//! text (see `docs/offline.md`), the same text the holder's offline QR code carries, to paste
//! into `elicence verify --qr`, `POST /v1/verify {"qr": …}` or any QR generator. With the
//! licence's registration receipt (`items[i].registration` of the submission receipt) it is
//! `EL2:…`, which an offline verifier accepts as registered; without, `EL1:…`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;

use crate::crypto::strict_json;
use crate::log::registration::Registration;

use super::verify::{read, MAX_INPUT};

#[derive(Debug, Args)]
pub struct OfflineQrArgs {
    /// The signed licence (JSON, as `elicence issuer sign` writes it); `-` reads standard input.
    pub file: PathBuf,
    /// The licence's registration receipt, as the submission receipt gives it
    /// (`items[i].registration`): the payload becomes `EL2:…`.
    #[arg(long)]
    pub receipt: Option<String>,
}

/// Prints the payload.
pub fn run(args: &OfflineQrArgs) -> anyhow::Result<()> {
    let licence = strict_json::parse(&read(&args.file)?, MAX_INPUT)
        .with_context(|| format!("reading the licence {}", args.file.display()))?;
    let text = match &args.receipt {
        Some(receipt) => {
            let receipt = Registration::decode(receipt.trim())
                .map_err(|e| anyhow::anyhow!("--receipt is not a registration receipt: {e}"))?;
            check_signed(&licence)?;
            crate::qr::encode_registered(&licence, &receipt)
        }
        None => payload(&licence)?,
    };
    println!("{text}");
    Ok(())
}

/// `EL1:…` of a signed licence; anything without a proof is refused, since a scanner could
/// only reject it.
pub fn payload(licence: &Value) -> anyhow::Result<String> {
    check_signed(licence)?;
    Ok(crate::qr::encode_offline(licence))
}

fn check_signed(licence: &Value) -> anyhow::Result<()> {
    anyhow::ensure!(
        licence["proof"].is_object() && licence["credentialSubject"].is_object(),
        "not a signed licence: expected a credential with credentialSubject and proof"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_payload_decodes_to_the_same_licence() {
        let licence = json!({
            "id": "urn:elicence:x", "credentialSubject": {"holderName": "张三"},
            "proof": {"type": "DataIntegrityProof", "proofValue": "z3"}
        });
        let text = payload(&licence).unwrap();
        assert!(text.starts_with("EL1:"), "{text}");
        assert_eq!(crate::qr::decode_offline(&text, 1 << 20).unwrap(), licence);
    }

    #[test]
    fn an_unsigned_document_is_refused() {
        for doc in [
            json!({"credentialSubject": {}}),
            json!([1]),
            json!({"proof": {}}),
        ] {
            assert!(payload(&doc).is_err(), "{doc}");
        }
    }
}
