//! A signed document as the registry stores it: compressed, since its text is most of what a
//! licence costs on disk.
//!
//! Stored forms, told apart by their first byte:
//! - version 2 (written now): the byte `0x02`, then one Zstandard frame (RFC 8878) of the
//!   document's text, with its content size and without checksum or dictionary ID, compressed
//!   at level −1 with the offline payload's dictionary ([`crate::qr::DICTIONARY`], frozen with
//!   the `EL1:` format) as raw content. A 1,152-byte licence of the bench's type takes 421
//!   bytes, in about 4 µs;
//! - version 1 (written until the thirteenth session): the byte `0x01`, then raw DEFLATE
//!   (RFC 1951) with the same preset dictionary. A DEFLATE stream with a dictionary costs a
//!   reset of a 128 KiB hash table and the dictionary's insertion for every document: about
//!   10 µs for 402 bytes, a tenth of a licence's work on the write path;
//! - rows written before packing hold the text itself: a JSON object's first byte is `{`.
//!
//! [`unpack`] reads all three. Packing runs in intake, on the request's workers, so the single
//! writer never compresses.

use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::qr::DICTIONARY;

/// The first byte of version 1 of the stored form (raw DEFLATE), read only.
const DEFLATE_V1: u8 = 0x01;
/// The first byte of version 2 (a Zstandard frame), the form written.
const ZSTD_V2: u8 = 0x02;
/// Zstandard level: the first of its fast levels. On a 1,152-byte licence (one core), level 1
/// took 7–8 µs for 410 bytes, −1 about 4 µs for 421, −5 about 3 µs for 450.
const LEVEL: i32 = -1;
/// The largest text a stored document may unpack to: the largest request the registry takes
/// (one envelope), so a damaged row cannot expand without bound.
const MAX_UNPACKED: usize = 32 * 1024 * 1024;

/// The dictionary digested once for compression at [`LEVEL`], shared by every thread.
static ENCODER_DICTIONARY: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY, LEVEL));
/// The dictionary digested once for decompression.
static DECODER_DICTIONARY: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY));

thread_local! {
    /// Each thread's compressor, which keeps its tables from one document to the next.
    static PACKER: RefCell<Compressor<'static>> = RefCell::new(packer());
    /// Each thread's decompressor.
    static UNPACKER: RefCell<Decompressor<'static>> = RefCell::new(
        // Invariant: zstd takes a dictionary it digested (only memory could be short).
        Decompressor::with_prepared_dictionary(&DECODER_DICTIONARY)
            .expect("a digested dictionary loads"),
    );
}

/// A compressor of the stored form's frames: the dictionary's level, the content size
/// recorded (so [`unpack`] knows what it allocates before it inflates), no checksum (the row's
/// digest covers the text) and no dictionary ID (a raw-content dictionary has none).
fn packer() -> Compressor<'static> {
    use zstd::zstd_safe::CParameter;
    // Invariant: zstd accepts these parameters and a dictionary it digested; only memory
    // could be short, which aborts the process anyway.
    let mut packer =
        Compressor::with_prepared_dictionary(&ENCODER_DICTIONARY).expect("a digested dictionary");
    for parameter in [
        CParameter::ContentSizeFlag(true),
        CParameter::ChecksumFlag(false),
        CParameter::DictIdFlag(false),
    ] {
        packer
            .set_parameter(parameter)
            .expect("a frame parameter zstd knows");
    }
    packer
}

/// A document in its stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed(Vec<u8>);

