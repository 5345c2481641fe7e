//! The `elicence` binary: parse the command line, hand over to the library.

use clap::Parser;

// glibc's malloc spent ~19 % of a verification batch's CPU in its own bookkeeping (consolidating
// and unlinking free chunks, measured with perf): parsed credentials are many small, short-lived
// allocations, which mimalloc's per-thread free lists serve without that work.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = elicence::cli::Cli::parse();
    elicence::cli::run(cli).await
}
