//! How much unauthenticated work the write path starts at once. Until an envelope's proof
//! verifies, nothing says who sent it, so parsing its body and checking its proof is work any
//! client can make the registry do. [`AuthGate`] bounds it two ways: a number of envelopes
//! (`ELICENCE_SUBMISSION_AUTH_SLOTS`, default [`DEFAULT_SLOTS`]: parsing and one Ed25519
//! verification each) and their bytes together (`ELICENCE_SUBMISSION_AUTH_BYTES`, default
//! [`DEFAULT_BYTES`]: each body is parsed into a tree several times its size). Many issuers
//! sending small envelopes at once fit; a few large ones take the byte budget, and a body
//! larger than the whole budget takes all of it. A submission enters once its body has been
//! read (a slow upload holds nothing; reading is bounded by the body limit and the server's
//! connection limits) and leaves once the envelope's proof has been checked. When either bound
//! is reached the submission is answered 503 `intake_busy` with `Retry-After` at once: the
//! limit is the server's capacity, shared by every client, not a per-client quota (429).
//!
//! Authenticated work (the items' checks and the write) is bounded elsewhere: by the issuer's
//! own chain, which admits one envelope per sequence number.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Unauthenticated envelope checks at once, by default.
pub const DEFAULT_SLOTS: usize = 64;
/// Bytes of unauthenticated bodies at once, by default: four bodies at the default 8 MiB
/// submission limit.
pub const DEFAULT_BYTES: usize = 32 * 1024 * 1024;
/// The byte budget is counted in KiB.
const UNIT: usize = 1024;

/// Room for envelopes whose proof is not yet checked.
#[derive(Debug, Clone)]
pub struct AuthGate {
    slots: Arc<Semaphore>,
    kib: Arc<Semaphore>,
    total_kib: u32,
}

/// A place taken in the gate; dropping it gives it back.
#[derive(Debug)]
pub struct AuthSlot(
    #[expect(dead_code, reason = "held for its Drop")] (OwnedSemaphorePermit, OwnedSemaphorePermit),
);

impl AuthGate {
    /// A gate of `slots` envelopes (at least one) and `bytes` of bodies (at least 1 KiB).
    pub fn new(slots: usize, bytes: usize) -> Self {
        let total_kib = u32::try_from((bytes / UNIT).max(1)).unwrap_or(u32::MAX >> 3);
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Room for a body of `len` bytes, or `None` at once when the gate is full.
    pub fn try_enter(&self, len: usize) -> Option<AuthSlot> {
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        let wanted = u32::try_from(len.div_ceil(UNIT).max(1))
            .unwrap_or(u32::MAX)
            .min(self.total_kib);
        let bytes = self.kib.clone().try_acquire_many_owned(wanted).ok()?;
        Some(AuthSlot((slot, bytes)))
    }
}

impl Default for AuthGate {
    fn default() -> Self {
        Self::new(DEFAULT_SLOTS, DEFAULT_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_bounded_and_come_back() {
        let gate = AuthGate::new(2, 1 << 20);
        let (a, b) = (gate.try_enter(100), gate.try_enter(100));
        assert!(a.is_some() && b.is_some());
        assert!(gate.try_enter(100).is_none(), "full");
        drop(a);
        assert!(gate.try_enter(100).is_some(), "a slot came back");
        assert!(AuthGate::new(0, 0).try_enter(0).is_some(), "at least one");
    }

    #[test]
    fn bytes_are_bounded_and_come_back() {
        let gate = AuthGate::new(100, 10 * 1024);
        let big = gate.try_enter(6 * 1024).expect("room");
        assert!(gate.try_enter(5 * 1024).is_none(), "past the byte budget");
        let small = gate.try_enter(4 * 1024).expect("what is left");
        assert!(gate.try_enter(1).is_none(), "no byte left");
        drop((big, small));
        // Larger than the whole budget: it takes all of it, alone.
        let huge = gate.try_enter(1 << 30).expect("alone it fits");
        assert!(gate.try_enter(1).is_none());
        drop(huge);
        // A refusal for bytes gives its envelope slot back.
        let gate = AuthGate::new(1, 1024);
        let held = gate.try_enter(1024).expect("room");
        assert!(gate.try_enter(1).is_none());
        drop(held);
        assert!(gate.try_enter(1).is_some());
    }
}
