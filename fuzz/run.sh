#!/bin/sh
# fuzz/run.sh SECONDS — run every built libFuzzer target ($FUZZ_BUILD, by
# default build/fuzz, made by `make fuzz-build`) for SECONDS each over a
# temporary copy of its seeds in fuzz/corpus/NAME (fuzz_NAME).  New corpus
# entries stay in the temporary directory: the committed seeds are never
# modified.  Crash inputs are kept under $FUZZ_BUILD/artifacts/NAME/.
# Exits non-zero if any target crashes, leaks, times out, or none was built.
set -u
secs=${1:?usage: fuzz/run.sh SECONDS}
top=$(cd "$(dirname "$0")/.." && pwd)
bdir=${FUZZ_BUILD:-$top/build/fuzz}
work=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
ran=0
failed=0

for bin in "$bdir"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=$work/$name
	art=$bdir/artifacts/$name
	mkdir -p "$corpus" "$art"
	if [ -d "$top/fuzz/corpus/$name" ]; then
		cp -R "$top/fuzz/corpus/$name/." "$corpus/"
	fi
	echo "== fuzz: $name for ${secs}s"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/" -print_final_stats=0 "$corpus" \
		>"$work/$name.log" 2>&1
	rc=$?
	ran=$((ran + 1))
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		tail -n 40 "$work/$name.log"
		echo "fuzz: $name FAILED (exit $rc); inputs in $art"
	else
		tail -n 1 "$work/$name.log"
	fi
done

echo "fuzz: $ran ran, $failed failed"
[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
