//! How much unauthenticated work the write path starts at once. Until an envelope's proof
//! verifies, nothing says who sent it, so parsing its body and checking its proof is work any
//! client can make the registry do. [`AuthGate`] holds a fixed number of slots
//! (`ELICENCE_SUBMISSION_AUTH_SLOTS`, default [`DEFAULT_SLOTS`]); a submission takes one once
//! its body has been read (a slow upload holds none; reading is bounded by the body limit and
//! the server's connection limits) and gives it back once the envelope's proof has been
//! checked. When every
//! slot is taken the submission is answered 503 `intake_busy` with `Retry-After` at once: the
//! limit is the server's capacity, shared by every client, not a per-client quota (429).
//!
//! Authenticated work (the items' checks and the write) is bounded elsewhere: by the issuer's
//! own chain, which admits one envelope per sequence number.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Unauthenticated envelope checks at once, by default. Each holds up to one body (8 MiB by
/// default) and its parsed tree; a check of a 6 MiB envelope costs tens of milliseconds.
pub const DEFAULT_SLOTS: usize = 8;

/// Slots for envelopes whose proof is not yet checked.
#[derive(Debug, Clone)]
pub struct AuthGate {
    slots: Arc<Semaphore>,
}

/// A taken slot; dropping it frees the slot.
#[derive(Debug)]
pub struct AuthSlot(#[expect(dead_code, reason = "held for its Drop")] OwnedSemaphorePermit);

impl AuthGate {
    /// A gate of `slots` slots (at least one).
    pub fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
        }
    }

    /// A free slot, or `None` at once when every slot is taken.
    pub fn try_enter(&self) -> Option<AuthSlot> {
        self.slots.clone().try_acquire_owned().ok().map(AuthSlot)
    }
}

impl Default for AuthGate {
    fn default() -> Self {
        Self::new(DEFAULT_SLOTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_come_back() {
        let gate = AuthGate::new(2);
        let (a, b) = (gate.try_enter(), gate.try_enter());
        assert!(a.is_some() && b.is_some());
        assert!(gate.try_enter().is_none(), "full");
        drop(a);
        assert!(gate.try_enter().is_some(), "a slot came back");
        assert!(AuthGate::new(0).try_enter().is_some(), "at least one slot");
    }
}
