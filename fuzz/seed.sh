#!/usr/bin/env bash
# Builds the seed corpora fuzz/corpus/<target>/ from tests/vectors/ and src/qr/samples.json:
# signed licences (and their EL1: payloads and DEFLATE streams), envelopes, notes, keys and
# identifiers made from them by fuzz/seed/main.rs. Existing corpus files are kept (libFuzzer
# adds its finds there); `--clean` starts over.
#
#   fuzz/seed.sh [--clean]
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
if [[ "${1:-}" == "--clean" ]]; then
  rm -rf corpus
fi
# Built by cargo-fuzz with the targets' flags, so it shares their build of elicence.
# FUZZ_BUILD=--dev (as .ci/fuzz.sh passes it) uses the unoptimised build.
build=${FUZZ_BUILD:--O}
RUSTC_BOOTSTRAP=1 cargo fuzz build "$build" -s none seed >&2
target=$(rustc -vV | sed -n 's/^host: //p')
profile=release
[[ "$build" == "--dev" || "$build" == "-D" ]] && profile=debug
"target/$target/$profile/seed" "$root" corpus
for dir in corpus/*/; do
  echo "$(ls "$dir" | wc -l) seeds in $dir"
done
