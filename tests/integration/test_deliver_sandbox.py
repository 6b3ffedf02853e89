"""postern-deliver's confinement (invariant 3) and hostile servers
(invariant 6).  The worker's /proc facts after sandbox_enter: its own uid,
Seccomp 2 and one more filter than the test (which runs unfiltered), in
its chroot; probe builds (make probes) die of SIGSYS; a remote server that
sends an overlong line, a 10 MB reply or garbage affects only this worker,
which reports temp results with sanitized text, says `bye` and exits.
Root only."""
import os
import signal
import time

import pytest

import deliver_harness as h
from conftest import BUILD

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
MSG = b"Subject: s\r\n\r\nbody\r\n"


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)


def test_proc_facts_after_sandbox():
    uid, gid = h.deliver_ids()
    with h.Deliver() as d:
        end = time.time() + 10
        while "event=start" not in d.log() and time.time() < end:
            time.sleep(0.05)
        st = status(d.proc.pid)
        assert st["Uid"].split() == [str(uid)] * 4
        assert st["Gid"].split() == [str(gid)] * 4
        assert st["Seccomp"].strip() == "2"
        assert int(st["Seccomp_filters"]) >= 1
        assert st["NoNewPrivs"].strip() == "1"
        assert os.readlink("/proc/%d/root" % d.proc.pid) == d.chroot
        # Only 0..3 open (no secrets given).
        assert sorted(int(x) for x in os.listdir("/proc/%d/fd" % d.proc.pid)) == [0, 1, 2, 3]


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_probe_builds_die_of_sigsys(probe):
    binary = os.path.join(BUILD, "probe-%s" % probe, "bin", "postern-deliver")
    assert os.path.exists(binary), "run make probes"
    with h.Deliver(binary=binary) as d:
        rc = d.wait(timeout=10)
        assert rc == -signal.SIGSYS, (rc, d.log())
        assert "sandbox-probe-survived" not in d.log()


def hostile(payload):
    def handler(c):
        c.sendall(b"220 hostile ESMTP\r\n")
        f = c.makefile("rb")
        f.readline()
        c.sendall(payload)
        time.sleep(0.5)
    return handler


PAYLOADS = {
    "overlong-line": lambda: b"250-" + b"A" * 5000 + b"\r\n250 ok\r\n",
    "10MB-reply": lambda: b"".join(b"250-" + b"x" * 900 + b"\r\n" for _ in range(12000)),
    "garbage": lambda: b"250-ok\r\n999 \x00\x1b[31mgarbage\r\n",
    "mixed-codes": lambda: b"250-ok\r\n251 different code\r\n",
}


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_hostile_server_only_hurts_its_worker(kind):
    payload = PAYLOADS[kind]()
    with h.SmtpServer(handler=hostile(payload)) as srv, h.Deliver() as d:
        d.send_job(1, [b"a@dest.test"], MSG, route=b"relay:127.0.0.1:%d" % srv.port)
        r = d.results(1, 1)[0]
        assert r["class"] == "temp", r
        assert len(r["text"]) <= 512
        assert all(0x20 <= b < 0x7f for b in r["text"])
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        assert "peer-misbehaved" in d.log()


def test_control_bytes_in_reply_are_sanitized_in_frames_and_logs():
    def rcpt(a):
        return "550 5.1.1 evil\x1b[2J\x07 \xff text"
    with h.SmtpServer(rcpt=rcpt) as srv, h.Deliver() as d:
        d.send_job(1, [b"a@dest.test"], MSG, route=b"relay:127.0.0.1:%d" % srv.port)
        r = d.results(1, 1)[0]
        assert r["class"] == "perm"
        assert all(0x20 <= b < 0x7f for b in r["text"]), r
        assert "\x1b" not in d.log()


def test_malformed_job_frame_exits_111():
    import socket as s
    from queue_harness import frame
    with h.Deliver() as d:
        r, w = os.pipe()
        s.send_fds(d.chan, [frame("job", "x")], [r])
        os.close(r)
        os.close(w)
        assert d.wait() == 111
