"""No role outlives a SIGKILLed master (lib/sandbox.c step 3:
PR_SET_PDEATHSIG SIGKILL, armed again after the uid drop).

A real master with a routes table (so postern-deliver workers run) and an
SMTP session open (postern-smtpd) is SIGKILLed; every process it had
started (authd, queued, the workers, smtpd), recorded by pid before the
kill, must be gone within a few seconds instead of running on under pid 1.
Root only (users, chroot)."""
import os
import signal
import subprocess

import pytest

from conftest import free_port, proc_stat, proc_table, prog, wait_until
from master_harness import Master, connect, read_reply, write_conf

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

ROLES = ("postern-authd", "postern-queued", "postern-deliver", "postern-smtpd")


def live(s):
    """A proc_stat tuple, or None for a process gone or a zombie."""
    return None if s is None or s[1] in ("Z", "X") else s


def stat_of(pid):
    """(comm, state, ppid) of pid, or None once it is gone or a zombie."""
    return live(proc_stat(pid))


def descendants(root):
    """{pid: comm} of every live process below root."""
    kids = {}
    for pid, s in proc_table().items():
        if live(s) is not None:
            kids.setdefault(s[2], []).append((pid, s[0]))
    out, todo = {}, [root]
    while todo:
        for pid, comm in kids.get(todo.pop(), []):
            if pid not in out:
                out[pid] = comm
                todo.append(pid)
    return out


def write_routes(confdir):
    src = os.path.join(str(confdir), "routes")
    with open(src, "w") as f:
        f.write("* mx\n")
    p = subprocess.run([prog("postern-table"), "build", src], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout.decode()


def test_sigkill_of_master_leaves_no_orphan(tmp_path, setup_dir):
    port = free_port()
    conf = tmp_path / "conf"
    write_conf(conf, setup_dir, port, extra=["deliver_workers = 2"])
    write_routes(conf)
    survivors = {}
    with Master(conf) as m:
        m.wait_for(r"event=daemon-ready role=queued", timeout=20)
        m.wait_for(r"event=daemon-ready role=authd", timeout=20)
        sock = connect(port)
        try:
            assert read_reply(sock).startswith("220 "), m.log()

            def all_up():
                d = descendants(m.proc.pid)
                names = sorted(d.values())
                if (names.count("postern-deliver") == 2 and
                        all(r in names for r in ROLES)):
                    return d
                return None
            before = wait_until(all_up, 30, "authd, queued, 2 workers and smtpd", m.log())
            # every one of them in its sandbox (past sandbox_enter)
            for pid in before:
                wait_until(lambda: _seccomp(pid) in (None, "2"), 20,
                           "pid %d sandboxed" % pid, m.log())
            m.proc.send_signal(signal.SIGKILL)
            m.proc.wait(timeout=10)

            def gone():
                left = {p: c for p, c in before.items() if stat_of(p) is not None}
                survivors.clear()
                survivors.update(left)
                return not left
            try:
                wait_until(gone, 5, "every child gone")
            except AssertionError:
                raise AssertionError("still running after the master's SIGKILL: %r; log:\n%s"
                                     % (survivors, m.log())) from None
        finally:
            sock.close()
            for pid in survivors:       # never leave one behind on failure
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def _seccomp(pid):
    """The Seccomp field of pid's status, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    return line.split()[1]
    except OSError:
        return None
    return None
