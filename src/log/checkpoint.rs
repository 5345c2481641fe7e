//! Signed checkpoints: the C2SP `tlog-checkpoint` body inside a C2SP `signed-note`, signed with
//! the registry's Ed25519 key.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key hash ‖ signature)>`. The key hash is the first 4 bytes of
//! `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`, and a verifier key is written
//! `<name>+<8 hex key hash>+<base64(0x01 ‖ public key)>`. The registry's key name is the log's
//! origin, and [`open`] insists on it. Opening follows Go's `golang.org/x/mod/sumdb/note`:
//! lines by unknown keys are skipped, the first line by the trusted key must verify, and a note
//! with no such line is refused.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The algorithm byte of Ed25519 note keys.
const ED25519_ALG: u8 = 0x01;
/// Start of every signature line: an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Go's limit on signature lines, so a huge note cannot keep the verifier busy.
const MAX_SIGNATURES: usize = 100;

/// Why a checkpoint, note or verifier key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A key name (the origin) that is empty or holds `+` or whitespace.
    #[error("invalid key name {0:?}: it must be non-empty, without '+' or whitespace")]
    InvalidKeyName(String),
    /// A verifier key string that does not parse.
    #[error("malformed verifier key: {0}")]
    MalformedVkey(&'static str),
    /// A verifier key whose hash does not match its name and public key.
    #[error("verifier key hash does not match its name and public key")]
    VkeyHashMismatch,
    /// A note that is not a well-formed signed note.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// No signature line by the trusted key.
    #[error("the note has no signature by {0}")]
    NotSigned(String),
    /// A signature line by the trusted key that does not verify.
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    /// A note text that is not a checkpoint body.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint whose origin is not the signing key's name.
    #[error("checkpoint origin {origin:?} is not the key name {key_name:?}")]
    OriginMismatch {
        /// The checkpoint's origin line.
        origin: String,
        /// The name of the key that signed it.
        key_name: String,
    },
}

/// A commitment to the log at one size: `origin`, number of leaves, root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity; also the signing key's name, so no `+` and no whitespace.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The Merkle root at that size.
    pub root: Hash,
}

impl Checkpoint {
    /// A checkpoint whose origin is a valid key name, so [`Checkpoint::sign`] yields an
    /// openable note.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        check_key_name(&origin)?;
        Ok(Self { origin, size, root })
    }

    /// The note text: `"<origin>\n<size>\n<base64 root>\n"`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body strictly; extension lines after the root are allowed and
    /// ignored. This does not check any signature: use [`open`] on notes.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::MalformedCheckpoint;
        let lines = body
            .strip_suffix('\n')
            .ok_or(malformed("the body must end with a newline"))?;
        let mut lines = lines.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty());
        let origin = origin.ok_or(malformed("empty origin"))?;
        let size = parse_size(lines.next().ok_or(malformed("missing tree size"))?)?;
        let root = lines.next().ok_or(malformed("missing root hash"))?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .ok_or(malformed("the root is not a base64 32-byte hash"))?;
        if lines.any(str::is_empty) {
            return Err(malformed("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Signs the body as a note, with the origin as key name.
    ///
    /// The origin must be a valid key name (see [`Checkpoint::new`]); otherwise the note cannot
    /// be opened.
    pub fn sign(&self, key: &SigningKey) -> String {
        sign_note(&self.body(), &self.origin, key)
    }
}

/// Opens a signed checkpoint with the verifier key `vkey`: checks the signature, parses the
/// body, and checks that the origin is the key name.
pub fn open(note: &str, vkey: &str) -> Result<Checkpoint, CheckpointError> {
    let (name, key) = parse_vkey(vkey)?;
    let checkpoint = Checkpoint::parse(open_note(note, &name, &key)?)?;
    if checkpoint.origin != name {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
            key_name: name,
        });
    }
    Ok(checkpoint)
}

/// The verifier key string: `<name>+<8 hex key hash>+<base64(0x01 ‖ public key)>`.
pub fn vkey(name: &str, key: &VerifyingKey) -> String {
    let mut encoded = vec![ED25519_ALG];
    encoded.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_hash(name, key)),
        STANDARD.encode(encoded)
    )
}

