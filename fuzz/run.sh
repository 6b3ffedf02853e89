#!/bin/sh
# fuzz/run.sh SECONDS — run every built libFuzzer target ($FUZZ_BUILD, by
# default build/fuzz, made by `make fuzz-build`) for SECONDS each over a
# temporary copy of its seeds in fuzz/corpus/NAME (fuzz_NAME).  New corpus
# entries stay in the temporary directory unless FUZZ_MERGE=1 (`make
# fuzz-long`): then the entries that raise coverage are merged into
# fuzz/corpus/NAME (libFuzzer -merge=1), to be reviewed and committed.
# FUZZ_ONLY="a b" runs only those targets.  Crash inputs are kept under
# $FUZZ_BUILD/artifacts/NAME/.
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
	if [ -n "${FUZZ_ONLY:-}" ]; then
		case " $FUZZ_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
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
		if [ "${FUZZ_MERGE:-0}" = 1 ]; then
			mkdir -p "$top/fuzz/corpus/$name"
			before=$(ls "$top/fuzz/corpus/$name" | wc -l)
			"$bin" -merge=1 "$top/fuzz/corpus/$name" "$corpus" >"$work/$name.merge" 2>&1 ||
				{ tail -n 20 "$work/$name.merge"; failed=$((failed + 1)); }
			after=$(ls "$top/fuzz/corpus/$name" | wc -l)
			echo "fuzz: $name corpus $before -> $after entries"
		fi
	fi
done

echo "fuzz: $ran ran, $failed failed"
[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
