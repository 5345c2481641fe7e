//! QR codes for presenting licences: the offline payload (the signed licence itself, compressed
//! and base45-encoded behind the prefix `EL1:`, or behind `EL2:` with its registration receipt
//! in front) and the rendering of any text as an SVG or PNG QR code. Pure: no HTTP, no storage. The README ("Presenting a licence by QR code") explains the format and its sizes.

use std::io::Read;

use flate2::read::ZlibDecoder;
use flate2::{Compress, Compression, Decompress, FlushCompress, Status};
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};
use serde_json::Value;

use crate::crypto::jcs::canonicalize;
use crate::crypto::strict_json::{self, StrictJsonError};
use crate::log::registration::{self, Registration, RegistrationError};

pub mod base45;
mod dictionary;

pub use dictionary::DICTIONARY;

/// The prefix of an offline payload, version 1: `EL1:` + base45(raw DEFLATE(JCS(licence)))
/// with [`DICTIONARY`] as the preset dictionary.
pub const OFFLINE_PREFIX: &str = "EL1:";
/// The prefix of an offline payload, version 2: `EL2:` + base45(registration receipt ‖ raw
/// DEFLATE(JCS(licence))), the same dictionary; the receipt's first byte is its version, which
/// fixes its length ([`registration::LEN`] for version 1).
pub const REGISTERED_PREFIX: &str = "EL2:";
/// A sensible bound on an inflated licence, for callers without their own (64 KiB).
pub const DEFAULT_MAX_INFLATED: usize = 64 * 1024;
/// Error correction: level M restores about 15 % of damaged codewords.
pub const EC_LEVEL: EcLevel = EcLevel::M;
/// The smallest PNG side in pixels, quiet zone included.
pub const PNG_MIN_WIDTH: u32 = 300;
/// Light modules around the code (ISO/IEC 18004 asks for four).
const QUIET_ZONE: u32 = 4;

