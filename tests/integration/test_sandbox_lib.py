"""lib/sandbox.c seen from outside, on a real role: postern-smtpd.

Invariant 3 (DESIGN.md): the probe builds of postern-smtpd (make probes,
-DSANDBOX_PROBE=open|socket|execve) try that call right after
sandbox_enter() and must die of SIGSYS before greeting; the normal build,
while it waits for the client, must show in /proc its own seccomp filter
(Seccomp_filters one more than ours, not merely an inherited one),
NoNewPrivs, and as root the role's ids, no groups, no capabilities and the
chroot as its root.

postern-smtpd is started by hand with the descriptors of lib/fds.h
(socketpairs standing in for the client, tlsd, authd and queued) and the
argument contract of smtpd/main.c.
"""
import fcntl
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import BUILD, prog

NOBODY = 65534


def _ids():
    if os.geteuid() == 0:
        return NOBODY, NOBODY
    return os.getuid(), os.getgid()


class Smtpd:
    """One postern-smtpd with fds 0..5 as in lib/fds.h; fd 2 is a pipe."""

    def __init__(self, path, root):
        uid, gid = _ids()
        self.client, c0 = socket.socketpair()
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                 for _ in range(3)]
        self._keep = pairs
        logr, logw = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        fds = [c0.fileno(), null, logw, pairs[0][1].fileno(),
               pairs[1][1].fileno(), pairs[2][1].fileno()]
        args = [path, "-s", "T1", "-m", "plain", "-h", "mx.test",
                "-a", "127.0.0.1", "-p", "4321", "-z", "1000000",
                "-n", "10", "-t", "10", "-T", "20", "-c", "10", "-P", "20",
                "-u", str(uid), "-g", str(gid), "-r", str(root)]
        # close_fds=False: CPython would close after preexec_fn, which
        # itself closes everything but 0..5.
        self.proc = subprocess.Popen(args, close_fds=False,
                                     preexec_fn=lambda: _layout(fds))
        os.close(logw)
        os.close(null)
        c0.close()
        for p in pairs:
            p[1].close()
        self._logr = logr

    def greeting(self, timeout=5.0):
        self.client.settimeout(timeout)
        try:
            return self.client.recv(512)
        except (socket.timeout, ConnectionError):
            return b""

    def finish(self, timeout=10.0):
        self.client.close()
        rc = self.proc.wait(timeout=timeout)
        log = b""
        while True:
            chunk = os.read(self._logr, 65536)
            if not chunk:
                break
            log += chunk
        os.close(self._logr)
        for a, _ in self._keep:
            a.close()
        return rc, log.decode("ascii", "replace")


def _layout(fds):
    """In the child: put fds[i] on descriptor i, close everything else."""
    # Above every target first, so no dup2 overwrites a source not yet moved.
    tmp = [fcntl.fcntl(f, fcntl.F_DUPFD, 64) for f in fds]
    for i, f in enumerate(tmp):
        os.dup2(f, i)
    os.closerange(len(fds), 4096)


@pytest.fixture
def chroot_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    return d


def _status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_probe_build_is_killed(probe, chroot_dir):
    path = prog("postern-smtpd", build=f"probe-{probe}")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built (make probes)")
    s = Smtpd(path, chroot_dir)
    greeting = s.greeting()
    rc, log = s.finish()
    assert rc == -signal.SIGSYS, (rc, log)
    assert greeting == b""
    assert "sandbox-probe-survived" not in log


def test_normal_build_is_confined(chroot_dir):
    path = prog("postern-smtpd")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built")
    s = Smtpd(path, chroot_dir)
    try:
        greeting = s.greeting()
        assert greeting.startswith(b"220 mx.test ESMTP postern "), greeting
        st = _status(s.proc.pid)
        mine = _status(os.getpid())
        assert st["Seccomp"] == "2"
        assert int(st["Seccomp_filters"]) == int(mine["Seccomp_filters"]) + 1
        assert st["NoNewPrivs"] == "1"
        if os.geteuid() == 0:
            assert st["Uid"].split() == [str(NOBODY)] * 4
            assert st["Gid"].split() == [str(NOBODY)] * 4
            assert st["Groups"] == ""
            assert int(st["CapEff"], 16) == 0
            assert int(st["CapPrm"], 16) == 0
            assert os.readlink(f"/proc/{s.proc.pid}/root") == str(chroot_dir)
        with open(f"/proc/{s.proc.pid}/limits") as f:
            core = [l for l in f if l.startswith("Max core file size")]
        assert core and core[0].split()[4:6] == ["0", "0"], core
    finally:
        rc, log = s.finish()
    assert rc == 0, (rc, log)
