"""postern-maildir, the local delivery worker, run alone: this file plays
the master (opens the maildir root O_DIRECTORY|O_NOFOLLOW, execs the worker
as root with fd 3 the job channel and fd 4 the root) and postern-queued
(sends `job` frames with a message descriptor, reads `rcpt`/`done`/`bye`).

The maildir belongs to a test user (created with useradd if missing, uid >=
1000).  Shown: a byte-exact file (header block + message) in new/, owned by
the user, mode 0600; several recipients -> one file and one `ok` each; the
batch ends with `bye`; uid 0, a uid below -m and a maildir owned by someone
else are refused; a symlink in place of tmp/ or new/ is not followed (the
worker refuses to start); disk full on a small tmpfs -> temp 452 4.3.1 with
nothing left in tmp/; /proc facts after the sandbox (uids, Seccomp 2,
root = the maildir); probe builds die of SIGSYS; a malformed job frame
closes the channel without a file; queued closing the channel with a job
out or its results unread is a clean stop.  Root only (chroot, uid
change)."""
import fcntl
import os
import pwd
import re
import select
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import BUILD, prog, public_bin
from deliver_harness import PipeLog

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

USER = "postern-mdtest"
HOST = "mx.test.example"
UID_MIN = 1000


def ns(b):
    return b"%d:%s," % (len(b), b)


def frame(*fields):
    return ns(b"".join(ns(f if isinstance(f, bytes) else str(f).encode()) for f in fields))


def parse_frame(pkt):
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


def job_frame(job_id, header, rcpts, route="maildir"):
    fields = ["job", job_id, route, "example.org", "mx.test.example",
              "alice@example.com", "", "", header, len(rcpts)]
    for r in rcpts:
        fields += [r, "", ""]
    return frame(*fields)


def user_ids():
    """uid, gid of the test user, created (uid >= 1000) if missing."""
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        r = subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", USER],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # 9: created by someone else meanwhile
        assert r.returncode in (0, 9), r.stdout
        pw = pwd.getpwnam(USER)
    assert pw.pw_uid >= UID_MIN
    return pw.pw_uid, pw.pw_gid


def make_maildir(path, uid, gid, subdirs=("tmp", "new", "cur")):
    os.makedirs(path)
    os.chmod(path, 0o700)
    os.chown(path, uid, gid)
    for d in subdirs:
        p = os.path.join(path, d)
        os.mkdir(p)
        os.chmod(p, 0o700)
        os.chown(p, uid, gid)
    return str(path)


