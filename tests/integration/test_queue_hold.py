"""`postern-queue hold ID` / `release ID` (queue/control.c do_hold, the
index side in queue/sched.c) with queued alone (queue_harness), this test
playing the master and the delivery workers as in test_queue_sched.py:

- a deferred message in cur/ (no job out) is held: it moves to hold/,
  its state file stays, the scheduler drops it from its index (flush
  finds nothing, no job comes); `release` puts it into new/ and the index
  again, and its next attempt resumes from the state (only the deferred
  recipient is sent);
- while a job of the message is out, hold answers "busy: being
  delivered, try again" (exit 1) and nothing moves; once the round ends
  the message is delivered as usual;
- hold from new/ still works, a second hold says "already held".
Root only (chroot, uid drop)."""
import os
import re

import pytest

import queue_harness as h
from queue_harness import files, gone, qdir, submit, wait_for  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def test_hold_deferred_message_in_cur_and_release(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "600"]) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@example.net", "carol@example.net"])
        j = w.job()
        w.sock.send(h.frame("rcpt", j["id"], 0, "ok", 250, "2.0.0", "fine"))
        w.sock.send(h.frame("rcpt", j["id"], 1, "temp", 451, "4.7.1", "greylisted"))
        w.sock.send(h.frame("done", j["id"]))
        wait_for(lambda: files(qdir, "state") == [qid], what="state file")
        qd.wait_log(r"event=deferred id=%s rcpt=carol@example.net" % qid)
        assert files(qdir, "cur") == [qid]

        rc, out, err = h.admin(qdir, "hold", qid)
        assert rc == 0, (out, err)
        assert files(qdir, "hold") == [qid] and files(qdir, "cur") == []
        assert files(qdir, "state") == [qid] and files(qdir, "env") == [qid]
        qd.wait_log(r"event=admin action=hold id=%s" % qid)
        # Gone from the index: nothing to flush, no job comes.
        rc, out, err = h.admin(qdir, "flush", qid)
        assert rc == 1 and "not waiting" in err, (out, err)
        rc, out, err = h.admin(qdir, "flush")
        assert rc == 0 and "flushed 0" in out, (out, err)
        assert w.no_job(1.5)
        rc, out, err = h.admin(qdir, "list")
        assert re.search(r"%s hold .*attempts=1 .*deferred=1" % qid, out), out
        rc, out, err = h.admin(qdir, "hold", qid)
        assert rc == 1 and "already held" in err, (out, err)

        rc, out, err = h.admin(qdir, "release", qid)
        assert rc == 0, (out, err)
        # into new/ (taken into cur/ at once, and put back to wait)
        assert files(qdir, "hold") == [] and files(qdir, "new") + files(qdir, "cur") == [qid]
        # Back in the index, still waiting for its retry (-R 600): flush it.
        assert w.no_job(1.5)
        rc, out, err = h.admin(qdir, "flush", qid)
        assert rc == 0 and "flushed 1" in out, (out, err)
        j2 = w.job()
        assert j2["rcpts"] == [b"carol@example.net"]     # resumed from the state
        w.answer(j2, "ok")
        wait_for(lambda: gone(qdir, qid) and files(qdir, "hold") == [], what="removal")


def test_hold_while_a_job_is_out_is_busy(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@example.net"])
        j = w.job()
        rc, out, err = h.admin(qdir, "hold", qid)
        assert rc == 1 and "busy: being delivered, try again" in err, (out, err)
        assert files(qdir, "cur") == [qid] and files(qdir, "hold") == []
        w.answer(j, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")
        assert files(qdir, "hold") == []
        rc, out, err = h.admin(qdir, "hold", qid)
        assert rc == 1 and "not there" in err, (out, err)


def test_hold_from_new_and_release(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1"]) as qd:     # no routes table: stays in new/
        qid = submit(qd, ["bob@example.net"])
        rc, out, err = h.admin(qdir, "hold", qid)
        assert rc == 0, (out, err)
        assert files(qdir, "hold") == [qid] and files(qdir, "new") == []
        rc, out, err = h.admin(qdir, "release", qid)
        assert rc == 0, (out, err)
        assert files(qdir, "new") == [qid] and files(qdir, "hold") == []
        # Held, released: one index entry, not two (flush counts it once).
        rc, out, err = h.admin(qdir, "flush")
        assert rc == 0 and "flushed 1" in out, (out, err)
