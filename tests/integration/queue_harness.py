"""Helpers for postern-queued's integration tests: run the daemon alone
with a fake master on fd 3 (SOCK_SEQPACKET), hand it sessions, and speak
the queue channel grammar of smtpd/queue_client.h as smtpd would.

Every wait is bounded; a Queued left running is killed when its `with`
block ends.
"""
import fcntl
import os
import pwd
import socket
import subprocess
import threading
import time

import pytest

from conftest import prog, wait_until

KEY = bytes(range(32))
TAG = b"postern-ticket-v1"


def ns(b):
    """One netstring."""
    return b"%d:%s," % (len(b), b)


def frame(*fields):
    """A frame: a netstring of netstrings."""
    return ns(b"".join(ns(f if isinstance(f, bytes) else str(f).encode()) for f in fields))


def parse_frame(pkt):
    """Fields of one frame (raises on anything malformed)."""
    def one(b, off):
        colon = b.index(b":", off)
        n = int(b[off:colon])
        body = b[colon + 1:colon + 1 + n]
        assert b[colon + 1 + n:colon + 2 + n] == b","
        return body, colon + 2 + n
    payload, end = one(pkt, 0)
    assert end == len(pkt)
    out, off = [], 0
    while off < len(payload):
        f, off = one(payload, off)
        out.append(f)
    return out


def ticket(sid, login, key=KEY):
    """A ticket as authd makes it (lib/ticket.h): HMAC-SHA512-256."""
    import hmac
    import hashlib
    mac = hmac.new(key, TAG + sid.encode() + login.encode(), hashlib.sha512).digest()[:32]
    return mac + login.encode()


def make_queue_dir(path, uid, gid):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    os.chown(path, uid, gid)
    for d in ("tmp", "new", "cur", "env", "state"):
        p = os.path.join(path, d)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, 0o700)
        os.chown(p, uid, gid)


def queue_ids():
    pw = pwd.getpwnam("postern-queue") if _has_user("postern-queue") else pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def build_cdb(path, records):
    """A CDB file from [(key, value)] with the `cdb` tool (tinycdb)."""
    data = b"".join(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v) for k, v in records) + b"\n"
    subprocess.run(["cdb", "-c", path], input=data, check=True)


class Session:
    """smtpd's end of one queue channel."""

    def __init__(self, sock, sid):
        self.sock = sock
        self.sid = sid

    def send(self, *fields):
        self.sock.send(frame(*fields))

    def reply(self, timeout=10):
        self.sock.settimeout(timeout)
        pkt = self.sock.recv(70000)
        if not pkt:
            return None
        f = parse_frame(pkt)
        assert f[0] == b"reply", f
        return int(f[1]), f[2].decode()

    def req(self, *fields):
        self.send(*fields)
        return self.reply()

    def mail(self, sender, login=None, tk=None, size=0):
        if tk is None:
            tk = ticket(self.sid, login)
        return self.req("mail", tk, sender, size, "7bit", "0", "", "")

    def message(self, data, chunk=32768):
        for i in range(0, len(data), chunk):
            self.send("chunk", data[i:i + chunk])

    def submit(self, login, sender, rcpts, data):
        """Whole transaction; the list of replies."""
        out = [self.mail(sender, login)]
        if out[-1][0] != 250:
            return out
        for r in rcpts:
            out.append(self.req("rcpt", r, "", ""))
        out.append(self.req("data"))
        if out[-1][0] != 354:
            return out
        self.message(data)
        out.append(self.req("end"))
        return out

    def close(self):
        self.sock.close()


class Queued:
    """postern-queued with this object as its master."""

    def __init__(self, qdir, args=None, binary=None, strace=None):
        self.qdir = str(qdir)
        self.args = list(args or [])
        self.binary = binary or prog("postern-queued")
        self.strace = strace
        self.proc = None
        self.ctl = None
        self.lines = []
        self._reader = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self, key=KEY, wait_ready=True):
        uid, gid = queue_ids()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        os.set_inheritable(theirs.fileno(), True)
        argv = [self.binary, "-u", str(uid), "-g", str(gid), "-r", self.qdir,
                "-h", "mx.test.example"] + self.args
        if self.strace:
            argv = ["strace", "-f", "-tt", "-o", self.strace, "-e",
                    "trace=fdatasync,fsync,rename,renameat,renameat2,sendto,sendmsg,openat", "-s", "256"] + argv
        tfd = theirs.fileno()
        # bash (multi-digit fds) puts the control socket on fd 3, closes the original.
        argv = ["/bin/bash", "-c", 'exec 3<&%d %d<&-; exec "$@"' % (tfd, tfd), "sh"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=(tfd,))
        theirs.close()
        self.ctl = mine
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if key is not None:
            self.ctl.send(frame("key", key))
        if wait_ready:
            self.ctl.settimeout(10)
            pkt = self.ctl.recv(100)
            assert parse_frame(pkt) == [b"ready"], (pkt, self.log())

    def _read(self):
        for raw in self.proc.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def log(self):
        return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=10):
        import re
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for l in list(self.lines):
                if rx.search(l):
                    return l
            time.sleep(0.05)
        raise AssertionError("no log line %r in:\n%s" % (pattern, self.log()))

    def session(self, sid=None, ip="127.0.0.1", port=40000, mode="plain"):
        import secrets
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        sid = sid or "".join(secrets.choice(alphabet) for _ in range(20))
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        socket.send_fds(self.ctl, [frame("session", sid, ip, port, "127.0.0.1:587", mode)],
                        [b.fileno()])
        b.close()
        return Session(a, sid)

    def table(self, name, path):
        fd = os.open(path, os.O_RDONLY)
        socket.send_fds(self.ctl, [frame("table", name)], [fd])
        os.close(fd)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self._reader is not None:
            self._reader.join(timeout=5)

    def stop(self):
        """Close the control channel: queued exits 0."""
        self.ctl.close()
        self.ctl = None
        rc = self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return rc


