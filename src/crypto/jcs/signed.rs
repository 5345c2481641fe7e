//! The three canonical forms of a signed document from one pass: the whole document (proof
//! and `proofValue` included, whose SHA-256 is the registry's digest of a licence), and the two
//! that eddsa-jcs-2022 hashes and signs, the document without `proof` and the proof without
//! `proofValue`. Both are the whole form with one member cut out (with the comma that
//! separated it), so they are read as two slices each, never copied.

use std::ops::Range;

use serde_json::{Map, Value};

use super::{
    sorted_members, write_string, write_value, write_value_reusing, Fresh, Reuse, Written,
};
use crate::crypto::strict_json::Member as _;

/// The canonical form of a signed document, and where to cut it.
#[derive(Debug, Clone)]
pub struct SignedForms {
    /// The canonical form of the whole document.
    pub full: Vec<u8>,
    /// The top-level `proof` member, with one separating comma.
    proof_member: Range<usize>,
    /// The proof object (the single one, when `proof` is an array of one).
    proof: Range<usize>,
    /// The proof's `proofValue` member, with one separating comma.
    proof_value_member: Range<usize>,
}

impl SignedForms {
    /// The canonical form of the document without its `proof`, as two slices.
    pub fn document_without_proof(&self) -> [&[u8]; 2] {
        [
            &self.full[..self.proof_member.start],
            &self.full[self.proof_member.end..],
        ]
    }

    /// The canonical form of the proof without its `proofValue` (the proof config), as two
    /// slices.
    pub fn proof_config(&self) -> [&[u8]; 2] {
        [
            &self.full[self.proof.start..self.proof_value_member.start],
            &self.full[self.proof_value_member.end..self.proof.end],
        ]
    }
}

/// The forms of `document`, whose `proof` is an object with a `proofValue` or an array of one
/// such object; `None` for any other shape.
pub fn canonicalize_signed(document: &Map<String, Value>) -> Option<SignedForms> {
    forms(document, &Fresh)
}

/// [`canonicalize_signed`], copying the forms `written` holds for objects inside `document`
/// (outside its proof) instead of writing them again.
pub fn canonicalize_signed_reusing(
    document: &Map<String, Value>,
    written: &Written<'_>,
) -> Option<SignedForms> {
    forms(document, written)
}

fn forms(document: &Map<String, Value>, reuse: &impl Reuse) -> Option<SignedForms> {
    let proof = match document.member("proof")? {
        Value::Array(proofs) if proofs.len() == 1 => proofs[0].as_object()?,
        Value::Object(proof) => proof,
        _ => return None,
    };
    proof.member("proofValue")?;
    let mut full = Vec::with_capacity(2048);
    let mut inner = None;
    let proof_member = write_marking(&mut full, document, "proof", reuse, |out, value| {
        let start = out.len();
        match value {
            Value::Array(_) => {
                out.push(b'[');
                let object_start = out.len();
                let cut = write_marking(out, proof, "proofValue", &Fresh, write_value);
                inner = Some((object_start..out.len(), cut));
                out.push(b']');
            }
            _ => {
                let cut = write_marking(out, proof, "proofValue", &Fresh, write_value);
                inner = Some((start..out.len(), cut));
            }
        }
    });
    let (proof, proof_value_member) = inner?;
    Some(SignedForms {
        full,
        proof_member: proof_member?,
        proof,
        proof_value_member: proof_value_member?,
    })
}

