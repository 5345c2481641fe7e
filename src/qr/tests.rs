//! Every rendered code is read back with an independent decoder (`rqrr`); sample licences of
//! every seeded type give the sizes and QR versions the README and BENCHMARKS.md report.

use std::io::Write as _;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::schema::CompiledSchema;
use crate::issuer::{build_licence, sign_licence, LicenceDraft};
use crate::log::registration::{Registration, RegistrationError};

/// Reads the QR code in a PNG.
fn read_png(bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("fits in memory")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert!(info.width >= PNG_MIN_WIDTH, "PNG {} px wide", info.width);
    let (w, h) = (info.width as usize, info.height as usize);
    read_grey(w, h, |x, y| buf[y * w + x])
}

/// Rasterises the SVG's own path (`M{x} {y}h{w}v{h}H{x}V{y}` rectangles) and reads it.
fn read_svg(svg: &str) -> String {
    let size: usize = svg
        .split("width=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("an SVG width");
    assert!(size >= PNG_MIN_WIDTH as usize);
    let path = svg
        .split(" d=\"")
        .nth(1)
        .expect("a path")
        .split('"')
        .next()
        .unwrap();
    let mut pixels = vec![255u8; size * size];
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let [x, y, w, h, ..] = numbers[..] else {
            panic!("rect {rect:?}")
        };
        for row in y..y + h {
            pixels[row * size + x..row * size + x + w].fill(0);
        }
    }
    read_grey(size, size, |x, y| pixels[y * size + x])
}

fn read_grey(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (meta, content) = grids[0].decode().expect("a decodable QR code");
    // rqrr numbers levels M=0, L=1, H=2, Q=3 (the format bits); L would be too weak.
    assert_ne!(meta.ecc_level, 1, "error correction level L");
    content
}

/// A signed licence of `code` whose subject is `subject`, signed by a fresh key.
fn sample_licence(code: &str, subject: &Value, key: &KeyPair) -> Value {
    let issuer: Uscc = "11220000013544541J".parse().expect("vector USCC");
    let type_code: TypeCode = code.parse().expect("seeded type code");
    let did = format!("did:web:registry.example.gov.cn:issuers:{issuer}");
    let draft = LicenceDraft {
        id: LicenceId::build(&type_code, &issuer, "2026000123", 1).expect("valid parts"),
        issuer_did: did.clone(),
        public_base: "https://registry.example.gov.cn".into(),
        schema_version: 1,
        valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        valid_until: Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()),
        jurisdiction: "220104".parse().expect("division"),
        subject: subject.clone(),
        previous: None,
    };
    let vc = build_licence(&draft).expect("a valid draft");
    let vm = format!("{did}#{}", key.multikey());
    sign_licence(
        &vc,
        key,
        &vm,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    )
    .unwrap()
}

/// Every seeded type with a realistic subject (all optional fields filled), schema-checked.
fn samples() -> Vec<(String, String, Value)> {
    let subjects: Value = serde_json::from_str(include_str!("samples.json")).unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/licence-types");
    let mut out = Vec::new();
    for (code, subject) in subjects.as_object().unwrap() {
        let text = std::fs::read_to_string(format!("{dir}/{code}.json")).expect("seed file");
        let seed: Value = serde_json::from_str(&text).unwrap();
        let schema = CompiledSchema::compile(seed["schema"].clone()).expect("seeded schema");
        schema
            .validate(subject, 5)
            .unwrap_or_else(|e| panic!("{code}: {e:?}"));
        let name = seed["nameZh"].as_str().unwrap().to_owned();
        out.push((code.clone(), name, subject.clone()));
    }
    assert_eq!(
        out.len(),
        std::fs::read_dir(dir).unwrap().count(),
        "a sample per seed"
    );
    out
}

#[test]
fn offline_payloads_round_trip_and_verify() {
    let key = KeyPair::generate();
    for (code, _, subject) in samples() {
        let licence = sample_licence(&code, &subject, &key);
        let payload = encode_offline(&licence);
        assert!(payload.starts_with("EL1:"));
        let back = decode_offline(&payload, DEFAULT_MAX_INFLATED).expect("round trip");
        assert_eq!(back, licence);
        proof::verify(&back, |_| Some(key.verifying_key())).expect("still verifies");
        assert_eq!(read_png(&render_png(&payload).unwrap()), payload, "{code}");
    }
}

