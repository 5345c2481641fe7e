#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for a short bounded time on its seed
# corpus, failing on any crash, timeout, out-of-memory or leak. See RELIABILITY.md, "Fuzzing".
#
# The only toolchain is stable: cargo-fuzz's nightly flags (-Zsanitizer, sancov) are allowed
# by RUSTC_BOOTSTRAP=1. Sanitizer none: the crate forbids unsafe code, and the targets run
# several times faster without ASan; libFuzzer's own -rss_limit_mb / -malloc_limit_mb still
# catch memory growth, and debug assertions and overflow checks are on.
#
#   .ci/fuzz.sh [seconds per target, default 12]
#   FUZZ_BUILD=--dev .ci/fuzz.sh 10     # CI: unoptimised build (RELIABILITY.md, "Fuzzing")
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-12}
# -O (the default): fuzz/Cargo.toml's release profile, opt-level 1, for long runs. --dev builds
# without optimisation in about half the CPU time, enough for a bounded pass.
build=${FUZZ_BUILD:--O}
export RUSTC_BOOTSTRAP=1 FUZZ_BUILD="$build"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version '^0.13'
fi

targets=(strict_json jcs envelope licence proof qr checkpoint keys identifiers packed)
cd fuzz
cargo fuzz build "$build" -s none
./seed.sh >/dev/null

for target in "${targets[@]}"; do
  # The seeds are read from corpus/<target>; new finds go to a scratch directory, so a CI run
  # leaves the tree as it was.
  scratch=$(mktemp -d)
  echo "== $target (${seconds}s)"
  if ! nice -n 10 cargo fuzz run "$build" -s none "$target" "$scratch" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=5 -rss_limit_mb=512 -malloc_limit_mb=256 \
      -max_len=65536 -print_final_stats=1 2>"$scratch.log"; then
    tail -n 60 "$scratch.log"
    echo "fuzz target $target failed: reproducer in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$scratch.log" | tr '\n' ' '
  echo
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzzing: all ${#targets[@]} targets clean"
