//! Pure work spread over the machine's cores for a moment: the signatures of a batch on the
//! single writer's path ([`crate::log::receipt::Signer::seal`]) and the signature checks of a
//! large envelope ([`crate::submissions`]). Both run on a thread that would otherwise do all of
//! it alone while the other cores may wait (for the writer, or for a chain's next envelope):
//! a thread per other core (of two pools kept for the process, one at each priority) takes a
//! contiguous share, and the answers come back in order.

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
    /// them, the others at the process's priority.
    Cores,
    /// As [`Cores`](Self::Cores), but each chunk on a thread that runs [`CHECK_NICE`] steps
    /// below the process's priority ([`yield_to_writer`]), while this one waits (or takes the
    /// first chunk, when it already runs that low): the signature checks of an
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

/// This thread's nice value and the process's own, where both can be read (Linux).
fn priorities() -> Option<(i32, i32)> {
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
        Some((now, writer))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// This thread's nice value and the one checks run at, where both can be read (Linux).
fn check_priority() -> Option<(i32, i32)> {
    priorities().map(|(now, writer)| (now, (writer + CHECK_NICE).min(LOWEST_NICE)))
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

/// The threads that take the shares of [`map_with`] other than the caller's: kept for the life
/// of the process rather than started for each call. A thread started per call cost its start,
/// its stack's first pages and a fresh allocator heap, abandoned when it ended, several times an
/// envelope (its forms, its items, the batch's seal).
struct Pools {
    /// At the process's priority ([`Spread::Cores`]).
    cores: rayon::ThreadPool,
    /// At the check priority ([`Spread::CoresBelowWriter`]).
    below_writer: rayon::ThreadPool,
}

static POOLS: std::sync::OnceLock<Option<Pools>> = std::sync::OnceLock::new();

/// Starts the threads [`map_with`] spreads work over, if they are not running yet. A thread
/// starts at the priority of the thread that starts it, and none can raise its own again: call
/// this from a thread at the process's priority (the service does, as it starts). Until then,
/// [`map_with`] starts them itself only when asked from such a thread.
pub fn start() {
    pools();
}

/// The pools, started on first use from a thread at the process's priority; `None` before that,
/// or if the system would not start their threads: then every share runs on the calling thread.
fn pools() -> Option<&'static Pools> {
    if let Some(pools) = POOLS.get() {
        return pools.as_ref();
    }
    if priorities().is_some_and(|(now, process)| now != process) {
        return None;
    }
    POOLS
        .get_or_init(|| {
            // As many threads as the shares one call hands out besides the caller's own (every
            // caller takes a share: the seal's thread, and the check threads). A thread more
            // would only wait: rayon's idle threads yield the core 32 times before they sleep,
            // and with two threads a pool on two cores, that was 40,000 `sched_yield` calls
            // for 40,000 licences, against 19,000 with one (BENCHMARKS.md).
            let threads = cores().min(MAX_THREADS).saturating_sub(1).max(1);
            let pool = |name: &'static str, below_writer: bool| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(move |i| format!("{name}-{i}"))
                    .start_handler(move |_| {
                        if below_writer {
                            yield_to_writer();
                        }
                    })
                    .build()
            };
            match (pool("elicence-cores", false), pool("elicence-below", true)) {
                (Ok(cores), Ok(below_writer)) => Some(Pools {
                    cores,
                    below_writer,
                }),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "no threads to spread work over; it runs where it is asked");
                    None
                }
            }
        })
        .as_ref()
}

/// `items` mapped by `f` in order, each share with its own state from `init`, where `spread`
/// says. A panic in another share is raised again on this thread once every share has ended.
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
    map_chunks(items, spread, |chunk| {
        let mut state = init();
        chunk.iter().map(|item| f(&mut state, item)).collect()
    })
}

/// The answers of `run` for contiguous shares of `items`, concatenated in order, where `spread`
/// says: for work that is cheaper done a share at a time than an item at a time. `run` gives
/// one answer per item of its share. A panic in another share is raised again on this thread
/// once every share has ended.
pub fn map_chunks<T, R>(items: &[T], spread: Spread, run: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let pool = match (spread, pools()) {
        (Spread::Cores, Some(pools)) => &pools.cores,
        (Spread::CoresBelowWriter, Some(pools)) => &pools.below_writer,
        _ => return run(items),
    };
    if items.len() < 2 {
        return run(items);
    }
    let run = &run;
    let threads = cores().min(MAX_THREADS);
    let mut chunks = items.chunks(items.len().div_ceil(threads));
    // With `Cores`, this thread takes the first share itself; with `CoresBelowWriter` too when
    // it already runs below the writer (a check thread). Otherwise it waits for them all.
    let here = match spread {
        Spread::Cores => chunks.next().unwrap_or_default(),
        Spread::CoresBelowWriter if already_below_writer() => chunks.next().unwrap_or_default(),
        _ => &[],
    };
    let mut others: Vec<Option<Vec<R>>> = chunks.clone().map(|_| None).collect();
    let mut all = pool.in_place_scope(|scope| {
        for (chunk, slot) in chunks.zip(others.iter_mut()) {
            scope.spawn(move |_| *slot = Some(run(chunk)));
        }
        run(here)
    });
    all.reserve(items.len().saturating_sub(all.len()));
    // Invariant: the scope returns only once every share has filled its slot (or re-raises
    // the panic of one that did not).
    all.extend(others.into_iter().flatten().flatten());
    all
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
    fn shares_are_contiguous_and_their_answers_concatenated_in_order() {
        for n in [0usize, 1, 2, 5, 100] {
            let items: Vec<usize> = (0..n).collect();
            for spread in [Spread::Here, Spread::Cores, Spread::CoresBelowWriter] {
                // Each answer: the item, and the first item of the share it was in.
                let answers = map_chunks(&items, spread, |share| {
                    share.iter().map(|&i| (i, share[0])).collect()
                });
                assert_eq!(
                    answers.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
                    items,
                    "{n} items, {spread:?}"
                );
                let firsts: std::collections::BTreeSet<usize> =
                    answers.iter().map(|&(_, first)| first).collect();
                assert!(firsts.len() <= cores().clamp(1, MAX_THREADS), "{firsts:?}");
                // Contiguous: an item's share starts at or before it, after the previous share.
                assert!(answers
                    .windows(2)
                    .all(|w| w[0].1 <= w[1].1 && w[1].1 <= w[1].0));
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
        // `Cores` runs every share at the process's priority, the caller's here.
        assert!(map(&items, Spread::Cores, |()| nice())
            .iter()
            .all(|&n| n == before));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_check_thread_takes_a_share_itself() {
        start();
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