/// Why a payload could not be read or a text not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("an offline licence payload starts with {OFFLINE_PREFIX} or {REGISTERED_PREFIX}")]
    Prefix,
    #[error("the payload's registration receipt is malformed: {0}")]
    Registration(#[from] RegistrationError),
    #[error("the payload is not base45: {0}")]
    Base45(#[from] base45::Base45Error),
    #[error("the payload is not valid deflate data")]
    Inflate,
    #[error("the payload inflates past {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the payload is not a licence: {0}")]
    Json(#[from] StrictJsonError),
    #[error("the text does not fit in a QR code at error correction level M")]
    TooLong,
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

impl QrError {
    /// A stable code for problem details and verification answers.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Prefix => "qr_prefix",
            Self::Registration(_) => "qr_registration",
            Self::Base45(_) => "qr_base45",
            Self::Inflate => "qr_inflate",
            Self::TooLarge { .. } => "qr_too_large",
            Self::Json(_) => "qr_json",
            Self::TooLong => "qr_too_long",
            Self::Png(_) => "qr_png",
        }
    }
}

/// The offline payload of a signed licence: `EL1:` + base45(raw DEFLATE(JCS bytes)), the
/// compressor primed with [`DICTIONARY`].
///
/// Every character is in the QR alphanumeric set, so the code is drawn in alphanumeric mode.
pub fn encode_offline(credential: &Value) -> String {
    format!(
        "{OFFLINE_PREFIX}{}",
        base45::encode(&deflate(&canonicalize(credential)))
    )
}

/// The offline payload of a signed licence with its registration receipt: `EL2:` +
/// base45(receipt ‖ raw DEFLATE(JCS bytes)), so that an offline verifier learns that the
/// licence was registered without holding a list of licences.
pub fn encode_registered(credential: &Value, receipt: &Registration) -> String {
    let mut bytes = receipt.to_bytes().to_vec();
    bytes.extend_from_slice(&deflate(&canonicalize(credential)));
    format!("{REGISTERED_PREFIX}{}", base45::encode(&bytes))
}

/// What an offline payload carries: the signed licence, and its receipt for `EL2:`.
#[derive(Debug, Clone)]
pub struct OfflinePayload {
    pub credential: Value,
    pub registration: Option<Registration>,
}

/// Raw DEFLATE (RFC 1951, no zlib header) with the preset dictionary, as small as it gets.
fn deflate(bytes: &[u8]) -> Vec<u8> {
    deflate_after(Vec::with_capacity(bytes.len()), bytes, Compression::best())
}

/// `out` followed by the raw DEFLATE of `bytes` with the preset dictionary at `level`.
fn deflate_after(out: Vec<u8>, bytes: &[u8], level: Compression) -> Vec<u8> {
    deflate_with(&mut Compress::new(level, false), out, bytes)
}

/// `out` followed by the raw DEFLATE of `bytes` with the preset dictionary, by `compress` reset
/// first (at its own level): a caller that compresses many documents keeps one, since a new
/// compressor allocates and clears about 256 KiB of state, more work than a licence's
/// compression (the stored form of signed documents, [`crate::log::packed`]).
pub(crate) fn deflate_with(compress: &mut Compress, mut out: Vec<u8>, bytes: &[u8]) -> Vec<u8> {
    compress.reset();
    // Invariant: a raw stream just reset accepts a dictionary, and memory cannot be short.
    compress
        .set_dictionary(DICTIONARY)
        .expect("a reset stream takes a dictionary");
    let start = compress.total_in();
    loop {
        // `compress_vec` writes into the spare capacity only.
        out.reserve(bytes.len() / 2 + 64);
        let read = usize::try_from(compress.total_in() - start).unwrap_or(bytes.len());
        let status = compress
            .compress_vec(&bytes[read..], &mut out, FlushCompress::Finish)
            .expect("deflate into memory");
        if status == Status::StreamEnd {
            return out;
        }
    }
}

/// Reads an offline payload back into the signed licence it carries.
///
/// The verification engine calls this for `POST /v1/verify {"qr": …}` and the CLI for
/// `--qr`; the answer still has to be verified (signature, issuer, status…). Inflation stops at
/// `max_inflated` bytes, so a small payload cannot expand into a huge one (a deflate bomb), and
/// the JSON is parsed strictly: duplicate keys anywhere are refused. Surrounding whitespace is
/// ignored; the prefix must be upper case, as QR alphanumeric mode gives it.
pub fn decode_offline(payload: &str, max_inflated: usize) -> Result<Value, QrError> {
    decode_payload(payload, max_inflated).map(|p| p.credential)
}

/// [`decode_offline`] for both versions, keeping an `EL2:` payload's registration receipt
/// (parsed, its signature not yet checked: the verifier does that with the pinned key).
pub fn decode_payload(payload: &str, max_inflated: usize) -> Result<OfflinePayload, QrError> {
    let payload = payload.trim();
    if let Some(body) = payload.strip_prefix(REGISTERED_PREFIX) {
        let bytes = base45::decode(body)?;
        if bytes.len() < registration::LEN {
            return Err(RegistrationError::Length.into());
        }
        let (receipt, compressed) = bytes.split_at(registration::LEN);
        let registration = Registration::from_bytes(receipt)?;
        return Ok(OfflinePayload {
            credential: parse_licence(compressed, max_inflated)?,
            registration: Some(registration),
        });
    }
    let body = payload
        .strip_prefix(OFFLINE_PREFIX)
        .ok_or(QrError::Prefix)?;
    Ok(OfflinePayload {
        credential: parse_licence(&base45::decode(body)?, max_inflated)?,
        registration: None,
    })
}

/// Inflates and strictly parses the licence of a payload.
fn parse_licence(compressed: &[u8], max_inflated: usize) -> Result<Value, QrError> {
    let inflated = inflate(compressed, max_inflated)?;
    if inflated.len() > max_inflated {
        return Err(QrError::TooLarge {
            limit: max_inflated,
        });
    }
    Ok(strict_json::parse(&inflated, max_inflated)?)
}

/// Inflates raw DEFLATE with the preset dictionary, reading at most one byte past `max`.
pub(crate) fn inflate(compressed: &[u8], max: usize) -> Result<Vec<u8>, QrError> {
    let mut decompress = Decompress::new(false);
    decompress
        .set_dictionary(DICTIONARY)
        .map_err(|_| QrError::Inflate)?;
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut inflated = Vec::new();
    ZlibDecoder::new_with_decompress(compressed, decompress)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|_| QrError::Inflate)?;
    Ok(inflated)
}

/// The QR code of `text` at level M, the smallest version that holds it.
pub fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EC_LEVEL).map_err(|_| QrError::TooLong)
}

/// The QR version (1–40) `text` needs at level M.
pub fn version(text: &str) -> Result<i16, QrError> {
    match code(text)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// An SVG image of the QR code of `text`, with its quiet zone, at least 300 units wide.
pub fn render_svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(PNG_MIN_WIDTH, PNG_MIN_WIDTH)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build())
}

/// A greyscale PNG of the QR code of `text`, with its quiet zone, at least 300 px wide.
pub fn render_png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = code(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE as usize;
    let scale = (PNG_MIN_WIDTH as usize).div_ceil(side_modules);
    let side = side_modules * scale;
    let mut pixels = vec![0xffu8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (
                i % modules + QUIET_ZONE as usize,
                i / modules + QUIET_ZONE as usize,
            );
            for row in y * scale..(y + 1) * scale {
                pixels[row * side + x * scale..row * side + (x + 1) * scale].fill(0);
            }
        }
    }
    encode_png(&pixels, side)
}

fn encode_png(pixels: &[u8], side: usize) -> Result<Vec<u8>, QrError> {
    let side = u32::try_from(side).map_err(|e| QrError::Png(e.to_string()))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder
        .write_header()
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer
        .write_image_data(pixels)
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer.finish().map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
