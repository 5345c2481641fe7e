//! `elicence offline-qr FILE|-`: the offline QR payload of a signed licence (`EL1:…`, see
//! `docs/offline.md`) as text, the same text the holder's offline QR code carries, to paste
//! into `elicence verify --qr`, `POST /v1/verify {"qr": …}` or any QR generator.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;

use crate::crypto::strict_json;

use super::verify::{read, MAX_INPUT};

#[derive(Debug, Args)]
pub struct OfflineQrArgs {
    /// The signed licence (JSON, as `elicence issuer sign` writes it); `-` reads standard input.
    pub file: PathBuf,
}

/// Prints the payload.
pub fn run(args: &OfflineQrArgs) -> anyhow::Result<()> {
    let licence = strict_json::parse(&read(&args.file)?, MAX_INPUT)
        .with_context(|| format!("reading the licence {}", args.file.display()))?;
    println!("{}", payload(&licence)?);
    Ok(())
}

/// `EL1:…` of a signed licence; anything without a proof is refused, since a scanner could
/// only reject it.
pub fn payload(licence: &Value) -> anyhow::Result<String> {
    anyhow::ensure!(
        licence["proof"].is_object() && licence["credentialSubject"].is_object(),
        "not a signed licence: expected a credential with credentialSubject and proof"
    );
    Ok(crate::qr::encode_offline(licence))
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