def admin(qdir, *args):
    """Run postern-queue -q qdir ARGS; (rc, stdout, stderr)."""
    p = subprocess.run([prog("postern-queue"), "-q", str(qdir)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@pytest.fixture
def qdir(tmp_path):
    """An empty queue directory owned by the queue user (tmp_path made
    reachable for it).  A test module uses it by importing the name."""
    os.chmod(tmp_path, 0o755)
    q = tmp_path / "queue"
    uid, gid = queue_ids()
    make_queue_dir(str(q), uid, gid)
    return q


# ---- playing the master's worker side for the scheduler's tests ----

PLAY_LOGIN = "alice@example.org"
PLAY_MSG = b"From: alice@example.org\r\nSubject: sched\r\n\r\nHello.\r\n"


def files(q, sub):
    """Sorted names in queue subdirectory sub."""
    return sorted(os.listdir(os.path.join(str(q), sub)))


def gone(q, qid):
    """True once qid has left new/, cur/, env/ and state/."""
    return all(qid not in files(q, d) for d in ("new", "cur", "env", "state"))


def wait_for(cond, timeout=15, what="condition"):
    """conftest.wait_until with the scheduler tests' defaults."""
    return wait_until(cond, timeout, what)


def routes(qd, tmp_path, records):
    """Build routes.cdb from (key, value) strings and hand it to queued."""
    path = str(tmp_path / "routes.cdb")
    build_cdb(path, [(k.encode(), v.encode()) for k, v in records])
    qd.table("routes", path)
    qd.wait_log(r"event=table table=routes")


def submit(qd, rcpts, sender=PLAY_LOGIN):
    """Submit PLAY_MSG as PLAY_LOGIN from sender to rcpts; its queue id."""
    r = qd.session().submit(PLAY_LOGIN, sender, rcpts, PLAY_MSG)
    assert r[-1][0] == 250, r
    return r[-1][1].rsplit(" ", 1)[1]


class Worker:
    """The test's end of one worker channel (grammar deliver/job.h)."""

    def __init__(self, qd, kind="smtp", route=""):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        socket.send_fds(qd.ctl, [frame("worker", kind, route)], [b.fileno()])
        b.close()
        self.sock = a

    def job(self, timeout=15):
        """The next `job` frame with its read-only message descriptor."""
        self.sock.settimeout(timeout)
        msg, fds, _flags, _addr = socket.recv_fds(self.sock, 70000, 4)
        assert len(fds) == 1, (msg, fds)
        f = parse_frame(msg)
        assert f[0] == b"job", f
        n = int(f[9])
        assert len(f) == 10 + 3 * n
        fd = fds[0]
        assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        data = os.pread(fd, 1 << 20, 0)
        os.close(fd)
        return {"id": int(f[1]), "route": f[2], "domain": f[3], "helo": f[4],
                "sender": f[5], "header": f[8],
                "rcpts": [f[10 + 3 * i] for i in range(n)], "data": data}

    def no_job(self, wait=2.0):
        """True if no frame comes within wait seconds."""
        self.sock.settimeout(wait)
        try:
            pkt = self.sock.recv(70000)
        except socket.timeout:
            return True
        raise AssertionError("unexpected frame %r" % pkt[:200])

    def answer(self, job, cls, code=250, status="2.0.0", text="ok", done=True):
        """One `rcpt` result per recipient, then `done` unless told not to."""
        for i in range(len(job["rcpts"])):
            self.sock.send(frame("rcpt", job["id"], i, cls, code, status, text))
        if done:
            self.sock.send(frame("done", job["id"]))

    def close(self):
        self.sock.close()


def play(qd, tmp_path, rcpts, records=(("*", "mx"),)):
    """The usual opening of a scheduler test: one smtp worker, a routes
    table (every domain by mx unless told), one message to rcpts.
    (worker, queue id)."""
    w = Worker(qd)
    routes(qd, tmp_path, records)
    return w, submit(qd, rcpts)
