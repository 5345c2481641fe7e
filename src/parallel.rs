//! Pure work spread over the machine's cores for a moment: the signatures of a batch on the
//! single writer's path ([`crate::log::receipt::Signer::seal`]) and the signature checks of a
//! large envelope ([`crate::submissions`]). Both run on a thread that would otherwise do all of
//! it alone while the other cores may wait (for the writer, or for a chain's next envelope):
//! a scoped thread per other core takes a contiguous share, and the answers come back in order.

use std::num::NonZeroUsize;

/// The nice value of the threads that answer requests ([`yield_to_writer`]).
pub const REQUEST_NICE: i32 = 10;

/// Lowers this thread's scheduling priority to [`REQUEST_NICE`], for the threads that answer
/// requests (actix's workers) and the threads they start ([`map_with`]'s, which inherit it).
///
/// Every accepted envelope waits for the single writer (the sequencer's thread, its database
/// connection's thread and the batch's signatures), which keeps the default priority. On a
/// machine whose cores are all busy checking envelopes, the writer otherwise gets only its
/// share of them, so its batches take several times their CPU time and every submitter waits
/// on it (`bench submit`, BENCHMARKS.md). Lower-priority threads still get every core the
/// writer leaves idle, and the writer has work only when they have fed it. Linux only (nice
/// is a per-thread attribute there); elsewhere, or if the call fails, nothing changes.
pub fn yield_to_writer() {
    #[cfg(target_os = "linux")]
    {
        let this = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(this), REQUEST_NICE) {
            tracing::debug!(error = %e, "this worker's priority could not be lowered");
        }
    }
}

/// Most threads one call uses, the caller's included.
const MAX_THREADS: usize = 4;

/// `items` mapped by `f` in order, each thread with its own state from `init`: when `parallel`,
/// in contiguous chunks on up to as many threads as the machine has cores (this one among
/// them), else all on this thread. A panic on another thread is raised again on this one.
pub fn map_with<T, S, R>(
    items: &[T],
    parallel: bool,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = if parallel {
        std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .min(MAX_THREADS)
    } else {
        1
    };
    let run = |chunk: &[T]| {
        let mut state = init();
        chunk
            .iter()
            .map(|item| f(&mut state, item))
            .collect::<Vec<R>>()
    };
    if threads < 2 || items.len() < 2 {
        return run(items);
    }
    let run = &run;
    let mut chunks = items.chunks(items.len().div_ceil(threads));
    let here = chunks.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || run(chunk)))
            .collect();
        let mut all = run(here);
        all.reserve(items.len() - all.len());
        for other in others {
            match other.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

/// [`map_with`] without per-thread state.
pub fn map<T: Sync, R: Send>(items: &[T], parallel: bool, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_with(items, parallel, || (), |(), item| f(item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_in_order_either_way() {
        for n in [0, 1, 2, 3, 7, 64, 1001] {
            let items: Vec<u64> = (0..n).collect();
            let expected: Vec<u64> = items.iter().map(|i| i * i).collect();
            assert_eq!(map(&items, true, |i| i * i), expected, "{n} items");
            assert_eq!(map(&items, false, |i| i * i), expected, "{n} items");
        }
    }

    #[test]
    fn each_thread_keeps_its_own_state() {
        // The state counts the items its thread has seen: the counts restart once per chunk.
        let items = vec![(); 100];
        let counts = map_with(
            &items,
            true,
            || 0usize,
            |seen, ()| {
                *seen += 1;
                *seen
            },
        );
        assert_eq!(counts.len(), 100);
        assert_eq!(counts[0], 1);
        assert_eq!(counts.iter().filter(|&&c| c == 1).count(), {
            let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
            threads.clamp(1, MAX_THREADS)
        });
    }

    #[test]
    #[should_panic(expected = "item 90")]
    fn a_panic_elsewhere_is_raised_here() {
        let items: Vec<u32> = (0..100).collect();
        map(&items, true, |&i| {
            assert!(i != 90, "item 90");
            i
        });
    }
}
