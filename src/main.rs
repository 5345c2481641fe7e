//! The `elicence` binary: parse the command line, hand over to the library.

use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = elicence::cli::Cli::parse();
    elicence::cli::run(cli).await
}
