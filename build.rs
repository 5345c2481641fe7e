//! Embeds the seeded licence types (`schemas/licence-types/*.json`) into the binary, so an
//! installed binary seeds its directory wherever it runs. The files stay the source: this writes
//! `$OUT_DIR/seed_types.rs`, a list of `(file name, include_str!(file))` in name order.
//!
//! Also sets `cfg(postgres_tests)` when `TEST_DATABASE_URL` is set, so that without it the
//! PostgreSQL halves of the tests show as *ignored* in the test summary instead of passing
//! while doing nothing; and `cfg(interop_node)` when `node` runs and the interoperability
//! reader's packages are installed (`npm ci --prefix tests/interop`), likewise.
//! Likewise `cfg(oidc_tests)` once the test identity provider is installed
//! (`npm ci --prefix tests/oidc`).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo:rustc-cfg=postgres_tests");
    }
    interop_node();
    // The OIDC tests run the test identity provider (tests/oidc) once `npm ci` installed it.
    println!("cargo:rustc-check-cfg=cfg(oidc_tests)");
    let provider =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/node_modules/oidc-provider");
    println!("cargo:rerun-if-changed={}", provider.display());
    if provider.join("package.json").exists() {
        println!("cargo:rustc-cfg=oidc_tests");
    }
    embed_seed_types();
}

/// `cfg(interop_node)`: the independent status list reader of tests/interop can run.
fn interop_node() {
    println!("cargo:rustc-check-cfg=cfg(interop_node)");
    let installed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop/node_modules/@digitalbazaar/vc-bitstring-status-list");
    println!("cargo:rerun-if-changed={}", installed.display());
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if node && installed.is_dir() {
        println!("cargo:rustc-cfg=interop_node");
    }
}

fn embed_seed_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/licence-types");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("schemas/licence-types is part of the repository")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("a file name").to_string_lossy();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push(']');
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("seed_types.rs");
    std::fs::write(target, out).expect("writing the embedded seed list");
}
