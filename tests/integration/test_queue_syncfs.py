"""Invariant 1 with `queue_sync = syncfs` (queue/commit.c, "THE syncfs
MODE"): the same syscall-order test as test_queue_order.py, through the
real master under `strace -f`, for 3 messages one by one and 4 at once.
For every queue id acknowledged with 250, completed before smtpd's write
of `250 2.0.0 Ok: queued as ID` starts:
  - a syncfs of the queue's file system that started after the message's
    last write and completed before the first rename started (the data
    and envelope are durable before the commit point),
  - rename tmp/ID.env -> env/ID, then rename tmp/ID -> new/ID,
  - a syncfs started after the second rename completed (the renames are
    durable),
and no fdatasync or directory fsync of that message at all (the mode is
really in force).  The checker is shown to catch each missing syncfs with
the QUEUE_TEST_SKIP_DATASYNC and QUEUE_TEST_SKIP_DIRSYNC builds.  A bad
value of queue_sync is refused with FILE:LINE.  Root only."""
import os
import re

import pytest

from conftest import BIN, free_port
from master_harness import run_check, write_conf
from test_queue_order import commit_steps, events, mixed_libexec, skip_build, trace

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
SYNCFS = ["queue_sync = syncfs"]


def syncfs_violations(ids, lines):
    """What is missing before each 250 in syncfs mode (empty: ok)."""
    ev = events(lines)
    bad = []
    for qid in ids:
        steps = commit_steps(ev, qid, bad)
        if steps is None:
            continue
        reply, before, ren_env, ren_msg = steps
        # queued's last write to tmp/ID (the envelope is written after it)
        wrote = [e for e in ev if e[5] < reply[4] and e[1] == "write" and e[3] > 0 and
                 re.search(r"/tmp/%s(\.env)?>" % qid, e[2])]
        last_write = max((e[5] for e in wrote), default=-1)
        if last_write < 0:
            bad.append("%s: no write of its files seen" % qid)
        if not any(e[1] == "syncfs" and e[4] > last_write and e[5] < ren_env[4]
                   for e in before):
            bad.append("%s: no syncfs between its last write and the renames" % qid)
        if not any(e[1] == "syncfs" and e[4] > ren_msg[5] for e in before):
            bad.append("%s: no syncfs between the renames and the 250" % qid)
        if any(e[1] in ("fdatasync", "fsync") and ("/%s>" % qid in e[2] or
                                                  "/%s.env>" % qid in e[2])
               for e in before):
            bad.append("%s: per-file sync in syncfs mode" % qid)
    return bad


def test_every_commit_step_precedes_the_250_with_syncfs(tmp_path):
    ids, lines = trace(tmp_path, BIN, SYNCFS)
    assert len(set(ids)) == 7
    assert syncfs_violations(ids, lines) == [], "\n".join(
        l for l in lines if "rename" in l or "sync" in l or "queued as" in l)
    assert any("syncfs(" in l for l in lines)


def test_default_mode_makes_no_syncfs(tmp_path):
    ids, lines = trace(tmp_path, BIN)
    assert len(set(ids)) == 7
    assert not any(re.search(r"\bsyncfs\(", l) for l in lines)


@pytest.mark.parametrize("flag,complaint", [
    ("QUEUE_TEST_SKIP_DIRSYNC", "no syncfs between the renames and the 250"),
    ("QUEUE_TEST_SKIP_DATASYNC", "no syncfs between its last write and the renames"),
])
def test_the_check_catches_a_missing_syncfs(tmp_path, flag, complaint):
    libexec = mixed_libexec(tmp_path, skip_build(flag))
    ids, lines = trace(tmp_path, libexec, SYNCFS)
    bad = syncfs_violations(ids, lines)
    assert {b.split(":")[0] for b in bad} == set(ids), bad
    assert all(complaint in b for b in bad), bad


def test_bad_queue_sync_is_refused(tmp_path, setup_dir):
    write_conf(tmp_path, setup_dir, free_port(), extra=["queue_sync = fdatasync"])
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1 and re.search(r"postern\.conf:\d+: expected fsync or syncfs", err), err