def high_dup(fd):
    """A copy of fd at 20 or above, so the shell's redirections to 3 and 4
    cannot overwrite each other."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD, 20)


class Worker:
    """postern-maildir with this object as master and queued."""

    def __init__(self, root, uid, gid, jobs=100, uid_min=UID_MIN, binary=None):
        self.root = root
        self.argv = [binary or prog("postern-maildir"), "-u", str(uid), "-g", str(gid),
                     "-r", root, "-m", str(uid_min), "-n", str(jobs), "-h", HOST]
        self.start_as = None    # (uid, gid): run without root
        self.proc = None
        self.sock = None
        self._log = None
        self._reader = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self):
        rootfd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        t, r = high_dup(theirs.fileno()), high_dup(rootfd)
        theirs.close()
        os.close(rootfd)
        argv = ["/bin/bash", "-c", 'exec 3<&%d 4<&%d %d<&- %d<&-; exec "$@"' % (t, r, t, r),
                "sh"] + self.argv
        extra = {}
        if self.start_as:
            extra = dict(user=self.start_as[0], group=self.start_as[1], extra_groups=[])
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=(t, r), **extra)
        os.close(t)
        os.close(r)
        self.sock = mine
        self._log = PipeLog(self.proc.stderr)
        self._reader = self._log.thread

    def log(self):
        """Every line the worker wrote before this call (PipeLog)."""
        return self._log.text() if self._log is not None else ""

    def wait_log(self, pattern, timeout=10):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self._log.lines():
                if rx.search(line):
                    return line
            time.sleep(0.02)
        raise AssertionError("no log line %r in:\n%s" % (pattern, self.log()))

    def send(self, pkt, fds=()):
        socket.send_fds(self.sock, [pkt], list(fds))

    def send_job(self, job_id, header, rcpts, message, tmp_path):
        path = os.path.join(str(tmp_path), "msg-%d" % job_id)
        with open(path, "wb") as f:
            f.write(message)
        fd = os.open(path, os.O_RDONLY)
        try:
            self.send(job_frame(job_id, header, rcpts), [fd])
        finally:
            os.close(fd)

    def recv(self, timeout=10):
        """Fields of the next frame, or None at EOF."""
        self.sock.settimeout(timeout)
        pkt = self.sock.recv(70000)
        return parse_frame(pkt) if pkt else None

    def results(self, job_id):
        """{index: (class, code, status, text)} up to `done`."""
        out = {}
        for _ in range(2000):
            f = self.recv()
            assert f is not None, "EOF before done:\n" + self.log()
            if f[0] == b"done":
                assert f[1:] == [str(job_id).encode()]
                return out
            assert f[0] == b"rcpt" and len(f) == 7, f
            assert int(f[1]) == job_id
            idx = int(f[2])
            assert idx not in out
            out[idx] = (f[3].decode(), int(f[4]), f[5].decode(), f[6].decode())
        raise AssertionError("no done")

    def wait(self, timeout=10):
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.sock:
            self.sock.close()


@pytest.fixture
def ids():
    return user_ids()


@pytest.fixture
def maildir(tmp_path, ids):
    return make_maildir(os.path.join(str(tmp_path), "Maildir"), *ids)


HEADER = b"Received: from client.example (authenticated as alice)\r\n\tby mx.test.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
MESSAGE = b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nline one\r\n\xc3\xa9 8bit line\r\n.leading dot\r\n"
NAME_RE = re.compile(r"^\d+\.M\d{6}P\d+Q\d+R[0-9a-f]{8}\.mx\.test\.example$")


def files(root, sub):
    return sorted(os.listdir(os.path.join(root, sub)))


def test_delivers_byte_exact_file_owned_by_the_user(maildir, ids, tmp_path):
    with Worker(maildir, *ids) as w:
        w.send_job(7, HEADER, ["bob@example.org"], MESSAGE, tmp_path)
        res = w.results(7)
        assert res == {0: ("ok", 250, "2.0.0", "2.0.0 Delivered to maildir")}, w.log()
        new = files(maildir, "new")
        assert len(new) == 1 and NAME_RE.match(new[0]), new
        p = os.path.join(maildir, "new", new[0])
        with open(p, "rb") as f:
            assert f.read() == HEADER + MESSAGE
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == ids
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert files(maildir, "tmp") == [] and files(maildir, "cur") == []
        w.sock.shutdown(socket.SHUT_WR)
        assert w.wait() == 0, w.log()
    assert re.search(r"event=delivered job=7 rcpts=1 code=250 status=2.0.0 file=\S+ bytes=%d"
                     % (len(HEADER) + len(MESSAGE)), w.log()), w.log()


def test_several_recipients_get_one_file(maildir, ids, tmp_path):
    rcpts = ["a@example.org", "b@example.org", "c@example.org"]
    with Worker(maildir, *ids) as w:
        w.send_job(1, HEADER, rcpts, MESSAGE, tmp_path)
        res = w.results(1)
        assert sorted(res) == [0, 1, 2]
        assert all(r[0] == "ok" and r[1] == 250 for r in res.values()), res
        assert len(files(maildir, "new")) == 1


def test_batch_ends_with_bye(maildir, ids, tmp_path):
    big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
    big = big * 300   # several pread rounds
    with Worker(maildir, *ids, jobs=2) as w:
        w.send_job(1, HEADER, ["a@example.org"], MESSAGE, tmp_path)
        assert w.results(1)[0][0] == "ok"
        w.send_job(2, b"", ["a@example.org"], big, tmp_path)
        assert w.results(2)[0][0] == "ok"
        assert w.recv() == [b"bye"]
        assert w.wait() == 0, w.log()
    new = files(maildir, "new")
    assert len(new) == 2 and len(set(new)) == 2
    contents = sorted(open(os.path.join(maildir, "new", n), "rb").read() for n in new)
    assert contents == sorted([HEADER + MESSAGE, big])


def refused(maildir, uid, gid, uid_min=UID_MIN):
    w = Worker(maildir, uid, gid, uid_min=uid_min)
    try:
        w.start()
        rc = w.wait()
        assert w.recv() is None
    finally:
        w.kill()
    assert files(maildir, "new") == [] and files(maildir, "tmp") == []
    return rc, w.log()


def test_refuses_uid_0(maildir, ids):
    os.chown(maildir, 0, 0)
    rc, log = refused(maildir, 0, 0)
    assert rc == 111 and "bad-arguments" in log, log


def test_refuses_uid_below_min(maildir, ids):
    rc, log = refused(maildir, ids[0], ids[1], uid_min=ids[0] + 1)
    assert rc == 111 and "uid below maildir_uid_min" in log, log


def test_refuses_maildir_of_another_owner(maildir, ids):
    nobody = pwd.getpwnam("nobody")
    rc, log = refused(maildir, nobody.pw_uid, nobody.pw_gid)
    assert rc == 111 and "reason=maildir-wrong-owner dir=root" in log, log


def test_refuses_incomplete_maildir(tmp_path, ids):
    md = make_maildir(os.path.join(str(tmp_path), "Maildir"), *ids, subdirs=("tmp", "new"))
    rc, log = refused(md, *ids)
    assert rc == 111 and "reason=maildir-incomplete dir=cur" in log, log


@pytest.mark.parametrize("sub", ["tmp", "new", "cur"])
def test_symlink_in_place_of_a_subdir_is_not_followed(tmp_path, ids, sub):
    md = make_maildir(os.path.join(str(tmp_path), "Maildir"), *ids)
    # A directory inside the maildir, owned by the user: the symlink would
    # lead somewhere writable, so only O_NOFOLLOW stops it.
    elsewhere = os.path.join(md, "elsewhere")
    os.mkdir(elsewhere)
    os.chown(elsewhere, *ids)
    os.rmdir(os.path.join(md, sub))
    os.symlink("elsewhere", os.path.join(md, sub))
    w = Worker(md, *ids)
    try:
        w.start()
        rc = w.wait()
    finally:
        w.kill()
    assert rc == 111, w.log()
    assert "dir=%s" % sub in w.log(), w.log()
    assert os.listdir(elsewhere) == []


def test_disk_full_is_temporary_and_leaves_nothing(tmp_path, ids):
    mnt = os.path.join(str(tmp_path), "small")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mnt], check=True)
    try:
        md = make_maildir(os.path.join(mnt, "Maildir"), *ids)
        with Worker(md, *ids) as w:
            w.send_job(3, HEADER, ["a@example.org", "b@example.org"],
                       b"Subject: x\r\n\r\n" + b"y" * 200000 + b"\r\n", tmp_path)
            res = w.results(3)
            assert res == {i: ("temp", 452, "4.3.1", "4.3.1 Insufficient system storage in maildir")
                           for i in (0, 1)}, (res, w.log())
            assert files(md, "tmp") == [] and files(md, "new") == []
            # Still serving: a small message fits.
            w.send_job(4, HEADER, ["a@example.org"], MESSAGE, tmp_path)
            assert w.results(4)[0][0] == "ok"
            assert len(files(md, "new")) == 1
        assert "event=deferred job=3 rcpts=2 code=452" in w.log()
    finally:
        subprocess.run(["umount", "-l", mnt])


def test_unreadable_message_is_temporary(maildir, ids, tmp_path):
    with Worker(maildir, *ids) as w:
        d = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)   # pread: EISDIR
        try:
            w.send(job_frame(5, HEADER, ["a@example.org"]), [d])
        finally:
            os.close(d)
        assert w.results(5) == {0: ("temp", 451, "4.3.0", "4.3.0 Local delivery failed, will retry")}
        assert files(maildir, "tmp") == [] and files(maildir, "new") == []


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)


def test_proc_facts_after_the_sandbox(maildir, ids):
    with Worker(maildir, *ids) as w:
        w.wait_log(r"event=start jobs=100")
        # bash exec'd the worker: same pid.
        s = proc_status(w.proc.pid)
        uid, gid = ids
        assert s["Uid"].split() == [str(uid)] * 4
        assert s["Gid"].split() == [str(gid)] * 4
        assert s["Groups"].strip() == ""
        assert s["Seccomp"].strip() == "2"
        assert s["NoNewPrivs"].strip() == "1"
        assert s["CapEff"].strip() == "0000000000000000"
        assert os.readlink("/proc/%d/root" % w.proc.pid) == os.path.realpath(maildir)
        # Only its documented descriptors: 0..4 and tmp/, new/.
        assert sorted(int(x) for x in os.listdir("/proc/%d/fd" % w.proc.pid)) == list(range(7))


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_probe_builds_die_of_sigsys(maildir, ids, probe):
    p = os.path.join(BUILD, "probe-%s" % probe, "bin", "postern-maildir")
    assert os.path.exists(p), "probe build missing: run `make probes` (B=%s)" % BUILD
    w = Worker(maildir, *ids, binary=p)
    try:
        w.start()
        rc = w.wait()
    finally:
        w.kill()
    assert rc == -signal.SIGSYS, (rc, w.log())
    assert "sandbox-probe-survived" not in w.log()
    assert files(maildir, "tmp") == [] and files(maildir, "new") == []


def _no_fd(w, tmp_path):
    w.send(job_frame(1, HEADER, ["a@example.org"]))


def _two_fds(w, tmp_path):
    a, b = os.open("/dev/null", os.O_RDONLY), os.open("/dev/null", os.O_RDONLY)
    try:
        w.send(job_frame(1, HEADER, ["a@example.org"]), [a, b])
    finally:
        os.close(a)
        os.close(b)


def _with_fd(pkt):
    def send(w, tmp_path):
        fd = os.open("/dev/null", os.O_RDONLY)
        try:
            w.send(pkt, [fd])
        finally:
            os.close(fd)
    return send


good = job_frame(1, HEADER, ["a@example.org"])
MALFORMED = {
    "garbage": _with_fd(b"hello"),
    "unknown-verb": _with_fd(frame("jobs", 1)),
    "route-mx": _with_fd(job_frame(1, HEADER, ["a@example.org"], route="mx")),
    "nrcpt-too-many": _with_fd(frame("job", 1, "maildir", "d", "h", "s", "", "", HEADER, 2,
                                     "a@example.org", "", "")),
    "extra-field": _with_fd(frame("job", 1, "maildir", "d", "h", "s", "", "", HEADER, 1,
                                  "a@example.org", "", "", "extra")),
    "nrcpt-zero": _with_fd(frame("job", 1, "maildir", "d", "h", "s", "", "", HEADER, 0)),
    "leftover-byte": _with_fd(good[:-1] + b"x,"),
    "trailing-data": _with_fd(good + b"1:x,"),
    "no-fd": _no_fd,
    "two-fds": _two_fds,
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_job_frame_closes_the_channel_without_a_file(maildir, ids, tmp_path, kind):
    with Worker(maildir, *ids) as w:
        MALFORMED[kind](w, tmp_path)
        assert w.recv() is None, w.log()
        assert w.wait() == 111, w.log()
        assert "reason=malformed-job-frame" in w.log() or "reason=job-channel" in w.log(), w.log()
    assert files(maildir, "tmp") == [] and files(maildir, "new") == []


def test_without_root_runs_only_as_the_owner(maildir, ids, tmp_path):
    """Development mode (started without root): no chroot, no uid change; the worker
    must already be the owner, and still delivers under its filter."""
    uid, gid = ids
    w = Worker(maildir, uid, gid, binary=os.path.join(public_bin(), "postern-maildir"))
    w.start_as = (uid, gid)
    os.chmod(str(tmp_path), 0o755)
    try:
        w.start()
        w.wait_log(r"event=warning reason=not-root detail=no-chroot")
        w.send_job(9, HEADER, ["a@example.org"], MESSAGE, tmp_path)
        assert w.results(9)[0][:2] == ("ok", 250)
        assert open("/proc/%d/status" % w.proc.pid).read().count("Seccomp:\t2") == 1
    finally:
        w.kill()
    assert len(files(maildir, "new")) == 1
    nobody = pwd.getpwnam("nobody")
    w = Worker(maildir, uid, gid, binary=os.path.join(public_bin(), "postern-maildir"))
    w.start_as = (nobody.pw_uid, nobody.pw_gid)
    try:
        w.start()
        assert w.wait() == 111
    finally:
        w.kill()
    assert "reason=not-root-and-not-the-owner" in w.log(), w.log()


def assert_clean_stop(w):
    assert w.wait(20) == 0, w.log()
    assert "event=stop reason=channel-closed" in w.log(), w.log()
    assert "event=fatal" not in w.log(), w.log()


def test_channel_closed_with_results_unread_is_a_clean_stop(maildir, ids, tmp_path):
    """queued dies (kill -9) before reading a job's results: the worker,
    back in its wait for the next job, reads ECONNRESET.  A clean stop
    (exit 0) as at end of file, not event=fatal and exit 111, which the
    master answers with a restart backoff."""
    with Worker(maildir, *ids) as w:
        w.send_job(1, HEADER, ["a@example.org"], MESSAGE, tmp_path)
        assert w.recv()[0] == b"rcpt", w.log()
        # `done`, the job's last frame, is waiting: the worker has sent all.
        assert select.select([w.sock], [], [], 20)[0], w.log()
        w.sock.close()
        assert_clean_stop(w)
        assert len(files(maildir, "new")) == 1


def test_channel_closed_with_a_job_out_is_a_clean_stop(maildir, ids, tmp_path):
    """queued dies right after handing out a job of 1000 recipients: the
    worker delivers, then cannot send the results (EPIPE; or, had it sent
    them all first, ECONNRESET at the next wait).  A clean stop either way."""
    with Worker(maildir, *ids) as w:
        w.send_job(2, HEADER, ["r%d@example.org" % i for i in range(1000)], MESSAGE, tmp_path)
        w.sock.close()
        assert_clean_stop(w)
