//! The `elicence` binary: parse the command line, hand over to the library.

use clap::Parser;

// glibc's malloc spent ~19 % of a verification batch's CPU in its own bookkeeping (consolidating
// and unlinking free chunks, measured with perf): parsed credentials are many small, short-lived
// allocations, which mimalloc's per-thread free lists serve without that work. Built without
// transparent huge pages (`no_thp`): with them, RSS counted whole 2 MiB pages that were mostly
// free and swung by 20 MB within minutes under steady load (RELIABILITY.md, "The quiet hour").
// On a kernel whose THP policy is `always` (not the usual `madvise`), `MIMALLOC_ALLOW_THP=0`
// turns them off for the process.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = elicence::cli::Cli::parse();
    elicence::cli::run(cli).await
}