/// Parses a verifier key string into its name and Ed25519 key, checking the key hash.
pub fn parse_vkey(s: &str) -> Result<(String, VerifyingKey), CheckpointError> {
    let malformed = CheckpointError::MalformedVkey;
    let (name, rest) = s
        .split_once('+')
        .ok_or(malformed("no '+' after the name"))?;
    check_key_name(name)?;
    let (hash_hex, key_b64) = rest
        .split_once('+')
        .ok_or(malformed("no '+' after the hash"))?;
    let hash: [u8; 4] = hex::decode(hash_hex)
        .ok()
        .and_then(|h| h.try_into().ok())
        .ok_or(malformed("the key hash is not 8 hex digits"))?;
    let encoded = STANDARD
        .decode(key_b64)
        .map_err(|_| malformed("the key is not base64"))?;
    let key_bytes = match encoded.split_first() {
        Some((&ED25519_ALG, key)) => key,
        _ => return Err(malformed("not an Ed25519 key")),
    };
    let key_bytes: &[u8; 32] = key_bytes
        .try_into()
        .map_err(|_| malformed("an Ed25519 key is 32 bytes"))?;
    let key = VerifyingKey::from_bytes(key_bytes).map_err(|_| malformed("not a curve point"))?;
    if key_hash(name, &key) != hash {
        return Err(CheckpointError::VkeyHashMismatch);
    }
    Ok((name.to_owned(), key))
}

/// The 4-byte key hash: the start of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([ED25519_ALG])
        .chain_update(key.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Signs any note text (which must end in a newline) with one Ed25519 key named `name`.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> String {
    let signature = key.sign(text.as_bytes());
    let mut blob = key_hash(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{text}\n{SIG_PREFIX}{name} {}\n", STANDARD.encode(blob))
}

/// Verifies a signed note against one key and returns its text (ending in a newline).
pub fn open_note<'a>(
    note: &'a str,
    name: &str,
    key: &VerifyingKey,
) -> Result<&'a str, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(malformed("control character"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    let signatures = signatures
        .strip_suffix('\n')
        .ok_or(malformed("the signatures must end with a newline"))?;
    let wanted_hash = key_hash(name, key);
    let mut lines = signatures.split('\n');
    if lines.clone().count() > MAX_SIGNATURES {
        return Err(malformed("too many signatures"));
    }
    // Later lines by the same key are ignored, as Go does; only the first one counts.
    let ours = lines.try_fold(None, |found, line| {
        let (line_name, hash, signature) = parse_signature_line(line)?;
        let is_ours = line_name == name && hash == wanted_hash;
        Ok::<_, CheckpointError>(found.or(is_ours.then_some(signature)))
    })?;
    let signature = ours.ok_or_else(|| CheckpointError::NotSigned(name.to_owned()))?;
    let signature = Signature::from_slice(&signature)
        .map_err(|_| CheckpointError::BadSignature(name.to_owned()))?;
    key.verify_strict(text.as_bytes(), &signature)
        .map_err(|_| CheckpointError::BadSignature(name.to_owned()))?;
    Ok(text)
}

/// Splits `— <name> <base64>` into name, key hash and signature bytes.
fn parse_signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    let line = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(malformed("a signature line must start with an em dash"))?;
    let (name, b64) = line
        .split_once(' ')
        .ok_or(malformed("no space in a signature line"))?;
    check_key_name(name).map_err(|_| malformed("invalid signer name"))?;
    let blob = STANDARD
        .decode(b64)
        .map_err(|_| malformed("signature is not base64"))?;
    if blob.len() < 5 {
        return Err(malformed("signature too short"));
    }
    let (hash, signature) = blob.split_at(4);
    Ok((
        name,
        [hash[0], hash[1], hash[2], hash[3]],
        signature.to_vec(),
    ))
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(CheckpointError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// ASCII decimal without sign or leading zeros (except `0` itself).
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let malformed = CheckpointError::MalformedCheckpoint;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("the tree size is not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(malformed("the tree size has a leading zero"));
    }
    s.parse()
        .map_err(|_| malformed("the tree size is too large"))
}

#[cfg(test)]
mod tests;
