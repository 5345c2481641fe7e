//! A signed document as the registry stores it: compressed, since its text is most of what a
//! licence costs on disk.
//!
//! Stored form, version 1: the byte `0x01`, then raw DEFLATE (RFC 1951) of the document's text
//! with the offline payload's preset dictionary ([`crate::qr::DICTIONARY`], frozen with the
//! `EL1:` format, so stored rows never depend on a dictionary that could change). A 1,148-byte
//! licence of the bench's type takes 380 bytes (335 at zlib's default level 6, in twice the time). Rows written before this form hold the text itself;
//! a JSON object's first byte is `{`, never `0x01`, so both are read back by [`unpack`].
//!
//! Packing runs in intake, on the request's worker, so the single writer never compresses.

use std::cell::RefCell;

use flate2::{Compress, Compression};

/// The first byte of version 1 of the stored form.
const DEFLATE_V1: u8 = 0x01;
/// Compression level: the fastest. On a 1,148-byte licence (one core, quiet), zlib's default
/// (6) took 15 µs for 335 bytes and this level 6 µs for 380, a sixth of the licence's whole cost
/// on the write path for 2 % of its bytes on disk; best (9) saves about 1 % more than 6.
const LEVEL: u32 = 1;
/// The largest text a stored document may unpack to: the largest request the registry takes
/// (one envelope), so a damaged row cannot expand without bound.
const MAX_UNPACKED: usize = 32 * 1024 * 1024;

/// A document in its stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed(Vec<u8>);

impl Packed {
    /// The stored form of `text` (UTF-8).
    pub fn pack(text: &[u8]) -> Self {
        thread_local! {
            /// Each thread's compressor, reset for every document.
            static PACKER: RefCell<Compress> =
                RefCell::new(Compress::new(Compression::new(LEVEL), false));
        }
        let mut stored = Vec::with_capacity(1 + text.len() / 2);
        stored.push(DEFLATE_V1);
        Self(PACKER.with_borrow_mut(|packer| crate::qr::deflate_with(packer, stored, text)))
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why stored bytes are not a document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnpackError {
    #[error("a stored document has an unknown form (first byte {0:#04x})")]
    Form(u8),
    #[error("a stored document does not inflate")]
    Inflate,
    #[error("a stored document is not UTF-8")]
    Utf8,
}

/// The text of a stored document, in either form (see the module's note).
pub fn unpack(stored: Vec<u8>) -> Result<String, UnpackError> {
    let text = match stored.first() {
        Some(&DEFLATE_V1) => {
            let inflated =
                crate::qr::inflate(&stored[1..], MAX_UNPACKED).map_err(|_| UnpackError::Inflate)?;
            if inflated.len() > MAX_UNPACKED {
                return Err(UnpackError::Inflate);
            }
            inflated
        }
        Some(b'{') => stored,
        Some(&other) => return Err(UnpackError::Form(other)),
        None => return Err(UnpackError::Form(0)),
    };
    String::from_utf8(text).map_err(|_| UnpackError::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LICENCE: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:elicence:1.2.156.3005.2.11100000000013155A001.912201009A0FNGK3N1.R000000000.001.Z","type":["VerifiableCredential","ELicence"],"issuer":"did:web:registry.test:issuers:912201009A0FNGK3N1","validFrom":"2025-01-01T00:00:00Z","credentialSubject":{"id":"urn:cn:rid:220102199001013525","holderName":"张三"}}"#;

    #[test]
    fn packed_documents_come_back_byte_for_byte_and_smaller() {
        let packed = Packed::pack(LICENCE.as_bytes());
        assert_eq!(packed.as_bytes()[0], DEFLATE_V1);
        assert!(
            packed.as_bytes().len() < LICENCE.len() / 2,
            "{}",
            packed.as_bytes().len()
        );
        assert_eq!(unpack(packed.as_bytes().to_vec()).unwrap(), LICENCE);
        assert_eq!(unpack(Packed::pack(b"").as_bytes().to_vec()).unwrap(), "");
    }

    #[test]
    fn a_reused_compressor_packs_each_document_as_a_fresh_one_would() {
        let first = Packed::pack(LICENCE.as_bytes());
        let other = Packed::pack(LICENCE.replace("张三", "李四").as_bytes());
        assert_ne!(first, other);
        assert_eq!(Packed::pack(LICENCE.as_bytes()), first);
        let fresh = crate::qr::deflate_with(
            &mut Compress::new(Compression::new(LEVEL), false),
            vec![DEFLATE_V1],
            LICENCE.as_bytes(),
        );
        assert_eq!(first.as_bytes(), fresh.as_slice());
        let long = LICENCE.repeat(40);
        assert_eq!(
            unpack(Packed::pack(long.as_bytes()).as_bytes().to_vec()).unwrap(),
            long
        );
    }

    #[test]
    fn text_stored_before_packing_reads_as_it_is() {
        assert_eq!(unpack(LICENCE.as_bytes().to_vec()).unwrap(), LICENCE);
    }

    #[test]
    fn damaged_rows_are_refused_not_guessed() {
        assert_eq!(unpack(Vec::new()), Err(UnpackError::Form(0)));
        assert_eq!(unpack(b"[1]".to_vec()), Err(UnpackError::Form(b'[')));
        let mut truncated = Packed::pack(LICENCE.as_bytes()).as_bytes().to_vec();
        truncated.truncate(truncated.len() / 2);
        assert_eq!(unpack(truncated), Err(UnpackError::Inflate));
        assert_eq!(
            unpack(vec![DEFLATE_V1, 0xff, 0xff]),
            Err(UnpackError::Inflate)
        );
        assert_eq!(unpack(b"{\xff}".to_vec()), Err(UnpackError::Utf8));
    }
}