/// Writes `map` canonically, its member `key`'s value with `write_marked` and the others with
/// [`write_value`]; answers the byte range of member `key` together with one comma next to it,
/// so that cutting the range out leaves the canonical form of the map without that member.
fn write_marking(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    key: &str,
    reuse: &impl Reuse,
    mut write_marked: impl FnMut(&mut Vec<u8>, &Value),
) -> Option<Range<usize>> {
    let members = sorted_members(map, None);
    let count = members.len();
    let mut marked = None;
    out.push(b'{');
    for (i, (name, value)) in members.into_iter().enumerate() {
        let start = out.len();
        if i > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        if name == key {
            write_marked(out, value);
            // The first member takes the comma after it; any other, the comma before it.
            let end = out.len() + usize::from(i == 0 && count > 1);
            marked = Some(start..end);
        } else {
            write_value_reusing(out, value, reuse);
        }
    }
    out.push(b'}');
    marked
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::{canonicalize, canonicalize_without, tests::arbitrary_json};
    use super::*;

    fn joined(parts: [&[u8]; 2]) -> Vec<u8> {
        [parts[0], parts[1]].concat()
    }

    fn check(document: &Value) {
        let fields = document.as_object().expect("an object");
        let forms = canonicalize_signed(fields).expect("a signed document");
        let proof = match &fields["proof"] {
            Value::Array(proofs) => proofs[0].as_object().expect("a proof object"),
            other => other.as_object().expect("a proof object"),
        };
        assert_eq!(forms.full, canonicalize(document));
        assert_eq!(
            joined(forms.document_without_proof()),
            canonicalize_without(fields, "proof")
        );
        assert_eq!(
            joined(forms.proof_config()),
            canonicalize_without(proof, "proofValue")
        );
    }

    #[test]
    fn the_cut_forms_are_the_canonical_forms_without_the_member() {
        check(&json!({"proof": {"proofValue": "z1"}}));
        check(&json!({"a": 1, "proof": {"proofValue": "z1"}}));
        check(&json!({"proof": {"proofValue": "z1", "type": "x"}, "z": [1]}));
        check(
            &json!({"a": 1, "proof": [{"created": "t", "proofValue": "z1", "type": "x"}], "z": {}}),
        );
        check(&json!({"é": 1, "proof": {"a": null, "proofValue": "z1"}, "𝄞": 2, "\u{e000}": 3}));
    }

    #[test]
    fn other_shapes_have_no_forms() {
        for document in [
            json!({"a": 1}),
            json!({"proof": "z1"}),
            json!({"proof": {"type": "x"}}),
            json!({"proof": [{"proofValue": "z1"}, {"proofValue": "z2"}]}),
        ] {
            assert!(canonicalize_signed(document.as_object().expect("an object")).is_none());
        }
    }

    /// An envelope whose items' forms were written first: its forms reusing them are the ones
    /// written afresh, and so is its form with only some items known.
    #[test]
    fn forms_reusing_written_objects_are_the_forms_written_afresh() {
        let envelope = json!({
            "type": "Envelope",
            "items": [
                {"licence": {"b": "é\u{1}", "a": [1, 2.5], "proof": {"proofValue": "z1"}}},
                {"statusChange": {"z": 1}},
                {"licence": {"𝄞": {"x": null}, "\u{e000}": true, "proof": [{"proofValue": "z2"}]}},
            ],
            "proof": {"proofValue": "z3", "created": "t"},
        });
        let fields = envelope.as_object().expect("an object");
        let afresh = canonicalize_signed(fields).expect("a signed envelope");
        let items = envelope["items"].as_array().expect("items");
        let bodies = [&items[0]["licence"], &items[2]["licence"]];
        let forms: Vec<Vec<u8>> = bodies.iter().map(|body| canonicalize(body)).collect();
        for known in [&[0, 1][..], &[1], &[]] {
            let mut written = Written::default();
            for &i in known {
                written.insert(bodies[i], &forms[i]);
            }
            let reused = canonicalize_signed_reusing(fields, &written).expect("a signed envelope");
            assert_eq!(reused.full, afresh.full);
            assert_eq!(
                joined(reused.document_without_proof()),
                joined(afresh.document_without_proof())
            );
            assert_eq!(joined(reused.proof_config()), joined(afresh.proof_config()));
        }
        // A form recorded for an object is copied as it is, whatever it holds: the caller's
        // promise that it is that object's form is what makes the result canonical.
        let mut written = Written::default();
        written.insert(bodies[0], b"{}");
        let reused = canonicalize_signed_reusing(fields, &written).expect("a signed envelope");
        assert_ne!(reused.full, afresh.full);
    }

    proptest! {
        /// Random documents with random proofs, single or in an array of one.
        #[test]
        fn random_signed_documents_cut_exactly(
            document in proptest::collection::vec((any::<String>(), arbitrary_json()), 0..6),
            proof in proptest::collection::vec((any::<String>(), arbitrary_json()), 0..6),
            value in arbitrary_json(),
            in_array in any::<bool>(),
        ) {
            let mut proof: Map<String, Value> = proof.into_iter().collect();
            proof.insert("proofValue".into(), value);
            let mut document: Map<String, Value> = document.into_iter().collect();
            let proof = Value::Object(proof);
            document.insert("proof".into(), if in_array { Value::Array(vec![proof]) } else { proof });
            check(&Value::Object(document));
        }
    }
}
