"""Invariant 1 (DESIGN §3), the syscall-order test: the real master runs
under `strace -f` (so postern-queued and every postern-smtpd are traced in
one ordered log), messages are submitted with smtplib, one at a time and
four at once (sharing a group commit when they coincide), and for every queue id acknowledged with
250 the log must show, completed before smtpd's write of
`250 2.0.0 Ok: queued as ID` to its client starts:
  - fdatasync of tmp/ID.env and of tmp/ID (both completed before the
    first rename starts),
  - rename tmp/ID.env -> env/ID, then rename tmp/ID -> new/ID,
  - an fsync of env/ started after the first rename completed, and an
    fsync of new/ started after the second.
Descriptors are named by strace -y (the path behind each fd), so each
fdatasync and fsync is tied to its file or directory.

The checker is shown to catch a missing step: test builds of
postern-queued with -DQUEUE_TEST_SKIP_DIRSYNC (no directory fsyncs) and
-DQUEUE_TEST_SKIP_DATASYNC (no fdatasync of the message) must each fail it
for every message, with exactly that complaint.  Root only."""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import threading

import pytest

from conftest import BIN, BUILD, TOP, free_port, prog
from master_harness import Master

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN, PASSWORD = "demo@localhost", "demo"
MSG = b"From: demo@localhost\r\nSubject: order\r\n\r\nbody %d\r\n"
HEAD = re.compile(r"^(\d+)\s+[0-9:.]+\s+(.*)$")
WHOLE = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)")
START = re.compile(r"^(\w+)\((.*) <unfinished \.\.\.>$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(-?\d+)")
TRACED = "trace=fsync,fdatasync,syncfs,rename,renameat,renameat2,write,sendto"


