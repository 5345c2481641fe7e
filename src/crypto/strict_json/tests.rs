//! Tests for [`super`]: duplicates, limits, refusals, and agreement with serde_json.

use super::*;
use proptest::prelude::*;
use serde_json::json;

const MAX: usize = 1 << 20;

fn dup(input: &str) -> (String, String) {
    match parse_str(input, MAX) {
        Err(StrictJsonError::DuplicateKey { key, path }) => (key, path),
        other => panic!("expected duplicate for {input}: {other:?}"),
    }
}

#[test]
fn parses_plain_documents_like_serde_json() {
    let input = r#"{"a":[1,-2,3.5,{"b":null}],"c":"\u00e9\ud83d\ude02","d":true}"#;
    let expected: Value = serde_json::from_str(input).unwrap();
    assert_eq!(parse_str(input, MAX).unwrap(), expected);
}

#[test]
fn refuses_duplicates_at_any_depth() {
    assert_eq!(dup(r#"{"a":1,"a":2}"#), ("a".into(), "".into()));
    assert_eq!(
        dup(r#"{"x":{"y":[0,{"k":1,"k":1}]}}"#),
        ("k".into(), "/x/y/1".into())
    );
    assert_eq!(
        dup(r#"[[{}],[{"a/b":{"z":0,"z":0}}]]"#),
        ("z".into(), "/1/0/a~1b".into())
    );
    // Equal after unescaping is still equal.
    assert_eq!(dup(r#"{"é":1,"\u00e9":2}"#).0, "é");
}

#[test]
fn allows_same_key_in_sibling_objects() {
    assert!(parse_str(r#"[{"a":1},{"a":2}]"#, MAX).is_ok());
    assert!(parse_str(r#"{"a":{"a":{"a":1}}}"#, MAX).is_ok());
}

#[test]
fn refuses_oversized_input_without_parsing() {
    let err = parse_str("[1, 2]", 5).unwrap_err();
    assert_eq!(err, StrictJsonError::TooLarge { limit: 5 });
    assert!(parse_str("[1,2]", 5).is_ok());
}

#[test]
fn refuses_invalid_utf8() {
    let err = parse(b"{\"a\":\"\xff\"}", MAX).unwrap_err();
    assert_eq!(err, StrictJsonError::InvalidUtf8 { offset: 6 });
}

#[test]
fn refuses_lone_surrogates() {
    for input in [
        r#"["\ud800"]"#,
        r#"["\udc00"]"#,
        r#"["\ud800\u0041"]"#,
        r#"{"\ud800":1}"#,
        r#"["\ud800\\"]"#,
    ] {
        assert!(
            matches!(parse_str(input, MAX), Err(StrictJsonError::Syntax(_))),
            "{input}"
        );
    }
}

#[test]
fn refuses_trailing_garbage_and_empty_input() {
    for input in [
        "{} x",
        "{}{}",
        "1 2",
        "",
        "   ",
        "[1,]",
        "{\"a\":1,}",
        "\u{feff}{}",
    ] {
        assert!(
            matches!(parse_str(input, MAX), Err(StrictJsonError::Syntax(_))),
            "{input:?}"
        );
    }
    assert!(parse_str(" {} \n", MAX).is_ok());
}

#[test]
fn error_messages_stay_short() {
    let key = "k".repeat(10_000);
    let input = format!(r#"{{"{key}":1,"{key}":2}}"#);
    assert!(parse_str(&input, MAX).unwrap_err().to_string().len() < 200);
    let input = format!(r#"["{}"#, "x".repeat(10_000));
    assert!(parse_str(&input, MAX).unwrap_err().to_string().len() < 250);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let input = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        parse_str(&input, MAX),
        Err(StrictJsonError::Syntax(_))
    ));
}

#[test]
fn parse_str_and_parse_agree() {
    assert_eq!(parse_str("{\"a\":[]}", MAX), parse(b"{\"a\":[]}", MAX));
    assert_eq!(parse_str("0", MAX).unwrap(), json!(0));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            // Building a Map deduplicates keys, so the value is duplicate-free.
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn agrees_with_serde_json_on_duplicate_free_values(
        value in arb_json(),
        pretty in any::<bool>(),
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let expected: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(parse_str(&text, usize::MAX).unwrap(), expected);
    }
}

/// The tree bytes a document's parse spends, per byte of its text.
fn tree_ratio(text: &str) -> f64 {
    let (parsed, spent) = parse_within(text.as_bytes(), usize::MAX, usize::MAX);
    parsed.expect("a valid document");
    spent as f64 / text.len() as f64
}

/// Real documents (a W3C credential, licence subjects, every seeded schema, a batch of
/// credentials) stay far under the budget's ratio, which is what lets it refuse only abuse.
#[test]
fn real_documents_spend_a_fraction_of_the_budget() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: String| std::fs::read_to_string(path).expect("a fixture");
    let credential = read(format!(
        "{root}/tests/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"
    ));
    let mut documents = vec![
        credential.clone(),
        read(format!("{root}/src/qr/samples.json")),
        format!(
            r#"{{"items":[{}]}}"#,
            vec![format!(r#"{{"credential":{credential}}}"#); 100].join(",")
        ),
    ];
    for entry in std::fs::read_dir(format!("{root}/schemas/licence-types")).expect("schemas") {
        documents.push(read(entry.expect("an entry").path().display().to_string()));
    }
    let worst = documents.iter().map(|d| tree_ratio(d)).fold(0.0, f64::max);
    // Room to spare: a real document would have to be three times as dense to be refused.
    assert!(
        worst * 3.0 < TREE_BYTES_PER_INPUT_BYTE as f64,
        "worst ratio {worst:.1}"
    );
}

/// Bodies of tiny values within the size limit are refused before their tree grows: a megabyte
/// of `{}` would otherwise take ~400 MB.
#[test]
fn tiny_values_in_bulk_are_refused() {
    let n = 400_000;
    for unit in ["{}", "[]", "{\"\":0}", "[0]", "\"\"", "0"] {
        let text = format!("[{}]", vec![unit; n].join(","));
        assert!(
            matches!(
                parse_str(&text, usize::MAX),
                Err(StrictJsonError::TooComplex { .. })
            ),
            "{unit}"
        );
    }
    // Dense but plausible: a long array of eight-digit numbers passes (~10 bytes per byte,
    // with the array's spare capacity).
    let numbers = format!("[{}]", vec!["12345678"; n].join(","));
    assert!(parse_str(&numbers, usize::MAX).is_ok());
    // Small documents always pass, whatever their shape.
    assert!(parse_str(&format!("[{}]", vec!["{}"; 5_000].join(",")), MAX).is_ok());
}
