//! The threads that check envelopes: a runtime of their own, below the single writer's priority.
//!
//! Every accepted envelope waits for the one writer (the sequencer's thread, its database
//! connection's thread, the batch's signatures), which runs at the default priority. An
//! envelope's checks (its parse, its own proof, its items' signatures and the facts they are
//! checked against) are most of the CPU a submission costs; run on actix's workers beside the
//! writer, they take its share of the cores whenever many issuers submit at once, its batches
//! take several times their CPU time, and every submitter waits on it. Here they run on
//! threads [`CHECK_NICE`](crate::parallel::CHECK_NICE) nice steps below the process's own
//! priority (nice 10 for a service started at 0), which still get every core the
//! writer leaves idle; the writer has work only once they have fed it. Actix's workers keep the
//! default priority, so reads and verification are not ranked below anything.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinError;

/// The check runtime; dropping it stops its threads without waiting for them.
#[derive(Debug)]
pub struct CheckRuntime {
    handle: Handle,
    /// Taken out only when this is dropped.
    runtime: Option<Runtime>,
}

impl CheckRuntime {
    /// One thread per core, each at the check priority.
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(crate::parallel::cores())
            .thread_name("elicence-checks")
            .on_thread_start(crate::parallel::yield_to_writer)
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `work` on the check threads and waits for its answer (an error if it panicked).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, JoinError> {
        self.handle.spawn(work).await
    }
}

impl Drop for CheckRuntime {
    fn drop(&mut self) {
        // A runtime dropped inside another (a test's, or actix's at shutdown) must not block.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_below_the_writer_and_panics_come_back_as_errors() {
        let checks = CheckRuntime::start().unwrap();
        #[cfg(target_os = "linux")]
        {
            let nice = checks
                .run(async {
                    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
                })
                .await
                .unwrap();
            let process =
                rustix::process::getpriority_process(Some(rustix::process::getpid())).unwrap();
            assert_eq!(nice, (process + crate::parallel::CHECK_NICE).min(19));
        }
        assert_eq!(checks.run(async { 6 * 7 }).await.unwrap(), 42);
        assert!(checks
            .run(async { panic!("a check panicked") })
            .await
            .is_err());
        drop(checks);
    }
}