/// Prints the table for BENCHMARKS.md: `cargo test --lib qr_versions -- --nocapture`.
#[test]
fn qr_versions_per_seeded_type() {
    let key = KeyPair::generate();
    println!("| type | name | JCS bytes | deflated | EL1 chars | QR version (M) | no dictionary | base64, byte mode |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (code, name, subject) in samples() {
        let licence = sample_licence(&code, &subject, &key);
        let payload = encode_offline(&licence);
        let jcs = canonicalize(&licence).len();
        let deflated = base45::decode(&payload[4..]).unwrap().len();
        let alnum = version(&payload).expect("fits");
        assert!(alnum <= 25, "{code} needs version {alnum}");
        let b64 = base64_byte_mode_version(&payload);
        let plain = no_dictionary_version(&licence);
        println!(
            "| {code} | {name} | {jcs} | {deflated} | {} | {alnum} | {plain} | {b64} |",
            payload.len()
        );
    }
}

/// The version the payload would need with plain DEFLATE (no preset dictionary).
fn no_dictionary_version(licence: &Value) -> i16 {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&canonicalize(licence)).unwrap();
    version(&format!(
        "EL1:{}",
        base45::encode(&encoder.finish().unwrap())
    ))
    .unwrap()
}

/// The same deflated bytes as URL-safe base64 in byte mode.
fn base64_byte_mode_version(payload: &str) -> i16 {
    use base64::Engine;
    let raw = base45::decode(&payload[4..]).unwrap();
    let text = format!(
        "EL1:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    version(&text).unwrap()
}

#[test]
fn a_licence_of_one_and_a_half_kib_fits_version_25() {
    let key = KeyPair::generate();
    let mut subject = samples()
        .into_iter()
        .find(|(code, ..)| code == "111000000000176429001")
        .expect("营业执照 sample")
        .2;
    let scope = subject["businessScope"].as_str().unwrap().to_owned();
    let licence = loop {
        let licence = sample_licence("111000000000176429001", &subject, &key);
        if canonicalize(&licence).len() >= 1536 {
            break licence;
        }
        subject["businessScope"] =
            format!("{}；{scope}", subject["businessScope"].as_str().unwrap()).into();
    };
    let payload = encode_offline(&licence);
    let v = version(&payload).unwrap();
    assert!(v <= 25, "1.5 KiB licence needs version {v}");
    assert_eq!(read_svg(&render_svg(&payload).unwrap()), payload);
}

#[test]
fn urls_render_as_svg_and_png_that_decode() {
    let url = "https://registry.example.gov.cn/p/3q2-7wHvQ0mXy8Zr1Kc5Fg";
    assert_eq!(read_svg(&render_svg(url).unwrap()), url);
    assert_eq!(read_png(&render_png(url).unwrap()), url);
    assert!(version(url).unwrap() <= 4);
    assert_eq!(code(url).unwrap().error_correction_level(), EcLevel::M);
}

#[test]
fn refuses_bad_payloads() {
    let max = DEFAULT_MAX_INFLATED;
    assert!(matches!(
        decode_offline("HC1:ABC", max),
        Err(QrError::Prefix)
    ));
    assert!(matches!(
        decode_offline("EL1:abc", max),
        Err(QrError::Base45(_))
    ));
    assert!(matches!(
        decode_offline("EL1:BB8", max),
        Err(QrError::Inflate)
    ));
    let bomb = deflate_payload(&vec![b' '; 1 << 20]);
    assert!(
        bomb.len() < 3000,
        "1 MiB of spaces deflates to {} chars",
        bomb.len()
    );
    assert!(matches!(
        decode_offline(&bomb, max),
        Err(QrError::TooLarge { .. })
    ));
    let twice = deflate_payload(br#"{"id":"a","id":"b"}"#);
    let err = decode_offline(&twice, max).unwrap_err();
    assert!(
        matches!(err, QrError::Json(StrictJsonError::DuplicateKey { .. })),
        "{err:?}"
    );
    let fine = deflate_payload(br#"{"id":"a"}"#);
    assert_eq!(
        decode_offline(&format!(" {fine}\n"), max).unwrap(),
        json!({"id": "a"})
    );
}

#[test]
fn too_long_text_is_refused() {
    let text = "X".repeat(5000);
    assert!(matches!(render_png(&text), Err(QrError::TooLong)));
}

fn deflate_payload(bytes: &[u8]) -> String {
    format!("EL1:{}", base45::encode(&deflate(bytes)))
}

#[test]
fn the_dictionary_is_frozen() {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(DICTIONARY));
    assert_eq!(
        digest,
        dictionary::DICTIONARY_SHA256,
        "the dictionary of EL1 and EL2 changed: use a new prefix"
    );
}

/// Without the dictionary the same bytes do not inflate to the same text: both sides need it.
#[test]
fn the_dictionary_matters() {
    let payload = encode_offline(&json!({"@context": ["https://www.w3.org/ns/credentials/v2"]}));
    let raw = base45::decode(&payload[4..]).unwrap();
    let mut plain = Vec::new();
    let result = flate2::read::DeflateDecoder::new(raw.as_slice()).read_to_end(&mut plain);
    assert!(
        result.is_err()
            || plain
                != canonicalize(&json!({"@context": ["https://www.w3.org/ns/credentials/v2"]}))
    );
}

/// A sample as `issuer sign` now makes it (both `credentialStatus` entries) with its receipt.
fn registered_sample(code: &str, subject: &Value, key: &KeyPair) -> (Value, Registration) {
    use crate::domain::status_list::{StatusPurpose, StatusSlot};
    let mut licence = sample_licence(code, subject, key);
    licence.as_object_mut().unwrap().remove("proof");
    let slots: Vec<StatusSlot> = [StatusPurpose::Revocation, StatusPurpose::Suspension]
        .into_iter()
        .map(|p| StatusSlot::at(p, 1_234_567).unwrap())
        .collect();
    crate::issuer::add_status(&mut licence, "https://registry.example.gov.cn", &slots);
    let did = licence["issuer"].as_str().unwrap().to_owned();
    let vm = format!("{did}#{}", key.multikey());
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let licence = sign_licence(&licence, key, &vm, at).unwrap();
    let digest = crate::crypto::digest::sha256(&canonicalize(&licence));
    let origin = "registry.example.gov.cn/log";
    let receipt = Registration::sign(key.signing_key(), origin, &digest, 9_876_543, at);
    (licence, receipt)
}

#[test]
fn registered_payloads_round_trip_and_scan() {
    let key = KeyPair::generate();
    for (code, _, subject) in samples() {
        let (licence, receipt) = registered_sample(&code, &subject, &key);
        let payload = encode_registered(&licence, &receipt);
        assert!(payload.starts_with("EL2:"));
        let back = decode_payload(&payload, DEFAULT_MAX_INFLATED).expect("round trip");
        assert_eq!(back.credential, licence);
        assert_eq!(back.registration, Some(receipt));
        assert_eq!(read_png(&render_png(&payload).unwrap()), payload, "{code}");
    }
    let short = format!("EL2:{}", base45::encode(&[1, 2, 3]));
    assert!(matches!(
        decode_payload(&short, DEFAULT_MAX_INFLATED),
        Err(QrError::Registration(RegistrationError::Length))
    ));
}

/// Prints the before/after table of docs/offline.md: `cargo test --lib qr_versions_registered
/// -- --nocapture`. Before: `EL1:` of a licence without `credentialStatus`; after: `EL2:` of
/// the licence with both entries and its 85-byte receipt. Levels M (15 %) and Q (25 %).
#[test]
fn qr_versions_registered() {
    let key = KeyPair::generate();
    println!("| type | name | EL1 chars | EL1 M | EL1 Q | EL2 chars | EL2 M | EL2 Q |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let at_level = |text: &str, level| match QrCode::with_error_correction_level(text, level)
        .map(|c| c.version())
    {
        Ok(qrcode::Version::Normal(v)) => v,
        _ => 99,
    };
    for (code, name, subject) in samples() {
        let before = encode_offline(&sample_licence(&code, &subject, &key));
        let (licence, receipt) = registered_sample(&code, &subject, &key);
        let after = encode_registered(&licence, &receipt);
        let m = at_level(&after, EcLevel::M);
        assert!(m <= 25, "{code} needs version {m} at M");
        println!(
            "| {code} | {name} | {} | {} | {} | {} | {m} | {} |",
            before.len(),
            at_level(&before, EcLevel::M),
            at_level(&before, EcLevel::Q),
            after.len(),
            at_level(&after, EcLevel::Q),
        );
    }
}
