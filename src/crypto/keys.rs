//! The registry's Ed25519 signing key and public key parsing.
//!
//! Private keys live in PKCS#8 v1 PEM files ("-----BEGIN PRIVATE KEY-----"),
//! byte for byte what `openssl genpkey -algorithm ed25519` writes, created with
//! mode 0600 and never overwritten. [`KeyPair`] redacts itself in `Debug` and
//! zeroizes its secret on drop.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::{Zeroize as _, Zeroizing};

use crate::crypto::multikey::{self, MultikeyError};

/// Why a key could not be loaded, stored or parsed. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// [`KeyPair::write_new`] found a file already at the path.
    #[error("key file {0} already exists; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    /// The text is not a PKCS#8 PEM Ed25519 private key.
    #[error("not a PKCS#8 PEM Ed25519 private key")]
    InvalidPrivateKey,
    /// The text is not an SPKI PEM Ed25519 public key, or the key is unusable.
    #[error("not an SPKI PEM Ed25519 public key")]
    InvalidPublicKey,
    /// The text is not a valid Ed25519 Multikey.
    #[error(transparent)]
    Multikey(#[from] MultikeyError),
}

/// An Ed25519 key pair used to sign credentials.
pub struct KeyPair(SigningKey);

impl KeyPair {
    /// Generates a fresh key from the operating system's random source.
    pub fn generate() -> KeyPair {
        KeyPair(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// Encodes the private key as PKCS#8 v1 PEM (no embedded public key, LF
    /// line endings), as `openssl genpkey -algorithm ed25519` writes it.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let mut bytes = KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        let pem = bytes.to_pkcs8_pem(LineEnding::LF);
        // `KeypairBytes` only zeroizes itself with a feature we do not enable.
        bytes.secret_key.zeroize();
        // Invariant: a 32-byte key always fits a fixed-size PKCS#8 document.
        pem.expect("encoding a 32-byte Ed25519 key as PKCS#8 cannot fail")
    }

    /// Parses a PKCS#8 PEM private key (v1, or v2 whose public key must match).
    pub fn from_pkcs8_pem(pem: &str) -> Result<KeyPair, KeyError> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(KeyPair)
            .map_err(|_| KeyError::InvalidPrivateKey)
    }

    /// Loads a PKCS#8 PEM private key file.
    pub fn load(path: &Path) -> Result<KeyPair, KeyError> {
        let pem = Zeroizing::new(fs::read_to_string(path).map_err(|e| io_error(path, e))?);
        KeyPair::from_pkcs8_pem(&pem)
    }

    /// Generates a key and writes it to a new file with mode 0600, creating
    /// parent directories. Refuses to overwrite an existing file.
    pub fn write_new(path: &Path) -> Result<KeyPair, KeyError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        let key = KeyPair::generate();
        let mut file = create_private_file(path)?;
        let written = file
            .write_all(key.to_pkcs8_pem().as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            // A half-written key would make every later start fail to load it.
            let _ = fs::remove_file(path);
            return Err(io_error(path, e));
        }
        Ok(key)
    }

    /// Loads the key at `path`, or creates one there if there is no file.
    /// The flag says whether a new key was created.
    pub fn load_or_create(path: &Path) -> Result<(KeyPair, bool), KeyError> {
        if path.exists() {
            return KeyPair::load(path).map(|key| (key, false));
        }
        match KeyPair::write_new(path) {
            Ok(key) => Ok((key, true)),
            // Another process created it between our check and our write.
            Err(KeyError::AlreadyExists(_)) => KeyPair::load(path).map(|key| (key, false)),
            Err(e) => Err(e),
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The public key as a Multikey string (`z6Mk…`).
    pub fn multikey(&self) -> String {
        multikey::encode(&self.0.verifying_key())
    }

    /// The Ed25519 signing key, for formats that sign with it directly (checkpoint notes).
    pub fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    /// Signs `message` with pure Ed25519 (RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }
}

impl From<SigningKey> for KeyPair {
    fn from(key: SigningKey) -> KeyPair {
        KeyPair(key)
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.multikey())
            .finish_non_exhaustive()
    }
}

/// Parses a public key given either as a Multikey (`z6Mk…`) or as an SPKI PEM
/// block (`-----BEGIN PUBLIC KEY-----`, as `openssl pkey -pubout` writes).
pub fn parse_public_key(s: &str) -> Result<VerifyingKey, KeyError> {
    let s = s.trim();
    if !s.starts_with("-----BEGIN PUBLIC KEY-----") {
        return Ok(multikey::decode(s)?);
    }
    let key = VerifyingKey::from_public_key_pem(s).map_err(|_| KeyError::InvalidPublicKey)?;
    if key.is_weak() {
        return Err(KeyError::InvalidPublicKey);
    }
    Ok(key)
}

