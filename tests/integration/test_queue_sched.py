"""The scheduler in postern-queued (queue/sched.h; INSTALL.md "Delivery
scheduling"), with queued alone (queue_harness): this test plays the master
(it hands queued `worker` frames with one end of a socketpair) and the delivery
workers (it reads `job` frames with the message descriptor and answers
`rcpt`/`done`, grammar lib/jobchan.h).  Root only (chroot, uid drop)."""
import os
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

import queue_harness as h

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

from queue_harness import (Worker, files, gone, qdir, routes,  # noqa: F401 (fixture)
                           submit, wait_for)

LOGIN, MSG = h.PLAY_LOGIN, h.PLAY_MSG


def test_no_routes_table_nothing_leaves_new(qdir):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        w = Worker(qd)
        qid = submit(qd, ["bob@example.net"])
        assert w.no_job(2.5)
        assert files(qdir, "new") == [qid] and files(qdir, "cur") == []


def test_pickup_grouping_ok_and_removal_order(qdir, tmp_path):
    trace = str(tmp_path / "trace")
    wrapper = tmp_path / "queued-strace"
    wrapper.write_text("#!/bin/sh\nexec strace -f -o %s -e trace=unlinkat,renameat,fsync %s \"$@\"\n"
                       % (trace, h.prog("postern-queued")))
    wrapper.chmod(0o755)
    with h.Queued(qdir, ["-O", "out.test.example"], binary=str(wrapper)) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@example.net", "carol@Example.NET", "dave@other.org"],
                        [("example.net", "mx"), ("*", "mx")])
        jobs = [w.job()]
        # new/ -> cur/ while the job is out
        assert files(qdir, "new") == [] and files(qdir, "cur") == [qid]
        w.answer(jobs[0], "ok")
        jobs.append(w.job())
        w.answer(jobs[1], "ok")
        by_domain = {j["domain"]: j for j in jobs}
        assert sorted(by_domain) == [b"example.net", b"other.org"]
        assert by_domain[b"example.net"]["rcpts"] == [b"bob@example.net", b"carol@Example.NET"]
        assert by_domain[b"other.org"]["rcpts"] == [b"dave@other.org"]
        for j in jobs:
            assert j["route"] == b"mx" and j["helo"] == b"out.test.example"
            assert j["sender"] == LOGIN.encode() and j["data"] == MSG
            assert j["header"].startswith(b"Received: ")
        wait_for(lambda: gone(qdir, qid), what="removal")
        for r in ("bob@example.net", "carol@Example.NET", "dave@other.org"):
            qd.wait_log(r"event=delivered id=%s rcpt=%s code=250 status=2.0.0 delay=\d+ text=ok"
                        % (qid, re.escape(r)))
    # The message first (the commit point of "done"), then env/ and state/.
    lines = open(trace).read().splitlines()
    unl = [l for l in lines if "unlinkat(" in l and qid in l]
    assert len(unl) >= 2, lines
    assert "unlinkat(" in unl[0] and "= 0" in unl[0]
    idx_cur = next(i for i, l in enumerate(lines) if "unlinkat(" in l and qid in l)
    idx_fsync = next(i for i, l in enumerate(lines) if i > idx_cur and "fsync(" in l)
    idx_env = next(i for i, l in enumerate(lines) if i > idx_cur and "unlinkat(" in l and qid in l)
    assert idx_cur < idx_fsync < idx_env, lines


