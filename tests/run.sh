#!/bin/sh
# Runs every test: the cmocka unit programs in $POSTERN_BUILD/tests, then the
# integration tests (pytest under Debian's /usr/bin/python3, which has
# python3-pytest).  Prints one closing line "check: N passed, N failed" and
# exits non-zero if anything failed or nothing ran.
set -u
: "${POSTERN_BIN:?set POSTERN_BIN to the programs' folder}"
: "${POSTERN_BUILD:?set POSTERN_BUILD to the build folder}"
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN_TOP=$top
export POSTERN_BIN POSTERN_BUILD POSTERN_TOP
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0

for t in "$POSTERN_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== unit: $(basename "$t")"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# A crash or an exit code without a FAILED line still counts.
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
done

echo "== integration (pytest)"
/usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE ${PYTEST_ARGS:-} \
	"$top/tests/integration" 2>&1 | tee "$log"
summary=$(grep -E '[0-9]+ (passed|failed|error)' "$log" | tail -n 1)
p=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed.*/\1/p; s/^\([0-9][0-9]*\) passed.*/\1/p' | head -n 1)
f=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) failed.*/\1/p; s/^\([0-9][0-9]*\) failed.*/\1/p' | head -n 1)
e=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) error.*/\1/p; s/^\([0-9][0-9]*\) error.*/\1/p' | head -n 1)
[ -n "$summary" ] || failed=$((failed + 1))
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0} + ${e:-0}))

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
