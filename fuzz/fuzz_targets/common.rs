//! Shared by the targets (included with `#[path]`, not a module of a library).
#![allow(dead_code)]

/// The byte limit the targets give the strict reader: the service's request limit order of
/// magnitude; libFuzzer's inputs stay far below it (-max_len), so it is never what refuses.
pub const MAX_JSON: usize = 1 << 20;

/// The registry the submission targets pretend to be.
pub const HOST: &str = "registry.test";
pub const PUBLIC_BASE: &str = "https://registry.test";
pub const USCC: &str = "11220000013544541J";
pub const DID: &str = "did:web:registry.test:issuers:11220000013544541J";

/// The W3C vc-di-eddsa test key (tests/vectors/vc-di-eddsa/keyPair.json).
pub const VECTOR_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
pub const VECTOR_PRIVATE: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

/// The fixed key the seed script signs licences and checkpoints with.
pub fn seed_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}
