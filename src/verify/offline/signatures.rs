//! The signature step of offline verification: the credential's signature and its receipt's,
//! one at a time by the keys' comb tables ([`one`]) or many at once in Ed25519 batches
//! ([`many`]). Both return, for each credential, the signature step's result and the digest
//! the receipt's signature verified for; a receipt not checked here is checked in its own step,
//! which tells its failure.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use super::OfflineRegistry;
use crate::crypto::{batch, comb};
use crate::log::registration::Registration;
use crate::verify::signature::{Prepared, SignatureFailure};

/// A credential's signature step, and the digest its receipt's signature verified for.
pub(super) type Checked = (Result<(), SignatureFailure>, Option<[u8; 32]>);

/// The credential's signature, and its receipt's when that one verifies: each by its key's comb
/// table where there is one ([`comb`]: an offline answer checks two signatures where an online
/// answer checks one, and with both keys known in advance each costs about half of a
/// `verify_strict`), the two tables' checks ending together ([`comb::settle`]: one field
/// inversion for both). Returns the signature step's result and the digest the receipt's
/// signature verified for; a receipt not checked here is checked in its own step, which tells
/// its failure.
pub(super) fn one(
    prepared: &Prepared<'_>,
    receipt: Option<&Registration>,
    registry: &OfflineRegistry,
) -> Checked {
    let Some((message, signature, key)) = prepared.signature_input() else {
        return (prepared.check_single(), None);
    };
    let mut pending = Vec::with_capacity(2);
    // The credential's answer when it is known already; `None` while its table's check waits.
    let credential = match registry.table(&key) {
        Some(table) => match table.begin(&message, &signature) {
            Some(begun) => {
                pending.push(begun);
                None
            }
            None => Some(false),
        },
        None => Some(key.verify_strict(&message, &signature).is_ok()),
    };
    // The receipt's check, begun beside a credential signature that may still verify.
    let receipt = match credential {
        Some(false) => None,
        _ => (|| {
            let table = registry.key_table.as_ref()?;
            let digest = prepared.proof()?.document_sha256();
            let (receipt_message, receipt_signature) = receipt?
                .signed_parts(&registry.key, &registry.origin, &digest)
                .ok()?;
            pending.push(table.begin(&receipt_message, &receipt_signature)?);
            Some(digest)
        })(),
    };
    // In the order begun: the credential's (when pending), then the receipt's.
    let mut settled = comb::settle(&pending).into_iter();
    let valid = credential.unwrap_or_else(|| settled.next() == Some(true));
    let receipt = receipt.filter(|_| settled.next() == Some(true));
    (prepared.outcome(valid), receipt.filter(|_| valid))
}

/// The signatures and receipts of many credentials (`prepared`, from `credentials` in order),
/// in Ed25519 batches ([`batch::verify_each_with`], the registry key's terms precomputed),
/// which cost a credential about half of what checking its two signatures alone does.
pub(super) fn many(
    prepared: &[Prepared<'_>],
    credentials: &[(&Value, Option<&Registration>)],
    registry: &OfflineRegistry,
) -> Vec<Checked> {
    // Each credential's signature, then its receipt's when it has one that names the key.
    /// The digest the receipt is for, its signed message and its signature.
    type Receipt = ([u8; 32], Vec<u8>, Signature);
    /// The credential's signed message, signature and key, and its receipt's parts.
    type Input = (([u8; 64], Signature, VerifyingKey), Option<Receipt>);
    let inputs: Vec<Option<Input>> = prepared
        .iter()
        .zip(credentials)
        .map(|(p, (_, receipt))| {
            let (message, signature, key) = p.signature_input()?;
            let receipt = (|| {
                let digest = p.proof()?.document_sha256();
                let (message, signature) = (*receipt)?
                    .signed_parts(&registry.key, &registry.origin, &digest)
                    .ok()?;
                Some((digest, message, signature))
            })();
            Some(((message, signature, key), receipt))
        })
        .collect();
    let mut items = Vec::with_capacity(2 * inputs.len());
    for ((message, signature, key), receipt) in inputs.iter().flatten() {
        items.push(batch::Item {
            message,
            signature,
            key,
        });
        if let Some((_, message, signature)) = receipt {
            items.push(batch::Item {
                message,
                signature,
                key: &registry.key,
            });
        }
    }
    let mut valid = batch::verify_each_with(&items, &registry.fixed).into_iter();
    inputs
        .iter()
        .zip(prepared)
        .map(|(input, p)| {
            let Some((_, receipt)) = input else {
                return (p.check_single(), None);
            };
            let signed = valid.next().unwrap_or(false);
            let receipt = receipt
                .as_ref()
                .and_then(|(digest, _, _)| valid.next().unwrap_or(false).then_some(*digest));
            (p.outcome(signed), receipt.filter(|_| signed))
        })
        .collect()
}