impl Packed {
    /// The stored form of `text` (UTF-8).
    pub fn pack(text: &[u8]) -> Self {
        // `compress_to_buffer` fills a slice from its start: the frame goes after the byte.
        let mut stored = vec![0u8; 1 + zstd::zstd_safe::compress_bound(text.len())];
        stored[0] = ZSTD_V2;
        let written = PACKER.with_borrow_mut(|packer| {
            // Invariant: the slice holds the bound zstd gives for this length.
            packer
                .compress_to_buffer(text, &mut stored[1..])
                .expect("zstd compresses into a buffer of its bound")
        });
        stored.truncate(1 + written);
        Self(stored)
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

/// The text of a stored document, in any of its forms (see the module's note).
pub fn unpack(stored: Vec<u8>) -> Result<String, UnpackError> {
    let text = match stored.first() {
        Some(&ZSTD_V2) => unpack_zstd(&stored[1..])?,
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

/// One frame of version 2: its recorded size, at most [`MAX_UNPACKED`], is all that is
/// allocated, and a frame that holds more (or trailing frames) overflows it and is refused.
fn unpack_zstd(frame: &[u8]) -> Result<Vec<u8>, UnpackError> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) => usize::try_from(size).map_err(|_| UnpackError::Inflate)?,
        _ => return Err(UnpackError::Inflate),
    };
    if size > MAX_UNPACKED {
        return Err(UnpackError::Inflate);
    }
    let mut text = Vec::with_capacity(size);
    let written = UNPACKER
        .with_borrow_mut(|unpacker| unpacker.decompress_to_buffer(frame, &mut text))
        .map_err(|_| UnpackError::Inflate)?;
    if written != size {
        return Err(UnpackError::Inflate);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LICENCE: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:elicence:1.2.156.3005.2.11100000000013155A001.912201009A0FNGK3N1.R000000000.001.Z","type":["VerifiableCredential","ELicence"],"issuer":"did:web:registry.test:issuers:912201009A0FNGK3N1","validFrom":"2025-01-01T00:00:00Z","credentialSubject":{"id":"urn:cn:rid:220102199001013525","holderName":"张三"}}"#;

    /// `text` in stored form version 1, as rows written before version 2 hold it.
    fn deflate_v1(text: &[u8]) -> Vec<u8> {
        use flate2::{Compress, Compression};
        crate::qr::deflate_with(
            &mut Compress::new(Compression::new(1), false),
            vec![DEFLATE_V1],
            text,
        )
    }

    #[test]
    fn packed_documents_come_back_byte_for_byte_and_smaller() {
        let packed = Packed::pack(LICENCE.as_bytes());
        assert_eq!(packed.as_bytes()[0], ZSTD_V2);
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
        let fresh = packer().compress(LICENCE.as_bytes()).unwrap();
        assert_eq!(&first.as_bytes()[1..], fresh.as_slice());
        let long = LICENCE.repeat(40);
        assert_eq!(
            unpack(Packed::pack(long.as_bytes()).as_bytes().to_vec()).unwrap(),
            long
        );
    }

    #[test]
    fn the_dictionary_is_raw_content_for_zstandard() {
        // A Zstandard dictionary starts with this magic number; the frozen bytes must not, or
        // zstd would read them as a trained dictionary's tables.
        assert_ne!(&DICTIONARY[..4], &[0x37, 0xa4, 0x30, 0xec]);
        // Frames carry no dictionary ID, and a frame packed without the dictionary is another.
        let plain = zstd::bulk::compress(LICENCE.as_bytes(), LEVEL).unwrap();
        assert_ne!(
            &Packed::pack(LICENCE.as_bytes()).as_bytes()[1..],
            plain.as_slice()
        );
    }

    #[test]
    fn rows_of_version_1_and_text_stored_before_packing_read_as_they_were() {
        let v1 = deflate_v1(LICENCE.as_bytes());
        assert_eq!(v1[0], DEFLATE_V1);
        assert_eq!(unpack(v1).unwrap(), LICENCE);
        assert_eq!(unpack(LICENCE.as_bytes().to_vec()).unwrap(), LICENCE);
    }

    #[test]
    fn damaged_rows_are_refused_not_guessed() {
        assert_eq!(unpack(Vec::new()), Err(UnpackError::Form(0)));
        assert_eq!(unpack(b"[1]".to_vec()), Err(UnpackError::Form(b'[')));
        for packed in [
            Packed::pack(LICENCE.as_bytes()).as_bytes().to_vec(),
            deflate_v1(LICENCE.as_bytes()),
        ] {
            let mut truncated = packed.clone();
            truncated.truncate(truncated.len() / 2);
            assert_eq!(unpack(truncated), Err(UnpackError::Inflate));
            let mut flipped = packed;
            let last = flipped.len() - 3;
            flipped[last] ^= 0x55;
            assert!(unpack(flipped).is_err());
        }
        assert_eq!(
            unpack(vec![DEFLATE_V1, 0xff, 0xff]),
            Err(UnpackError::Inflate)
        );
        assert_eq!(unpack(vec![ZSTD_V2, 0xff, 0xff]), Err(UnpackError::Inflate));
        assert_eq!(unpack(vec![ZSTD_V2]), Err(UnpackError::Inflate));
        let mut not_utf8 = vec![ZSTD_V2];
        not_utf8.extend(packer().compress(b"{\xff}").unwrap());
        assert_eq!(unpack(not_utf8), Err(UnpackError::Utf8));
        assert_eq!(unpack(b"{\xff}".to_vec()), Err(UnpackError::Utf8));
    }

    #[test]
    fn frames_that_do_not_say_their_size_or_say_too_much_are_refused() {
        let mut unsized_packer = zstd::bulk::Compressor::new(LEVEL).unwrap();
        unsized_packer
            .set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(false))
            .unwrap();
        let mut unsized_frame = vec![ZSTD_V2];
        unsized_frame.extend(unsized_packer.compress(LICENCE.as_bytes()).unwrap());
        assert_eq!(unpack(unsized_frame), Err(UnpackError::Inflate));
        let mut huge = vec![ZSTD_V2];
        huge.extend(zstd::bulk::compress(&vec![b' '; MAX_UNPACKED + 1], 1).unwrap());
        assert!(huge.len() < 64 * 1024, "{}", huge.len());
        assert_eq!(unpack(huge), Err(UnpackError::Inflate));
        // Two frames: the first one's size is all that is allocated, so the second overflows.
        let mut two = Packed::pack(LICENCE.as_bytes()).as_bytes().to_vec();
        two.extend(packer().compress(LICENCE.as_bytes()).unwrap());
        assert_eq!(unpack(two), Err(UnpackError::Inflate));
    }
}
