#!/usr/bin/python3
"""Commit throughput of postern-queued alone (no SMTP, no TLS): N sessions
on the queue channel (tests/integration/queue_harness.py as a fake master
and fake smtpds), each submitting messages back to back for a fixed time;
prints messages/s.  A number, never a verdict.  Root (chroot, role uid).

  POSTERN_BIN=$PWD/build/NAME/bin bench/queue_commit.py [--queued PATH]
      [--sessions 1,8] [--seconds 5] [--size 4096] [--dir /var/tmp]
"""
import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import queue_harness as h  # noqa: E402

LOGIN = "alice@example.org"


def run(binary, sessions, seconds, size, base):
    """messages/s with `sessions` concurrent senders."""
    top = tempfile.mkdtemp(prefix="postern-bench.", dir=base)
    os.chmod(top, 0o755)
    q = os.path.join(top, "queue")
    uid, gid = h.queue_ids()
    h.make_queue_dir(q, uid, gid)
    body = b"From: alice@example.org\r\nSubject: bench\r\n\r\n"
    body += b"x" * max(0, size - len(body) - 2) + b"\r\n"
    counts = multiprocessing.Array("l", sessions)
    try:
        # No quota: the built-in 200 messages an hour would stop the run.
        tab = os.path.join(top, "quotas.cdb")
        h.build_cdb(tab, [(b"*", b"messages_per_hour=0,messages_per_day=0,"
                                 b"recipients_per_hour=0,recipients_per_day=0")])
        with h.Queued(q, binary=binary) as qd:
            qd.table("quotas", tab)
            qd.wait_log(r"event=table table=quotas")
            ss = [qd.session() for _ in range(sessions)]
            stop = time.monotonic() + seconds

            # One process per session (forked: it inherits its socket), so
            # the client is not one Python interpreter's lock.
            def sender(i):
                n = 0
                while time.monotonic() < stop:
                    r = ss[i].submit(LOGIN, LOGIN, ["x@example.net"], body)
                    if r[-1][0] != 250:
                        print("refused: %r" % (r,), file=sys.stderr)
                        break
                    n += 1
                counts[i] = n

            ctx = multiprocessing.get_context("fork")
            t0 = time.monotonic()
            ps = [ctx.Process(target=sender, args=(i,)) for i in range(sessions)]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            if any(p.exitcode != 0 for p in ps):
                raise SystemExit("a sender failed")
            took = time.monotonic() - t0
            groups = [l for l in qd.lines if "event=group-commit" in l]
            grouped = sum(int(l.rsplit("messages=", 1)[1].split()[0]) for l in groups)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return sum(counts) / took, len(groups), grouped, sum(counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queued", default=None)
    ap.add_argument("--sessions", default="1,8")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--dir", default="/var/tmp")
    a = ap.parse_args()
    for n in [int(x) for x in a.sessions.split(",")]:
        rate, groups, grouped, total = run(a.queued, n, a.seconds, a.size, a.dir)
        print("sessions=%d size=%d msgs/s=%.0f messages=%d in-groups=%d groups=%d"
              % (n, a.size, rate, total, grouped, groups), flush=True)


if __name__ == "__main__":
    main()
