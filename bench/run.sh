#!/bin/sh
# bench/run.sh — `make bench`: build nothing, run bench/run.py (the private
# instance, the scenarios that need no delivery, the machine
# limits, the table).  Needs root.  Never part of `make check`.
#   POSTERN_BIN=DIR BENCH_BUILD=DIR [ROUNDS=5] [MEM_ROUNDS=3]
#   [SCENARIOS=S1,S2,S3,M] [BENCH_DIR=/var/tmp] [POSTFIX=0] bench/run.sh
# With Debian's postfix installed (`make bench-deps`) a private Postfix runs
# beside postern (bench/postfix.py), alternating, for the ratio column.
set -eu
here=$(dirname "$0")
exec /usr/bin/python3 "$here/run.py" "$@"