def child_of(ppid, timeout=10):
    """The pid of ppid's first child (queued under its strace)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        return int(d)
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.05)
    raise AssertionError("no child of %d" % ppid)


def test_removals_of_one_round_share_the_syncs(qdir, tmp_path):
    """Three messages finished in the same poll round (queued stopped
    while the three workers answer) are removed together: every cur/<id>
    unlinked, ONE fsync of cur/, then every env/<id>, one fsync of env/
    (DESIGN §5's order per message, the syncs shared; bench scenario D)."""
    trace = str(tmp_path / "trace")
    wrapper = tmp_path / "queued-strace"
    wrapper.write_text("#!/bin/sh\nexec strace -f -y -o %s -e trace=unlinkat,fsync %s \"$@\"\n"
                       % (trace, h.prog("postern-queued")))
    wrapper.chmod(0o755)
    with h.Queued(qdir, ["-W", "3", "-P", "3"], binary=str(wrapper)) as qd:
        ws = [Worker(qd) for _ in range(3)]
        routes(qd, tmp_path, [("*", "mx")])
        ids = [submit(qd, ["r%d@same.test" % i]) for i in range(3)]
        got = recv_jobs(ws, 3)
        assert len(got) == 3 and len({id(w) for w, _ in got}) == 3, got
        queued = child_of(qd.proc.pid)
        os.kill(queued, signal.SIGSTOP)
        try:
            for w, f in got:
                w.sock.send(h.frame("rcpt", int(f[1]), 0, "ok", 250, "2.0.0", "ok"))
                w.sock.send(h.frame("done", int(f[1])))
        finally:
            os.kill(queued, signal.SIGCONT)
        wait_for(lambda: all(gone(qdir, i) for i in ids), what="removal")
    lines = [l for l in open(trace).read().splitlines() if "unlinkat(" in l or "fsync(" in l]
    first = min(i for i, l in enumerate(lines) if "/cur>" in l and "unlinkat(" in l)
    cur_unl = [i for i, l in enumerate(lines) if "unlinkat(" in l and "/cur>" in l and "= 0" in l]
    env_unl = [i for i, l in enumerate(lines) if "unlinkat(" in l and "/env>" in l and "= 0" in l]
    assert len(cur_unl) == 3 and len(env_unl) == 3, lines
    cur_sync = [i for i, l in enumerate(lines) if i > first and re.search(r"fsync\(\d+<[^>]*/cur>", l)]
    env_sync = [i for i, l in enumerate(lines) if i > first and re.search(r"fsync\(\d+<[^>]*/env>", l)]
    assert len(cur_sync) == 1 and len(env_sync) == 1, lines
    assert max(cur_unl) < cur_sync[0] < min(env_unl) and max(env_unl) < env_sync[0], lines
    for i in ids:
        qd_line = [l for l in lines if i in l]
        assert "/cur>" in qd_line[0], qd_line     # per message: the message first


def test_temp_writes_state_and_retries_after_backoff(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "2", "-X", "2"]) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@example.net", "carol@example.com"])
        jobs = [w.job(), w.job() if False else None]
        j1 = jobs[0]
        # one recipient ok, the other deferred: a partial attempt
        w.sock.send(h.frame("rcpt", j1["id"], 0, "ok", 250, "2.0.0", "fine"))
        w.sock.send(h.frame("done", j1["id"]))
        j2 = w.job()
        w.answer(j2, "temp", 451, "4.7.1", "greylisted")
        wait_for(lambda: files(qdir, "state") == [qid], what="state file")
        qd.wait_log(r"event=deferred id=%s rcpt=carol@example.com code=451 status=4.7.1" % qid)
        rc, out, err = h.admin(qdir, "list")
        assert rc == 0 and re.search(r"%s active .* attempts=1 .*deferred=1" % qid, out), out
        rc, out, err = h.admin(qdir, "show", qid)
        assert "recipient 1: delivered" in out and "recipient 2: deferred" in out, out
        assert "451 4.7.1 greylisted" in out
        written = os.stat(os.path.join(str(qdir), "state", qid)).st_mtime
        j3 = w.job(timeout=15)        # the retry, after -R 2 s (1 s granularity)
        assert time.time() - written >= 0.9
        assert j3["rcpts"] == [b"carol@example.com"]
        w.answer(j3, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")


def test_flush_makes_it_due_now(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "600"]) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@example.net"])
        w.answer(w.job(), "temp", 421, "4.4.2", "try later")
        wait_for(lambda: files(qdir, "state") == [qid], what="state file")
        assert w.no_job(2.0)
        rc, out, err = h.admin(qdir, "flush", qid)
        assert rc == 0 and "flushed 1" in out, (out, err)
        j = w.job(timeout=10)
        w.answer(j, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")
        rc, out, err = h.admin(qdir, "flush", "a" * 20)
        assert rc == 1


def test_perm_makes_a_bounce(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        w, qid = h.play(qd, tmp_path, ["nobody@example.net"])
        w.answer(w.job(), "perm", 550, "5.1.1", "no such user")
        qd.wait_log(r"event=bounced id=%s rcpt=nobody@example.net code=550 status=5.1.1" % qid)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any("event=bounce-failed" in l for l in qd.lines):
                pytest.skip("bounce_queue (H3's queue/bounce.c) does not commit reports yet")
            if any("event=bounce id=" in l for l in qd.lines):
                break
            time.sleep(0.05)
        # The report goes out as a message from <> to the sender.
        j = w.job()
        assert j["sender"] == b"" and j["rcpts"] == [LOGIN.encode()]
        assert b"5.1.1" in j["data"]
        wait_for(lambda: gone(qdir, qid), what="removal of the original")
        # A report about a report is never made.
        w.answer(j, "perm", 550, "5.1.1", "no such user")
        qd.wait_log(r"event=bounce-dropped .*reason=null-sender")
        wait_for(lambda: files(qdir, "cur") == [] and files(qdir, "new") == [],
                 what="bounce removed")


def test_worker_eof_mid_job_is_retried(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        a, qid = h.play(qd, tmp_path, ["bob@example.net", "carol@example.net"])
        j = a.job()
        a.sock.send(h.frame("rcpt", j["id"], 1, "ok", 250, "2.0.0", "ok"))
        a.close()
        qd.wait_log(r"event=deferred id=%s rcpt=bob@example.net code=451 status=4.4.0" % qid)
        b = Worker(qd)
        j2 = b.job()
        assert j2["rcpts"] == [b"bob@example.net"]
        b.answer(j2, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")


GARBAGE = {
    "not-a-netstring": lambda jid: b"junk",
    "other-job": lambda jid: h.frame("rcpt", jid + 1, 0, "ok", 250, "2.0.0", "x"),
    "bad-class": lambda jid: h.frame("rcpt", jid, 0, "maybe", 250, "2.0.0", "x"),
    "control-byte": lambda jid: h.frame("rcpt", jid, 0, "ok", 250, "2.0.0", "bad\x01text"),
    "bad-status": lambda jid: h.frame("rcpt", jid, 0, "ok", 250, "2.0", "x"),
    "index-past-end": lambda jid: h.frame("rcpt", jid, 1, "ok", 250, "2.0.0", "x"),
    "unknown-verb": lambda jid: h.frame("hello", jid),
}


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_garbage_from_a_worker_closes_only_that_worker(qdir, tmp_path, garbage):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        a, qid = h.play(qd, tmp_path, ["bob@example.net"])
        j = a.job()
        b = Worker(qd)
        a.sock.send(GARBAGE[garbage](j["id"]))
        a.sock.settimeout(10)
        assert a.sock.recv(100) == b""      # queued closed a
        qd.wait_log(r"event=worker-closed .*reason=(malformed|bad-frame)")
        j2 = b.job()                        # retried on b
        b.answer(j2, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")
        assert qd.proc.poll() is None


def test_maildir_route_goes_to_its_worker(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1"]) as qd:
        smtp = Worker(qd)
        md = Worker(qd, "maildir", "maildir:/var/mail/x")
        routes(qd, tmp_path, [("local.test", "maildir:/var/mail/x"), ("*", "relay:smart.test:587 tls=required")])
        qid = submit(qd, ["u@local.test", "v@remote.test"])
        jm = md.job()
        assert jm["route"] == b"maildir" and jm["rcpts"] == [b"u@local.test"]
        js = smtp.job()
        assert js["route"] == b"relay:smart.test:587 tls=required" and js["rcpts"] == [b"v@remote.test"]
        md.answer(jm, "ok")
        smtp.answer(js, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")


def test_no_route_defers_and_expiry_bounces_with_447(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1", "-L", "3"]) as qd:
        w, qid = h.play(qd, tmp_path, ["bob@nowhere.test"], [("example.net", "mx")])
        qd.wait_log(r"event=deferred id=%s rcpt=bob@nowhere.test code=451 status=4.3.5" % qid)
        qd.wait_log(r"event=expired id=%s rcpt=bob@nowhere.test code=451 status=4.4.7" % qid,
                    timeout=20)


def test_concurrency_limits(qdir, tmp_path):
    with h.Queued(qdir, ["-W", "3", "-P", "1"]) as qd:
        ws = [Worker(qd) for _ in range(4)]
        routes(qd, tmp_path, [("*", "mx")])
        ids = [submit(qd, ["r%d@same.test" % i]) for i in range(3)]
        ids.append(submit(qd, ["x@other.test"]))
        got = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 2:
            for w in ws:
                w.sock.settimeout(0.1)
                try:
                    msg, fds, _f, _a = socket.recv_fds(w.sock, 70000, 4)
                except socket.timeout:
                    continue
                for fd in fds:
                    os.close(fd)
                got.append((w, h.parse_frame(msg)))
        # one job for same.test (-P 1) and one for other.test
        assert sorted(f[3] for _, f in got) == [b"other.test", b"same.test"]
        for w in ws:
            assert w.no_job(1.0)


def test_index_scan_of_100k_messages_is_fast(tmp_path):
    """DESIGN §5: start fast with 100 000 queued messages.  The files are
    empty (the scan reads no envelope; recovery only checks env/<id>
    exists), on a tmpfs when there is one so making them is quick."""
    import base64
    import shutil
    import tempfile
    base = tempfile.mkdtemp(dir="/dev/shm") if os.path.isdir("/dev/shm") else str(tmp_path)
    try:
        os.chmod(base, 0o755)
        q = os.path.join(base, "queue")
        uid, gid = h.queue_ids()
        h.make_queue_dir(q, uid, gid)
        new, env = os.path.join(q, "new"), os.path.join(q, "env")
        t0 = time.monotonic()
        raw = os.urandom(13 * 100000)
        for i in range(100000):
            qid = base64.b32encode(raw[13 * i:13 * i + 13]).decode().lower()[:20]
            os.close(os.open(os.path.join(new, qid), os.O_CREAT | os.O_WRONLY, 0o600))
            os.close(os.open(os.path.join(env, qid), os.O_CREAT | os.O_WRONLY, 0o600))
        made = time.monotonic() - t0
        with h.Queued(q) as qd:
            line = qd.wait_log(r"event=indexed messages=\d+ ms=\d+", timeout=120)
            n, ms = map(int, re.search(r"messages=(\d+) ms=(\d+)", line).groups())
            print("\nindex scan: %d messages in %d ms (files made in %.1f s)" % (n, ms, made))
            assert n == 100000
            assert ms < 10000
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_delay_notice_once(qdir, tmp_path):
    with h.Queued(qdir, ["-R", "1", "-X", "1", "-D", "1"]) as qd:
        w, qid = h.play(qd, tmp_path, ["slow@example.net"])
        reports = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            j = w.job()
            if j["sender"] == b"":
                reports.append(j)
                w.answer(j, "ok")
                continue
            if sum("action=delayed" in l for l in qd.lines) >= 1 and len(reports) >= 1:
                w.answer(j, "ok")
                break
            w.answer(j, "temp", 451, "4.4.1", "no answer")
        wait_for(lambda: gone(qdir, qid), what="removal")
        assert sum("event=bounce " in l and "action=delayed" in l for l in qd.lines) == 1, qd.log()
        assert len(reports) == 1 and reports[0]["rcpts"] == [LOGIN.encode()]
        assert b"delayed" in reports[0]["data"].lower()


def test_restart_keeps_backoff_and_bad_state_is_held(qdir, tmp_path):
    qd = h.Queued(qdir, ["-R", "600"])
    qd.start()
    try:
        w, qid = h.play(qd, tmp_path, ["bob@example.net"])
        w.answer(w.job(), "temp", 451, "4.4.1", "later")
        wait_for(lambda: files(qdir, "state") == [qid], what="state file")
        assert qd.stop() == 0
    finally:
        qd.kill()
    with h.Queued(qdir, ["-R", "600"]) as qd:
        w = Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        qd.wait_log(r"event=indexed messages=1 ")
        assert w.no_job(2.5)                 # still waiting out its backoff
        rc, out, err = h.admin(qdir, "flush")
        assert rc == 0 and "flushed 1" in out, (out, err)
        j = w.job()
        w.answer(j, "temp", 451, "4.4.1", "later")
        wait_for(lambda: files(qdir, "state") == [qid], what="state file")
        rc, out, err = h.admin(qdir, "show", qid)
        assert "delivery: attempts=2 " in out, out
    # A state file that does not parse: the message is held, never guessed.
    with open(os.path.join(str(qdir), "state", qid), "r+b") as f:
        f.write(b"\xff" * 64)
    with h.Queued(qdir, ["-R", "600"]) as qd:
        w = Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        qd.wait_log(r"event=held id=%s reason=state-invalid" % qid)
        assert files(qdir, "hold") == [qid] and files(qdir, "cur") == []
        assert w.no_job(1.0)


def recv_jobs(ws, want, timeout=10):
    """Collect jobs from any of the workers until want arrived or timeout."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(got) < want:
        for w in ws:
            w.sock.settimeout(0.1)
            try:
                msg, fds, _f, _a = socket.recv_fds(w.sock, 70000, 4)
            except socket.timeout:
                continue
            for fd in fds:
                os.close(fd)
            got.append((w, h.parse_frame(msg)))
    return got


def test_total_concurrency_limit(qdir, tmp_path):
    with h.Queued(qdir, ["-W", "2", "-P", "2"]) as qd:
        ws = [Worker(qd) for _ in range(3)]
        routes(qd, tmp_path, [("*", "mx")])
        for d in ("a.test", "b.test", "c.test"):
            submit(qd, ["x@" + d])
        got = recv_jobs(ws, 2)
        assert len(got) == 2
        assert not recv_jobs(ws, 1, timeout=1.5)        # -W 2: the third waits
        w, f = got[0]
        w.sock.send(h.frame("rcpt", int(f[1]), 0, "ok", 250, "2.0.0", "ok"))
        w.sock.send(h.frame("done", int(f[1])))
        third = recv_jobs(ws, 1)
        assert len(third) == 1
        assert {f[3] for _, f in got + third} == {b"a.test", b"b.test", b"c.test"}


def test_bye_with_a_job_retries_and_idle_bye_is_quiet(qdir, tmp_path):
    """A worker says `bye` only between jobs (after its batch), so a job
    it has not answered at all was sent while it was leaving and never
    read: it goes to the next worker at once, with no attempt counted
    (-R 600: a deferral would hold it for 10 minutes).  A job answered in
    part before `bye` is a broken promise: the rest is temp 4.4.0."""
    with h.Queued(qdir, ["-R", "600"]) as qd:
        a = Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        qid = submit(qd, ["bob@example.net"])
        j = a.job()
        a.sock.send(h.frame("bye"))
        qd.wait_log(r"event=worker-closed .*reason=bye")
        qd.wait_log(r"event=job-returned id=%s job=%d reason=worker-left-unread" % (qid, j["id"]))
        b = Worker(qd)
        j2 = b.job()
        assert j2["rcpts"] == [b"bob@example.net"] and j2["id"] != j["id"]
        b.answer(j2, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")
        assert not any("event=deferred id=%s" % qid in l for l in list(qd.lines))
        # answered in part, then bye: the unanswered recipient is temp
        qid2 = submit(qd, ["bob@example.net", "carol@example.net"])
        j3 = b.job()
        b.sock.send(h.frame("rcpt", j3["id"], 0, "ok", 250, "2.0.0", "ok"))
        b.sock.send(h.frame("bye"))
        qd.wait_log(r"event=deferred id=%s rcpt=carol@example.net code=451 status=4.4.0" % qid2)
        c = Worker(qd)
        assert c.no_job(1.5)                # carol waits for her backoff
        c.sock.send(h.frame("bye"))         # idle: nothing to retry
        c.sock.settimeout(10)
        assert c.sock.recv(100) == b""
        assert qd.proc.poll() is None


def test_job_sent_while_the_worker_leaves_goes_to_the_next(qdir, tmp_path):
    """The race of every recycling: the worker's last `done` makes queued
    send it the next job, which it never reads; it says `bye` and exits
    with that frame unread (queued's next read is ECONNRESET, then the
    worker's `bye`).  The job goes to the next worker at once, no attempt
    counted (-R 600: a deferral would hold it for ten minutes)."""
    import select
    with h.Queued(qdir, ["-R", "600"]) as qd:
        a = Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        first = submit(qd, ["bob@example.net"])
        second = submit(qd, ["carol@example.net"])
        j = a.job()
        a.answer(j, "ok")
        ready, _, _ = select.select([a.sock], [], [], 10)
        assert ready, "queued sent no second job"
        a.sock.send(h.frame("bye"))
        a.close()                            # the second job unread
        qd.wait_log(r"event=job-returned id=%s .*reason=worker-left-unread" % second)
        b = Worker(qd)
        j2 = b.job()
        assert j2["rcpts"] == [b"carol@example.net"]
        b.answer(j2, "ok")
        wait_for(lambda: gone(qdir, first) and gone(qdir, second), what="removal")
        assert not any("event=deferred" in l for l in list(qd.lines)), qd.log()
        assert not any("reason=bad-frame" in l for l in list(qd.lines)), qd.log()


def test_kill9_mid_job_message_in_cur_is_retried(qdir, tmp_path):
    qd = h.Queued(qdir, ["-R", "600"])
    qd.start()
    try:
        w, qid = h.play(qd, tmp_path, ["bob@example.net"])
        w.job()
        assert files(qdir, "cur") == [qid]
    finally:
        qd.kill()
    with h.Queued(qdir, ["-R", "600"]) as qd:
        w = Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        j = w.job()                         # no state file: due at once
        assert j["rcpts"] == [b"bob@example.net"]
        w.answer(j, "ok")
        wait_for(lambda: gone(qdir, qid), what="removal")


def test_busy_destination_does_not_hold_every_slot(qdir, tmp_path):
    """-W 2 -P 1: 18 active slots (-W + 16) all taken by messages to one
    destination whose one allowed job hangs; a later message to another
    destination still goes out on the idle worker (blocked ones are put
    back after 2 s)."""
    with h.Queued(qdir, ["-W", "2", "-P", "1"]) as qd:
        busy, free = Worker(qd), Worker(qd)
        routes(qd, tmp_path, [("*", "mx")])
        s = qd.session()
        for i in range(19):
            r = s.submit(LOGIN, LOGIN, ["r%d@same.test" % i], MSG)
            assert r[-1][0] == 250, r
        other = submit(qd, ["x@other.test"])
        got = recv_jobs([busy, free], 2, timeout=20)
        assert sorted(f[3] for _, f in got) == [b"other.test", b"same.test"], got
        qd.wait_log(r"event=queued .*id=%s" % other)
