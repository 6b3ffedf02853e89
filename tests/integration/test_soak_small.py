"""The soak of tests/soak/hostile_mix.py in small: 60 messages (30
ordinary as the baseline, then 60 with one in four hostile recipients:
address literals, a quoted local part, a U-label domain, a 252-octet
domain, ENVID/NOTIFY/ORCPT at their limits, <postmaster>), one SIGKILL of
postern-queued and one of a postern-deliver while the mail flows.  The
program fails on a worker's `event=fatal`, a worker exit or
`worker-restart` the soak did not cause, an ordinary message lost, or a
hostile recipient not delivered, bounced or deferred as its kind says.
No rate floor here (too few messages for a stable rate; `make soak` has
one).  Root only."""
import os
import re
import subprocess
import sys

import pytest

from conftest import BIN, TOP

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def test_small_soak_no_worker_fatal_no_lost_mail(tmp_path):
    env = dict(os.environ, POSTERN_BIN=BIN)
    p = subprocess.run([sys.executable, os.path.join(TOP, "tests", "soak", "hostile_mix.py"),
                        "--messages", "60", "--kills", "1", "--min-ratio", "0",
                        "--log", str(tmp_path / "master.log")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=150)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    # The kills were made while mail was flowing, and the table is there.
    assert re.search(r"kills \(SIGKILL\): postern-queued 1 .*postern-deliver 1;", out), out
    assert re.search(r"event=fatal: +none", out), out
    assert re.search(r"worker-restart: +deliver: 1\n", out), out
    assert re.search(r"\n  total +60 +60 ", out), out