/// Creates `path` exclusively, readable and writable by the owner only.
fn create_private_file(path: &Path) -> Result<fs::File, KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => KeyError::AlreadyExists(path.to_owned()),
        _ => io_error(path, e),
    })
}

fn io_error(path: &Path, source: io::Error) -> KeyError {
    KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use tempfile::TempDir;

    /// Runs openssl; `None` when the binary is not installed.
    fn openssl(args: &[&str]) -> Option<String> {
        let output = match Command::new("openssl").args(args).output() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            other => other.unwrap(),
        };
        assert!(output.status.success(), "openssl {args:?}: {output:?}");
        Some(String::from_utf8(output.stdout).unwrap())
    }

    #[test]
    fn loads_openssl_keys_and_writes_them_back_identically() {
        let dir = TempDir::new().unwrap();
        let private = dir.path().join("openssl.pem");
        let private_arg = private.to_str().unwrap();
        let Some(_) = openssl(&["genpkey", "-algorithm", "ed25519", "-out", private_arg]) else {
            eprintln!("openssl not installed; skipping");
            return;
        };
        let key = KeyPair::load(&private).unwrap();
        assert_eq!(*key.to_pkcs8_pem(), fs::read_to_string(&private).unwrap());

        let public_pem = openssl(&["pkey", "-in", private_arg, "-pubout"]).unwrap();
        assert_eq!(parse_public_key(&public_pem).unwrap(), key.verifying_key());
    }

    #[test]
    fn openssl_reads_keys_we_write() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("ours.pem");
        let key = KeyPair::write_new(&path).unwrap();
        let path_arg = path.to_str().unwrap();
        let Some(public_pem) = openssl(&["pkey", "-in", path_arg, "-pubout"]) else {
            eprintln!("openssl not installed; skipping");
            return;
        };
        assert_eq!(parse_public_key(&public_pem).unwrap(), key.verifying_key());
    }

    #[test]
    fn pem_round_trips_and_is_pkcs8_v1() {
        let key = KeyPair::generate();
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{}", *pem);
        assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
        // v1 for Ed25519 is 48 DER bytes, which is 64 base64 characters.
        assert_eq!(pem.lines().nth(1).unwrap().len(), 64);
        let again = KeyPair::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.verifying_key(), key.verifying_key());
    }

    #[test]
    fn refuses_bad_private_keys() {
        for pem in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(matches!(
                KeyPair::from_pkcs8_pem(pem),
                Err(KeyError::InvalidPrivateKey)
            ));
        }
    }

    #[test]
    fn write_new_creates_dirs_with_mode_0600_and_never_overwrites() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("a/b/registry.pem");
        let key = KeyPair::write_new(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = fs::read(&path).unwrap();
        assert!(matches!(
            KeyPair::write_new(&path),
            Err(KeyError::AlreadyExists(_))
        ));
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(
            KeyPair::load(&path).unwrap().verifying_key(),
            key.verifying_key()
        );
    }

    #[test]
    fn load_or_create_creates_once_then_loads() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("k.pem");
        let (first, created) = KeyPair::load_or_create(&path).unwrap();
        assert!(created);
        let (second, created) = KeyPair::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.verifying_key(), second.verifying_key());
    }

    #[test]
    fn load_reports_missing_file() {
        let dir = TempDir::new().unwrap();
        assert!(matches!(
            KeyPair::load(&dir.path().join("none.pem")),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let key = KeyPair::from(SigningKey::from_bytes(&[9; 32]));
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.multikey()), "{debug}");
        assert!(!debug.contains(&hex::encode([9u8; 32])) && !debug.contains("9, 9"));
        let pem_body = key.to_pkcs8_pem().lines().nth(1).unwrap().to_owned();
        assert!(!debug.contains(&pem_body));
    }

    #[test]
    fn signs_verifiably() {
        let key = KeyPair::generate();
        let signature = key.sign(b"message");
        assert!(key
            .verifying_key()
            .verify_strict(b"message", &signature)
            .is_ok());
        assert!(key
            .verifying_key()
            .verify_strict(b"messagf", &signature)
            .is_err());
    }

    #[test]
    fn parses_multikey_public_keys_and_refuses_junk() {
        let key = KeyPair::generate();
        assert_eq!(
            parse_public_key(&key.multikey()).unwrap(),
            key.verifying_key()
        );
        assert!(matches!(
            parse_public_key("nonsense"),
            Err(KeyError::Multikey(_))
        ));
        let bad_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            parse_public_key(bad_pem),
            Err(KeyError::InvalidPublicKey)
        ));
    }
}