class TracedMaster(Master):
    """`postern -c DIR` under strace -f; stop() ends it cleanly so strace
    writes every line (a SIGKILL would lose the tail)."""

    def __init__(self, confdir, trace):
        super().__init__(confdir)
        self.trace = trace

    def start(self, wait_listening=True):
        # LeakSanitizer cannot run under ptrace (make asan): without this
        # the master's exit status would be LSan's, not its own.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "detect_leaks=0"]))
        self.proc = subprocess.Popen(["strace", "-f", "-qq", "-tt", "-y", "-s", "256",
                                      "-o", self.trace, "-e", TRACED,
                                      prog("postern"), "-c", self.confdir],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_listening:
            self.wait_for(r"event=start ")

    def stop(self):
        pid = int(self.wait_for(r"event=start .*pid=(\d+)").group(1))
        os.kill(pid, signal.SIGTERM)
        return self.wait(timeout=30)


def events(lines):
    """[(pid, name, args, ret, start_index, end_index)] from strace -f
    lines, pairing `<unfinished ...>` with `<... resumed>`."""
    out, pending = [], {}
    for i, line in enumerate(lines):
        m = HEAD.match(line)
        if not m:
            continue
        pid, rest = m.group(1), m.group(2)
        w = WHOLE.match(rest)
        if w:
            out.append((pid, w.group(1), w.group(2), int(w.group(3)), i, i))
            continue
        s = START.match(rest)
        if s:
            pending[pid] = (s.group(1), s.group(2), i)
            continue
        r = RESUMED.match(rest)
        if r and pid in pending:
            name, args, first = pending.pop(pid)
            out.append((pid, name, args + r.group(2), int(r.group(3)), first, i))
    return out


def commit_steps(ev, qid, bad):
    """For qid: (the 250's event, the successful calls completed before it,
    the envelope's rename, the message's rename), or None after noting in
    bad what is missing or out of order."""
    reply = next((e for e in ev if e[1] in ("write", "sendto") and
                  '"250 2.0.0 Ok: queued as %s' % qid in e[2]), None)
    if reply is None:
        bad.append("%s: no 250 written by smtpd" % qid)
        return None
    before = [e for e in ev if e[5] < reply[4] and e[3] == 0]
    ren_env = next((e for e in before if e[1].startswith("rename") and
                    '"%s.env"' % qid in e[2]), None)
    ren_msg = next((e for e in before if e[1].startswith("rename") and
                    e[2].count('"%s"' % qid) == 2), None)
    if ren_env is None or ren_msg is None:
        bad.append("%s: renames not done before the 250" % qid)
        return None
    if ren_msg[4] < ren_env[5]:
        bad.append("%s: message renamed before its envelope" % qid)
    return reply, before, ren_env, ren_msg


def violations(ids, lines):
    """What is missing before each 250, as a list of strings (empty: ok)."""
    ev = events(lines)
    bad = []
    for qid in ids:
        steps = commit_steps(ev, qid, bad)
        if steps is None:
            continue
        _, before, ren_env, ren_msg = steps
        for name in (qid + ".env", qid):
            if not any(e[1] == "fdatasync" and e[2].endswith("/tmp/%s>" % name) and
                       e[5] < ren_env[4] for e in before):
                bad.append("%s: no fdatasync of tmp/%s before the renames" % (qid, name))
        for sub, ren in (("env", ren_env), ("new", ren_msg)):
            if not any(e[1] == "fsync" and e[2].endswith("/%s>" % sub) and e[4] > ren[5]
                       for e in before):
                bad.append("%s: no directory fsync of %s/ between the rename and the 250"
                           % (qid, sub))
    return bad


def submit(port, n):
    """One message; its queue id."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.login(LOGIN, PASSWORD)
        assert s.mail(LOGIN)[0] == 250
        assert s.rcpt("x@example.net")[0] == 250
        code, text = s.data(MSG % n)
        assert code == 250, text
        return text.decode().rsplit(" ", 1)[1]


def trace(tmp_path, libexec, conf_extra=()):
    """Queue 3 messages one by one and 4 at once under the traced master
    (conf_extra: lines added to postern.conf); the queue ids and the trace
    lines."""
    os.chmod(str(tmp_path), 0o755)
    d = tmp_path / "postern"
    port = free_port()
    subprocess.run([prog("postern-setup"), "--libexec", libexec, "--port", str(port), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if conf_extra:
        with open(str(d / "postern.conf"), "a") as f:
            f.write("\n".join(conf_extra) + "\n")
    path = str(tmp_path / "trace")
    ids = []
    m = TracedMaster(d, path)
    try:
        m.start()
        m.wait_for(r"event=daemon-ready role=queued", timeout=30)
        m.wait_for(r"event=daemon-ready role=authd", timeout=30)
        for n in range(3):
            ids.append(submit(port, n))
        got = [None] * 4
        ts = [threading.Thread(target=lambda i=i: got.__setitem__(i, submit(port, 10 + i)))
              for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert None not in got, got
        ids += got
        assert m.stop() == 0, m.log()
    finally:
        m.kill()
    with open(path) as f:
        return ids, [l.rstrip("\n") for l in f]


def test_every_commit_step_precedes_the_250(tmp_path):
    ids, lines = trace(tmp_path, BIN)
    assert len(set(ids)) == 7
    assert violations(ids, lines) == [], "\n".join(
        l for l in lines if "rename" in l or "sync" in l or "queued as" in l)


def skip_build(flag):
    """postern-queued built with -D<flag>, in its own build dir.  The
    Makefile compiles and links it (only queue/ and lib/), so a sanitizer
    run (make asan passes its flags down in MAKEFLAGS) links it right."""
    b = os.path.join(BUILD, "queue-" + flag.lower())
    binary = os.path.join(b, "bin", "postern-queued")
    subprocess.run(["make", "-s", "-C", TOP, "B=%s" % b, "BIN=%s/bin" % b,
                    "EXTRA_CFLAGS=-D%s" % flag, binary],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    return binary


def mixed_libexec(tmp_path, queued):
    """The normal programs, but this postern-queued."""
    d = tmp_path / "libexec"
    d.mkdir()
    for name in os.listdir(BIN):
        shutil.copy2(os.path.join(BIN, name), str(d / name))
    shutil.copy2(queued, str(d / "postern-queued"))
    return str(d)


@pytest.mark.parametrize("flag,complaint", [
    ("QUEUE_TEST_SKIP_DIRSYNC", "no directory fsync of"),
    ("QUEUE_TEST_SKIP_DATASYNC", "no fdatasync of tmp/"),
])
def test_the_check_catches_a_missing_step(tmp_path, flag, complaint):
    libexec = mixed_libexec(tmp_path, skip_build(flag))
    ids, lines = trace(tmp_path, libexec)
    bad = violations(ids, lines)
    # Every message fails, and only for the step that was left out.
    assert {b.split(":")[0] for b in bad} == set(ids), bad
    assert all(complaint in b for b in bad), bad
    if flag == "QUEUE_TEST_SKIP_DATASYNC":
        # The envelope's fdatasync is still there: only the message's is named.
        assert all(b.endswith("before the renames") and ".env" not in b for b in bad), bad
