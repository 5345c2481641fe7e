//! A receipt's texts written member by member, with no `serde_json::Value` built, sorted and
//! serialised: the seal writes one receipt an envelope, each item with its inclusion proof
//! (about 100 KB for 100 licences), inside the batch's transaction.
//!
//! Three texts from one pass over the items:
//! - the canonical form without the proof (RFC 8785, members sorted), which the signature
//!   covers;
//! - the receipt as answered, its members in the order receipts have always had:
//!   `envelope, issuer, sequence, acceptedAt, checkpoint, treeSize, items, proof`, each item
//!   `index, kind, id, digest, leafIndex, leafHash, inclusionProof, registration?`;
//! - the receipt as stored ([`super::stored`]): the same without `checkpoint`, each item
//!   without `id`, `digest`, `leafHash` and `inclusionProof`.
//!
//! Strings are escaped as JCS escapes them, which is how serde_json writes them, so the texts are
//! what serialising the receipt as a value gave (a test holds them to it).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::crypto::jcs::{write_number, write_string};
use crate::log::batch::AppendedLeaf;
use crate::log::merkle::Hash;
use crate::verify::answer::array;

/// The members of a receipt outside its items.
pub(super) struct Head<'a> {
    pub envelope: &'a str,
    pub issuer: &'a str,
    pub sequence: u64,
    pub accepted_at: &'a str,
    pub checkpoint: &'a str,
    pub tree_size: u64,
}

/// One item of a receipt.
pub(super) struct Item<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub digest: &'a str,
    pub leaf: &'a AppendedLeaf,
    /// A licence's registration receipt (`None`: a status change, which has none).
    pub registration: Option<&'a str>,
}

/// A receipt's texts before its proof.
pub(super) struct Texts {
    /// The canonical form of the receipt without its proof: what is signed.
    pub canonical: Vec<u8>,
    /// The receipt as answered, open for its `proof` member.
    answered: Vec<u8>,
    /// The receipt as stored, open for its `proof` member.
    stored: Vec<u8>,
}

impl Texts {
    /// Writes the receipt of `head` and `items` (in item order).
    pub fn write(head: &Head<'_>, items: &[Item<'_>]) -> Self {
        let proofs: usize = items.iter().map(|i| i.leaf.inclusion.len() + 1).sum();
        let size = 256 + head.checkpoint.len() + items.len() * 512 + proofs * 47;
        let mut texts = Self {
            canonical: Vec::with_capacity(size),
            answered: Vec::with_capacity(size + 112),
            stored: Vec::with_capacity(256 + items.len() * 192),
        };
        texts.write_canonical(head, items);
        texts.write_answered(head, items);
        texts
    }

    fn write_canonical(&mut self, head: &Head<'_>, items: &[Item<'_>]) {
        let out = &mut self.canonical;
        out.extend_from_slice(b"{\"acceptedAt\":");
        write_string(out, head.accepted_at);
        out.extend_from_slice(b",\"checkpoint\":");
        write_string(out, head.checkpoint);
        out.extend_from_slice(b",\"envelope\":");
        write_string(out, head.envelope);
        out.extend_from_slice(b",\"issuer\":");
        write_string(out, head.issuer);
        out.extend_from_slice(b",\"items\":[");
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"digest\":");
            write_string(out, item.digest);
            out.extend_from_slice(b",\"id\":");
            write_string(out, item.id);
            out.extend_from_slice(b",\"inclusionProof\":");
            write_hashes(out, &item.leaf.inclusion);
            out.extend_from_slice(b",\"index\":");
            write_number(out, &index.into());
            out.extend_from_slice(b",\"kind\":");
            write_string(out, item.kind);
            out.extend_from_slice(b",\"leafHash\":");
            write_hash(out, &item.leaf.hash);
            out.extend_from_slice(b",\"leafIndex\":");
            write_number(out, &item.leaf.index.into());
            if let Some(registration) = item.registration {
                out.extend_from_slice(b",\"registration\":");
                write_string(out, registration);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"sequence\":");
        write_number(out, &head.sequence.into());
        out.extend_from_slice(b",\"treeSize\":");
        write_number(out, &head.tree_size.into());
        out.push(b'}');
    }

    fn write_answered(&mut self, head: &Head<'_>, items: &[Item<'_>]) {
        let (answered, stored) = (&mut self.answered, &mut self.stored);
        for out in [&mut *answered, &mut *stored] {
            out.extend_from_slice(b"{\"envelope\":");
            write_string(out, head.envelope);
            out.extend_from_slice(b",\"issuer\":");
            write_string(out, head.issuer);
            out.extend_from_slice(b",\"sequence\":");
            write_integer(out, head.sequence);
            out.extend_from_slice(b",\"acceptedAt\":");
            write_string(out, head.accepted_at);
        }
        answered.extend_from_slice(b",\"checkpoint\":");
        write_string(answered, head.checkpoint);
        for out in [&mut *answered, &mut *stored] {
            out.extend_from_slice(b",\"treeSize\":");
            write_integer(out, head.tree_size);
            out.extend_from_slice(b",\"items\":[");
        }
        for (index, item) in items.iter().enumerate() {
            for out in [&mut *answered, &mut *stored] {
                if index > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"index\":");
                write_integer(out, index as u64);
                out.extend_from_slice(b",\"kind\":");
                write_string(out, item.kind);
            }
            answered.extend_from_slice(b",\"id\":");
            write_string(answered, item.id);
            answered.extend_from_slice(b",\"digest\":");
            write_string(answered, item.digest);
            for out in [&mut *answered, &mut *stored] {
                out.extend_from_slice(b",\"leafIndex\":");
                write_integer(out, item.leaf.index);
            }
            answered.extend_from_slice(b",\"leafHash\":");
            write_hash(answered, &item.leaf.hash);
            answered.extend_from_slice(b",\"inclusionProof\":");
            write_hashes(answered, &item.leaf.inclusion);
            for out in [&mut *answered, &mut *stored] {
                if let Some(registration) = item.registration {
                    out.extend_from_slice(b",\"registration\":");
                    write_string(out, registration);
                }
                out.push(b'}');
            }
        }
        for out in [answered, stored] {
            out.extend_from_slice(b"],\"proof\":");
        }
    }

    /// The receipt as answered and as stored, each closed with `proof` (an object's text).
    pub fn finish(self, proof: &str) -> (String, String) {
        let close = |mut text: Vec<u8>| {
            text.extend_from_slice(proof.as_bytes());
            text.push(b'}');
            // Invariant: every part written is UTF-8 text.
            String::from_utf8(text).unwrap_or_default()
        };
        (close(self.answered), close(self.stored))
    }
}

/// An integer as serde_json writes it (every digit, past 2^53 too).
fn write_integer(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A hash in standard base64, which needs no escaping.
fn write_hash(out: &mut Vec<u8>, hash: &Hash) {
    let mut text = [0u8; 44];
    // Invariant: 32 bytes are 44 characters of padded base64.
    let written = STANDARD.encode_slice(hash, &mut text).unwrap_or_default();
    out.push(b'"');
    out.extend_from_slice(&text[..written]);
    out.push(b'"');
}

fn write_hashes(out: &mut Vec<u8>, hashes: &[Hash]) {
    array(out, hashes, write_hash);
}
