//! Checkpoint and signed-note tests, including Go's published note example.

use super::*;

/// The example from Go's `golang.org/x/mod/sumdb/note` documentation.
const GO_SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn go_key() -> SigningKey {
    let raw = STANDARD.decode(GO_SEED).expect("valid base64");
    let seed: [u8; 32] = raw[1..].try_into().expect("alg byte + 32-byte seed");
    SigningKey::from_bytes(&seed)
}

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn sample() -> Checkpoint {
    Checkpoint::new("registry.example/log", 42, [0xab; 32]).expect("valid origin")
}

fn sample_vkey() -> String {
    vkey("registry.example/log", &log_key().verifying_key())
}

#[test]
fn go_note_example_is_reproduced_and_opened() {
    let key = go_key();
    assert_eq!(vkey("PeterNeumann", &key.verifying_key()), GO_VKEY);
    let note = sign_note(GO_TEXT, "PeterNeumann", &key);
    assert_eq!(note, format!("{GO_TEXT}\n{GO_SIG}"));
    let (name, verifying) = parse_vkey(GO_VKEY).expect("valid vkey");
    assert_eq!(open_note(&note, &name, &verifying), Ok(GO_TEXT));
    let tampered = note.replace("cryptography", "cryptographY");
    assert!(open_note(&tampered, &name, &verifying).is_err());
}

#[test]
fn body_has_the_c2sp_layout() {
    let body = sample().body();
    assert_eq!(
        body,
        "registry.example/log\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"
    );
    assert_eq!(Checkpoint::parse(&body), Ok(sample()));
}

#[test]
fn sign_then_open_round_trips() {
    let note = sample().sign(&log_key());
    assert!(note.starts_with(&format!(
        "{}\n\u{2014} registry.example/log ",
        sample().body()
    )));
    assert_eq!(open(&note, &sample_vkey()), Ok(sample()));
}

#[test]
fn other_signers_are_skipped() {
    let note = sample().sign(&log_key());
    let witness = sign_note(&sample().body(), "witness.example", &go_key());
    let witness_line = witness
        .rsplit_once("\n\n")
        .expect("note has a blank line")
        .1;
    assert_eq!(
        open(&format!("{note}{witness_line}"), &sample_vkey()),
        Ok(sample())
    );
    let witness_vkey = vkey("witness.example", &go_key().verifying_key());
    let refused = open(&note, &witness_vkey);
    assert_eq!(
        refused,
        Err(CheckpointError::NotSigned("witness.example".into()))
    );
}

#[test]
fn tampering_and_wrong_keys_are_refused() {
    let note = sample().sign(&log_key());
    let bad_sig = CheckpointError::BadSignature("registry.example/log".into());
    assert_eq!(
        open(&note.replacen("42", "43", 1), &sample_vkey()),
        Err(bad_sig.clone())
    );
    let (text, line) = note.rsplit_once(' ').expect("signature line has a space");
    let mut blob = STANDARD.decode(line.trim_end()).expect("base64 signature");
    blob[10] ^= 1;
    let forged = format!("{text} {}\n", STANDARD.encode(&blob));
    assert_eq!(open(&forged, &sample_vkey()), Err(bad_sig));
    let other = vkey("registry.example/log", &go_key().verifying_key());
    let not_signed = CheckpointError::NotSigned("registry.example/log".into());
    assert_eq!(open(&note, &other), Err(not_signed));
    assert!(open(&note.replace("\u{2014}", "-"), &sample_vkey()).is_err());
    assert!(open(note.trim_end(), &sample_vkey()).is_err());
    assert!(open(&note.replace("\n\n", "\n"), &sample_vkey()).is_err());
}

#[test]
fn origin_must_be_the_key_name() {
    let body = Checkpoint {
        origin: "other.example/log".into(),
        ..sample()
    }
    .body();
    let note = sign_note(&body, "registry.example/log", &log_key());
    assert!(matches!(
        open(&note, &sample_vkey()),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    assert!(Checkpoint::new("has space", 1, [0; 32]).is_err());
    assert!(Checkpoint::new("a+b", 1, [0; 32]).is_err());
    assert!(Checkpoint::new("", 1, [0; 32]).is_err());
}

#[test]
fn bodies_are_parsed_strictly() {
    let root = STANDARD.encode([1u8; 32]);
    let ok = format!("o\n0\n{root}\n");
    assert_eq!(Checkpoint::parse(&ok).map(|c| c.size), Ok(0));
    let with_ext = format!("o\n18446744073709551615\n{root}\nextension line\n");
    assert_eq!(Checkpoint::parse(&with_ext).map(|c| c.size), Ok(u64::MAX));
    let short_root = STANDARD.encode([1u8; 31]);
    let refused = [
        format!("o\n7\n{root}"),
        format!("\n7\n{root}\n"),
        format!("o\n07\n{root}\n"),
        format!("o\n+7\n{root}\n"),
        format!("o\n 7\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n7\n{short_root}\n"),
        format!("o\n7\n{}\n", root.trim_end_matches('=')),
        format!("o\n7\n{root}\n\nextension\n"),
        "o\n7\n".to_owned(),
    ];
    for body in refused {
        assert!(Checkpoint::parse(&body).is_err(), "accepted {body:?}");
    }
}

#[test]
fn verifier_keys_are_checked() {
    let (name, key) = parse_vkey(&sample_vkey()).expect("valid vkey");
    assert_eq!(
        (name.as_str(), key),
        ("registry.example/log", log_key().verifying_key())
    );
    let (prefix, rest) = GO_VKEY.split_at("PeterNeumann+".len());
    let flipped = format!("{prefix}d{}", &rest[1..]);
    assert_eq!(parse_vkey(&flipped), Err(CheckpointError::VkeyHashMismatch));
    assert!(parse_vkey("PeterNeumann+c74f20a3").is_err());
    assert!(
        parse_vkey("PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err()
    );
    assert!(
        parse_vkey("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err()
    );
    assert!(
        parse_vkey("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err()
    );
}
