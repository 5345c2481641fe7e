//! Pure work spread over the machine's cores for a moment: the signatures of a batch on the
//! single writer's path ([`crate::log::receipt::Signer::seal`]) and the signature checks of a
//! large envelope ([`crate::submissions`]). Both run on a thread that would otherwise do all of
//! it alone while the other cores may wait (for the writer, or for a chain's next envelope):
//! a scoped thread per other core takes a contiguous share, and the answers come back in order.

use std::num::NonZeroUsize;

/// How many nice steps below the process's own priority the threads that check envelopes run
/// (`submissions::checks`, [`Spread::CoresBelowWriter`]); Linux's lowest is 19.
pub const CHECK_NICE: i32 = 10;

/// Linux's lowest scheduling priority (highest nice value).
const LOWEST_NICE: i32 = 19;

/// Where [`map_with`] runs its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// All on this thread.
    Here,
    /// In contiguous chunks on up to as many threads as the machine has cores, this one among
    /// them.
    Cores,
    /// As [`Cores`](Self::Cores), but each chunk on a thread of its own that first lowers its
    /// scheduling priority by [`CHECK_NICE`] ([`yield_to_writer`]), while this one waits (or
    /// takes the first chunk, when it already runs that low): the signature checks of an
    /// envelope's items, which must not take the cores from the single writer, whichever thread
    /// asks (`submissions::checks` explains why). Nice is a per-thread attribute on Linux;
    /// elsewhere, or if the call fails, nothing changes.
    CoresBelowWriter,
}

impl Spread {
    /// This spread when there is `enough` work to share, else [`Here`](Self::Here).
    pub fn when(self, enough: bool) -> Self {
        if enough {
            self
        } else {
            Self::Here
        }
    }
}

/// Lowers this thread's scheduling priority by [`CHECK_NICE`] steps (to at most
/// [`LOWEST_NICE`]) below the one it had, so that a service started at nice 5 checks at 15 and
/// its writer stays at 5. Linux only: there nice is a per-thread attribute, raising it needs no
/// privilege, and it cannot be lowered again without one. A thread already lowered (one started
/// by a check thread, which inherits its nice) is left as it is.
pub(crate) fn yield_to_writer() {
    #[cfg(target_os = "linux")]
    {
        let this = rustix::thread::gettid();
        let Some((now, wanted)) = check_priority() else {
            return;
        };
        if now >= wanted {
            return;
        }
        if let Err(e) = rustix::process::setpriority_process(Some(this), wanted) {
            tracing::debug!(error = %e, "a check thread's priority could not be lowered");
        }
    }
}

