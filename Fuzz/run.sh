#!/usr/bin/env bash
# Builds one fuzz target with libFuzzer and runs it for SECONDS on its corpus.
# Usage: Fuzz/run.sh TARGET SECONDS   (targets: record segment-header segment-footer manifest index snapshot stream-rules)
# New inputs go to a scratch folder; crashes are written to Fuzz/Crashes/TARGET/
# (commit them: the unit tests replay every file there).
set -euo pipefail
target=${1:?usage: Fuzz/run.sh TARGET SECONDS}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
swift build -c release --product "fuzz-$target" \
  -Xswiftc -sanitize=fuzzer -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld >&2
binary=$(swift build -c release --show-bin-path)/fuzz-$target
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "Crashes/$target"
# Index files are larger than records: give the index target room.
max_len=4096
[ "$target" = index ] && max_len=32768
SWIFT_BACKTRACE=enable=no "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="Crashes/$target/" \
  -max_len="$max_len" "$scratch" "Corpus/$target" 2>&1 | tail -n 25
