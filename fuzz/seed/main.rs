//! Writes the seed corpora, fuzz/corpus/<target>/, from the test vectors (tests/vectors/) and
//! the QR samples (src/qr/samples.json): run by fuzz/seed.sh. Not a fuzz target: it has its
//! own `main`, so libFuzzer's is not linked in.
//!
//! Usage: seed <repository root> <corpus dir>

// Links libFuzzer (its coverage runtime; not its `main`, this file has one).
extern crate libfuzzer_sys;

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use elicence::crypto::keys::KeyPair;
use elicence::crypto::{jcs, multikey};
use elicence::domain::identifiers::{LicenceId, TypeCode, Uscc};
use elicence::issuer::{build_licence, sign_licence, LicenceDraft};
use elicence::log::checkpoint::{self, Checkpoint};
use elicence::qr;
use serde_json::{json, Value};

#[path = "../fuzz_targets/common.rs"]
mod common;

struct Corpus(PathBuf);

impl Corpus {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.0.join(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        fs::write(dir.join(name), bytes).expect("seed file");
    }
}

fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, out] = &args[..] else {
        panic!("usage: seed <repository root> <corpus dir>")
    };
    let root = Path::new(root);
    let corpus = Corpus(PathBuf::from(out));

    // JSON: the JCS vectors, the signed W3C vector, the QR samples.
    let mut json_seeds: Vec<(String, String)> = Vec::new();
    for entry in fs::read_dir(root.join("tests/vectors/jcs/input")).expect("jcs vectors") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        json_seeds.push((format!("jcs-{name}"), fs::read_to_string(&path).expect("vector")));
    }
    let signed_vector = read(root, "tests/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json");
    json_seeds.push(("w3c-signed.json".into(), signed_vector.clone()));
    json_seeds.push((
        "w3c-unsigned.json".into(),
        read(root, "tests/vectors/vc-di-eddsa/unsigned.json"),
    ));
    json_seeds.push((
        "w3c-proof-config.json".into(),
        read(root, "tests/vectors/vc-di-eddsa/eddsa-jcs-2022/proofConfigJCS.json"),
    ));
    for (i, tricky) in [
        r#"{"a":1,"a":2}"#,
        r#"[1e400,-0,0.1,1E-7,9007199254740993,18446744073709551616,-9223372036854775809]"#,
        r#""\ud800""#,
        r#"{"\u00e9":1,"\ud83d\ude00":2,"\uffff":3,"e\u0301":4}"#,
        r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
        "[{},{},{},[],[],\"\",0,0]",
    ]
    .iter()
    .enumerate()
    {
        json_seeds.push((format!("tricky-{i}.json"), (*tricky).to_owned()));
    }

    // Signed licences of every QR sample subject, by the fixed seed key, for the registry of
    // common.rs (so the licence target accepts them) and did:key-signed copies (so the proof
    // target's resolver finds their key).
    let key = KeyPair::from(common::seed_key());
    let issuer: Uscc = common::USCC.parse().expect("USCC");
    let subjects: Value = serde_json::from_str(&read(root, "src/qr/samples.json")).expect("samples");
    let mut licences = Vec::new();
    for (i, (code, subject)) in subjects.as_object().expect("object").iter().enumerate() {
        let type_code: TypeCode = code.parse().expect("type code");
        let draft = LicenceDraft {
            id: LicenceId::build(&type_code, &issuer, "2026000123", 1).expect("id"),
            issuer_did: common::DID.into(),
            public_base: common::PUBLIC_BASE.into(),
            schema_version: 1,
            valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            valid_until: Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()),
            jurisdiction: "220104".parse().expect("division"),
            subject: subject.clone(),
            previous: None,
        };
        let vc = build_licence(&draft).expect("draft");
        let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let vm = format!("{}#{}", common::DID, key.multikey());
        let signed = sign_licence(&vc, &key, &vm, created).expect("sign");
        let did_key = format!("did:key:{0}#{0}", key.multikey());
        let by_did_key = sign_licence(&vc, &key, &did_key, created).expect("sign");
        let text = serde_json::to_string_pretty(&signed).unwrap();
        corpus.put("licence", &format!("licence-{i}.json"), &text);
        corpus.put("proof", &format!("licence-{i}.json"), &text);
        corpus.put("proof", &format!("licence-didkey-{i}.json"), serde_json::to_vec(&by_did_key).unwrap());
        let payload = qr::encode_offline(&signed);
        corpus.put("qr", &format!("payload-{i}.txt"), [b"\0", payload.as_bytes()].concat());
        let body = payload.strip_prefix(qr::OFFLINE_PREFIX).unwrap();
        let deflated = qr::base45::decode(body).expect("own base45");
        corpus.put("qr", &format!("deflate-{i}.bin"), [b"\x01".as_slice(), &deflated].concat());
        // A stored row in each form: a DEFLATE stream of the offline payload is form 1's body.
        let compact = serde_json::to_vec(&signed).unwrap();
        corpus.put("packed", &format!("form2-{i}.bin"), elicence::log::packed::Packed::pack(&compact).as_bytes());
        corpus.put("packed", &format!("form1-{i}.bin"), [b"\x01".as_slice(), &deflated].concat());
        corpus.put("packed", &format!("text-{i}.json"), &compact);
        let digest = elicence::crypto::digest::digest_value(&signed);
        let receipt = elicence::log::registration::for_digest(
            key.signing_key(), "registry.example/log", &digest, i as u64, created,
        )
        .expect("a receipt");
        let registered = qr::encode_registered(&signed, &receipt);
        corpus.put("qr", &format!("registered-{i}.txt"), [b"\0", registered.as_bytes()].concat());
        let body = registered.strip_prefix(qr::REGISTERED_PREFIX).unwrap();
        let bytes = qr::base45::decode(body).expect("own base45");
        corpus.put("qr", &format!("registered-{i}.bin"), [b"\x02".as_slice(), &bytes].concat());
        licences.push(signed);
    }
    corpus.put("proof", "w3c-signed.json", &signed_vector);
    corpus.put("qr", "empty.txt", b"\0EL1:");
    corpus.put("qr", "empty-registered.txt", b"\0EL2:");

    // Envelopes: sequence 1 and 2, a licence and a status change.
    let first = &licences[0];
    let digest = elicence::crypto::digest::multibase_sha256(&jcs::canonicalize(first));
    let change = json!({"licence": first["id"], "action": "suspend", "reason": "r",
        "effectiveFrom": "2026-06-01T00:00:00Z", "previous": digest});
    let envelopes = [
        json!({"issuer": common::DID, "sequence": 1, "previous": null,
               "items": [{"licence": first}], "proof": {}}),
        json!({"issuer": common::DID, "sequence": 2, "previous": digest,
               "items": [{"statusChange": change}, {"licence": licences[1]}], "proof": {}}),
    ];
    for (i, envelope) in envelopes.iter().enumerate() {
        corpus.put("envelope", &format!("envelope-{i}.json"), serde_json::to_vec_pretty(envelope).unwrap());
    }
    for (name, text) in &json_seeds {
        corpus.put("strict_json", name, text);
        corpus.put("jcs", name, text);
    }
    corpus.put("jcs", "licence.json", serde_json::to_vec(first).unwrap());

    // Checkpoints: notes signed by the fixed key, verifier keys, bodies.
    let name = "registry.test/log";
    let vkey = checkpoint::vkey(name, &key.verifying_key());
    for (i, size) in [0u64, 1, 7, 1 << 40].iter().enumerate() {
        let cp = Checkpoint::new(name, *size, [i as u8; 32]).expect("checkpoint");
        let note = cp.sign(key.signing_key());
        corpus.put("checkpoint", &format!("note-{i}.txt"), [b"\0", note.as_bytes()].concat());
        corpus.put("checkpoint", &format!("body-{i}.txt"), [b"\x02", cp.body().as_bytes()].concat());
        corpus.put("checkpoint", &format!("pair-{i}.txt"), format!("\x03{vkey}\n{note}"));
    }
    corpus.put("checkpoint", "vkey.txt", [b"\x01", vkey.as_bytes()].concat());
    corpus.put("checkpoint", "body-ext.txt", format!("\x02{name}\n3\n{}\nextension\n", "A".repeat(43) + "="));

    // Keys: Multikeys, did:key, PEM (SPKI and PKCS#8).
    let vector_pair: Value = serde_json::from_str(&read(root, "tests/vectors/vc-di-eddsa/keyPair.json")).unwrap();
    for (i, text) in [
        vector_pair["publicKeyMultibase"].as_str().unwrap().to_owned(),
        vector_pair["privateKeyMultibase"].as_str().unwrap().to_owned(),
        key.multikey(),
        format!("did:key:{0}#{0}", key.multikey()),
        key.to_pkcs8_pem().to_string(),
        {
            use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
            key.verifying_key().to_public_key_pem(LineEnding::LF).expect("SPKI PEM")
        },
    ]
    .iter()
    .enumerate()
    {
        corpus.put("keys", &format!("key-{i}.txt"), text);
    }
    let _ = multikey::encode(&key.verifying_key());

    // Identifiers: every string of the identifier vectors, and URNs of them.
    let ids: Value = serde_json::from_str(&read(root, "tests/vectors/cn-identifiers.json")).unwrap();
    let mut n = 0;
    for (field, list) in ids.as_object().unwrap() {
        for s in list.as_array().into_iter().flatten().filter_map(Value::as_str) {
            corpus.put("identifiers", &format!("{field}-{n}.txt"), s);
            n += 1;
        }
    }
    for (i, s) in [
        format!("urn:elicence:{}", licences[0]["id"].as_str().unwrap().trim_start_matches("urn:elicence:")),
        "urn:cn:rid:11010519491231002X".into(),
        "urn:cn:uscc:91110000101623741K".into(),
        "11100000000013338W032".into(),
        "220104".into(),
        "2201".into(),
    ]
    .iter()
    .enumerate()
    {
        corpus.put("identifiers", &format!("extra-{i}.txt"), s);
    }
}