/// This thread's nice value and the one checks run at, where both can be read (Linux).
fn check_priority() -> Option<(i32, i32)> {
    #[cfg(target_os = "linux")]
    {
        use std::sync::OnceLock;
        // The process's own priority (its main thread's, which nothing here changes), read
        // once: the writer's.
        static WRITER_NICE: OnceLock<i32> = OnceLock::new();
        let writer = *WRITER_NICE.get_or_init(|| {
            rustix::process::getpriority_process(Some(rustix::process::getpid())).unwrap_or(0)
        });
        let now = rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()?;
        Some((now, (writer + CHECK_NICE).min(LOWEST_NICE)))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Whether this thread already runs at the check priority or below (a thread of the check
/// runtime): it may then take a share of [`Spread::CoresBelowWriter`] work itself.
fn already_below_writer() -> bool {
    check_priority().is_some_and(|(now, wanted)| now >= wanted)
}

/// Most threads one call uses, the caller's included.
const MAX_THREADS: usize = 4;

/// The cores this process may use, asked once: the standard library reads the cgroup's CPU
/// quota files on every call (four system calls), and the batch's seal and every envelope's
/// checks ask.
pub fn cores() -> usize {
    use std::sync::OnceLock;
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// `items` mapped by `f` in order, each thread with its own state from `init`, where `spread`
/// says. A panic on another thread is raised again on this one.
pub fn map_with<T, S, R>(
    items: &[T],
    spread: Spread,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = match spread {
        Spread::Here => 1,
        Spread::Cores | Spread::CoresBelowWriter => cores().min(MAX_THREADS),
    };
    let run = |chunk: &[T]| {
        let mut state = init();
        chunk
            .iter()
            .map(|item| f(&mut state, item))
            .collect::<Vec<R>>()
    };
    if spread == Spread::Here || items.len() < 2 {
        return run(items);
    }
    let run = &run;
    let mut chunks = items.chunks(items.len().div_ceil(threads));
    // With `Cores`, this thread takes the first chunk itself; with `CoresBelowWriter` too when
    // it already runs below the writer (a check thread), which saves a thread each call.
    let here = match spread {
        Spread::Cores => chunks.next().unwrap_or_default(),
        Spread::CoresBelowWriter if already_below_writer() => chunks.next().unwrap_or_default(),
        _ => &[],
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks
            .map(|chunk| {
                scope.spawn(move || {
                    if spread == Spread::CoresBelowWriter {
                        yield_to_writer();
                    }
                    run(chunk)
                })
            })
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
pub fn map<T: Sync, R: Send>(items: &[T], spread: Spread, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_with(items, spread, || (), |(), item| f(item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_in_order_either_way() {
        for n in [0, 1, 2, 3, 7, 64, 1001] {
            let items: Vec<u64> = (0..n).collect();
            let expected: Vec<u64> = items.iter().map(|i| i * i).collect();
            for spread in [Spread::Here, Spread::Cores, Spread::CoresBelowWriter] {
                assert_eq!(
                    map(&items, spread, |i| i * i),
                    expected,
                    "{n} items, {spread:?}"
                );
            }
        }
    }

    #[test]
    fn each_thread_keeps_its_own_state() {
        // The state counts the items its thread has seen: the counts restart once per chunk.
        let items = vec![(); 100];
        let counts = map_with(
            &items,
            Spread::Cores,
            || 0usize,
            |seen, ()| {
                *seen += 1;
                *seen
            },
        );
        assert_eq!(counts.len(), 100);
        assert_eq!(counts[0], 1);
        assert_eq!(
            counts.iter().filter(|&&c| c == 1).count(),
            cores().clamp(1, MAX_THREADS)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn checks_run_below_the_writer_and_the_caller_keeps_its_priority() {
        let nice = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let before = nice();
        let process =
            rustix::process::getpriority_process(Some(rustix::process::getpid())).unwrap();
        let items = vec![(); 64];
        let seen = map(&items, Spread::CoresBelowWriter, |()| nice());
        assert!(
            seen.iter()
                .all(|&n| n == (process + CHECK_NICE).min(LOWEST_NICE)),
            "{seen:?}"
        );
        assert_eq!(nice(), before);
        // `Cores` leaves every thread at the caller's priority.
        assert!(map(&items, Spread::Cores, |()| nice())
            .iter()
            .all(|&n| n == before));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_check_thread_takes_a_share_itself() {
        std::thread::spawn(|| {
            let tid = || rustix::thread::gettid();
            yield_to_writer();
            let me = tid();
            let items = vec![(); 64];
            let seen = map(&items, Spread::CoresBelowWriter, |()| tid());
            assert_eq!(
                seen[0], me,
                "the first chunk runs on the calling check thread"
            );
            // Without `CoresBelowWriter`'s own threads when there is one core.
            assert_eq!(
                seen.iter().filter(|&&t| t != me).count() > 0,
                cores() > 1,
                "{seen:?}"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "item 90")]
    fn a_panic_elsewhere_is_raised_here() {
        let items: Vec<u32> = (0..100).collect();
        map(&items, Spread::Cores, |&i| {
            assert!(i != 90, "item 90");
            i
        });
    }
}
