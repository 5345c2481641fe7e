//! Ed25519 batches across concurrent requests.
//!
//! A request for one licence has one signature, so it cannot batch on its own; but a busy
//! worker holds many such requests at once. Each puts its signatures on its worker thread's
//! queue and yields once: Tokio runs every other ready task, and polls the sockets, before it
//! comes back. By then the other requests on that worker have queued theirs, and the first to
//! resume checks the whole queue as one batch ([`crate::crypto::batch`]) and hands every request
//! its answer. An idle worker adds one yield to a request; a batch that fails is checked one
//! signature at a time, so a bad signature costs its neighbours one wasted batch, never a
//! wrong answer.
//!
//! Actix runs each request on one worker thread from start to end. Should a task resume on
//! another thread all the same, it finds its signatures unanswered after flushing that
//! thread's queue and checks them itself.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use ed25519_dalek::{Signature, VerifyingKey};

use crate::crypto::batch;

/// One signature waiting for its answer.
#[derive(Debug)]
struct Pending {
    /// What eddsa-jcs-2022 signs: two SHA-256 digests.
    message: [u8; 64],
    signature: Signature,
    key: VerifyingKey,
    valid: OnceLock<bool>,
}

impl Pending {
    fn item(&self) -> batch::Item<'_> {
        batch::Item {
            message: &self.message,
            signature: &self.signature,
            key: &self.key,
        }
    }
}

thread_local! {
    static QUEUE: RefCell<Vec<Arc<Pending>>> = const { RefCell::new(Vec::new()) };
}

/// Whether each signature verifies strictly, checked in a batch with whatever else this worker
/// is verifying at the moment.
pub async fn verify(signatures: Vec<([u8; 64], Signature, VerifyingKey)>) -> Vec<bool> {
    if signatures.is_empty() {
        return Vec::new();
    }
    let mine: Vec<Arc<Pending>> = signatures
        .into_iter()
        .map(|(message, signature, key)| {
            Arc::new(Pending {
                message,
                signature,
                key,
                valid: OnceLock::new(),
            })
        })
        .collect();
    QUEUE.with(|q| q.borrow_mut().extend(mine.iter().cloned()));
    tokio::task::yield_now().await;
    if mine.iter().any(|p| p.valid.get().is_none()) {
        flush();
    }
    mine.iter()
        .map(|p| *p.valid.get_or_init(|| batch::verify_each(&[p.item()])[0]))
        .collect()
}

/// Checks everything queued on this thread and answers each waiting signature.
fn flush() {
    let queued = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
    let open: Vec<&Arc<Pending>> = queued.iter().filter(|p| p.valid.get().is_none()).collect();
    if open.is_empty() {
        return;
    }
    metrics::histogram!("verify_signature_batch_size").record(open.len() as f64);
    let items: Vec<batch::Item<'_>> = open.iter().map(|p| p.item()).collect();
    for (p, valid) in open.iter().zip(batch::verify_each(&items)) {
        let _ = p.valid.set(valid);
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn signed(i: u8, valid: bool) -> ([u8; 64], Signature, VerifyingKey) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let message = [i; 64];
        let signature = key.sign(if valid { &message } else { b"another message" });
        (message, signature, key.verifying_key())
    }

    /// Concurrent requests on one thread share a batch, and each gets its own answer, a bad
    /// signature among them included.
    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_requests_share_a_batch_and_keep_their_answers() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let tasks: Vec<_> = (0..20u8)
                    .map(|i| {
                        tokio::task::spawn_local(verify(vec![
                            signed(i, true),
                            signed(i.wrapping_add(100), i % 7 != 3),
                        ]))
                    })
                    .collect();
                for (i, task) in tasks.into_iter().enumerate() {
                    let answer = task.await.expect("the task runs");
                    assert_eq!(answer, vec![true, i % 7 != 3], "request {i}");
                }
            })
            .await;
        assert!(QUEUE.with(|q| q.borrow().is_empty()), "nothing left queued");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_alone_is_answered_on_any_runtime() {
        assert_eq!(verify(vec![signed(1, true)]).await, vec![true]);
        assert_eq!(verify(vec![signed(2, false)]).await, vec![false]);
        assert!(verify(Vec::new()).await.is_empty());
    }
}
