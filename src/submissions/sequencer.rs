//! The sequencer: one writer per service instance, on a thread and connection of its own, that
//! group-commits validated envelopes.
//!
//! Handlers send envelopes through a channel and wait on a oneshot. The writer takes what is
//! queued (up to [`MAX_ENVELOPES`] envelopes or [`MAX_ITEMS`] items), computes leaf data, and
//! hands the batch to [`LogStore::append_batch`](crate::storage::LogStore::append_batch): one
//! transaction that takes the log lock (so many instances over one PostgreSQL database produce
//! one log), re-checks every chain head, appends, signs the checkpoint and receipts, and
//! commits. Only after the commit returns does any waiter get its answer, so a receipt is
//! never sent for data that is not durable.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use crate::log::batch::{Appended, Batch, Outcome, PendingEnvelope, Sealer};
use crate::log::receipt::Signer;
use crate::storage::{now_micros, Store, StoreError};

/// Most envelopes in one transaction.
pub const MAX_ENVELOPES: usize = 256;
/// Most items (leaves) in one transaction, unless a single envelope alone has more.
pub const MAX_ITEMS: usize = 20_000;
/// Envelopes that may wait for the writer before submitters wait to enqueue.
const QUEUE: usize = 4096;

/// Why an envelope got no outcome.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error("the sequencer has stopped")]
    Stopped,
    #[error("the batch could not be stored: {0}")]
    Store(String),
    /// The database could not be reached: nothing of the batch was stored; retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database has no room to write: nothing of the batch was stored; retry later.
    #[error("the database storage is full: {0}")]
    StorageFull(String),
}

struct Job {
    envelope: PendingEnvelope,
    reply: oneshot::Sender<Result<Outcome, SequencerError>>,
}

/// A handle to this instance's writer task.
#[derive(Debug, Clone)]
pub struct Sequencer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("envelope", &self.envelope.digest)
            .finish()
    }
}

impl Sequencer {
    /// Starts the writer on a thread of its own, with its own connection to the database at
    /// `url`. The request handlers' threads are busy checking signatures; a writer sharing them
    /// (or their connections, whose I/O their threads drive) waits behind that work at every
    /// statement of its transaction. The thread ends when every handle is dropped.
    pub async fn start_dedicated(url: &str, signer: Signer) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let (ready, started) = oneshot::channel();
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("elicence-sequencer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(StoreError::Corrupt(format!(
                            "the sequencer's runtime could not start: {e}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match crate::storage::connect_sized(&url, Some(1)).await {
                        Ok(store) => {
                            let _ = ready.send(Ok(()));
                            write_loop(queue, &url, store, Arc::new(signer)).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| {
                StoreError::Corrupt(format!("the sequencer thread could not start: {e}"))
            })?;
        started.await.map_err(|_| {
            StoreError::Corrupt("the sequencer thread stopped while starting".into())
        })??;
        Ok(Self { jobs })
    }

    /// Queues a validated envelope and waits until its batch is committed.
    pub async fn submit(&self, envelope: PendingEnvelope) -> Result<Outcome, SequencerError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { envelope, reply })
            .await
            .map_err(|_| SequencerError::Stopped)?;
        answer.await.map_err(|_| SequencerError::Stopped)?
    }
}

/// Takes batches off the queue and commits them. After a batch fails, the writer drops its
/// connection and opens a fresh one for the next: a failure can leave a connection in a state
/// the driver misjudges. SQLite rolls a transaction back by itself on some errors (a full disk
/// among them) and sqlx, whose own count of open transactions can then disagree, would begin the
/// next batch with a `SAVEPOINT` inside a transaction that is still open and "commit" it with a
/// `RELEASE` that commits nothing: receipts for data that a later rollback discards
/// (`bench db-faults --fault disk-full`).
async fn write_loop(
    mut queue: mpsc::Receiver<Job>,
    url: &str,
    store: Arc<dyn Store>,
    signer: Arc<Signer>,
) {
    let mut store = Some(store);
    while let Some(first) = queue.recv().await {
        let mut items = first.envelope.items.len();
        let mut jobs = vec![first];
        while jobs.len() < MAX_ENVELOPES && items < MAX_ITEMS {
            match queue.try_recv() {
                Ok(job) => {
                    items += job.envelope.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        if store.is_none() {
            match crate::storage::connect_sized(url, Some(1)).await {
                Ok(fresh) => store = Some(fresh),
                Err(e) => {
                    tracing::error!(error = %e, "the sequencer could not reconnect");
                    refuse(jobs, &e);
                    continue;
                }
            }
        }
        let Some(current) = store.as_deref() else {
            continue;
        };
        if !commit(jobs, current, &signer).await {
            store = None;
        }
    }
}

/// Answers every waiter of a batch that could not be stored.
fn refuse(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        let _ = job.reply.send(Err(failure(e)));
    }
}

fn failure(e: &StoreError) -> SequencerError {
    if e.is_unavailable() {
        SequencerError::Unavailable(e.to_string())
    } else if e.is_storage_full() {
        SequencerError::StorageFull(e.to_string())
    } else {
        SequencerError::Store(e.to_string())
    }
}

/// Commits one batch and answers every waiter; whether the batch was stored.
#[tracing::instrument(skip_all, fields(envelopes = jobs.len()))]
async fn commit(jobs: Vec<Job>, store: &dyn Store, signer: &Arc<Signer>) -> bool {
    let accepted_at = now_micros(Utc::now());
    let (envelopes, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.envelope, j.reply)).unzip();
    let batch = Arc::new(Batch::new(accepted_at, envelopes));
    let started = std::time::Instant::now();
    let result = store.append_batch(batch, sealer(signer)).await;
    metrics::histogram!("sequencer_batch_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("sequencer_batch_envelopes").record(replies.len() as f64);
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A waiter that went away (client disconnected) still had its data stored.
                let _ = reply.send(Ok(outcome));
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "a batch could not be stored");
            for reply in replies {
                let _ = reply.send(Err(failure(&e)));
            }
            false
        }
    }
}

/// The seal of the batches `signer` signs.
pub(crate) fn sealer(signer: &Arc<Signer>) -> Arc<Sealer> {
    let signer = Arc::clone(signer);
    Arc::new(move |batch: &Batch, appended: &Appended| signer.seal(batch, appended))
}
