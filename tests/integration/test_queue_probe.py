"""Invariant 3 for postern-queued: its probe builds (`make probes`: the
program tries open/socket/execve right after sandbox_enter, through
syscall(2)) die of SIGSYS.

queued's allow-list lets openat through only with O_NOFOLLOW; the open
probe is openat(AT_FDCWD, "/", O_RDONLY|O_DIRECTORY) without it, so it must
die too.  Checked twice: standalone (the exit status is exactly SIGSYS and
the probe never logs that it survived) and under the real master, with a
libexec dir holding the normal programs but the probe postern-queued: the
master logs event=sandbox-violation role=queued, restarts it (which dies
again), and authd, next to it, is unaffected.  Root only."""
import os
import shutil
import signal

import pytest

import queue_harness as h
from queue_harness import qdir  # noqa: F401 (fixture)
from conftest import BIN, BUILD, free_port
from master_harness import Master, write_conf

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
PROBES = ["open", "socket", "execve"]


def probe_binary(probe):
    p = os.path.join(BUILD, "probe-%s" % probe, "bin", "postern-queued")
    assert os.path.exists(p), "probe build missing: run `make probes` (B=%s)" % BUILD
    return p


@pytest.mark.parametrize("probe", PROBES)
def test_standalone_probe_dies_of_sigsys(qdir, probe):
    qd = h.Queued(qdir, binary=probe_binary(probe))
    try:
        # No key frame: the probe dies right after sandbox_enter, which
        # may come before the frame is sent (EPIPE), and it needs none.
        qd.start(key=None, wait_ready=False)
        rc = qd.proc.wait(timeout=10)
        qd._reader.join(timeout=5)
    finally:
        qd.kill()
    assert rc == -signal.SIGSYS, (rc, qd.log())
    assert "sandbox-probe-survived" not in qd.log()
    # It died in its sandbox: the queue is as empty as it was.
    for sub in ("tmp", "new", "env"):
        assert os.listdir(os.path.join(str(qdir), sub)) == []


def mixed_libexec(tmp_path, probe):
    """The normal programs, but the probe build of postern-queued."""
    d = tmp_path / "libexec"
    d.mkdir()
    for name in os.listdir(BIN):
        if name.startswith("postern-"):
            shutil.copy2(os.path.join(BIN, name), str(d / name))
    shutil.copy2(probe_binary(probe), str(d / "postern-queued"))
    return str(d)


@pytest.mark.parametrize("probe", PROBES)
def test_probe_under_the_master_is_a_sandbox_violation(tmp_path, setup_dir, probe):
    libexec = mixed_libexec(tmp_path, probe)
    conf = tmp_path / "conf"
    write_conf(conf, setup_dir, free_port(), libexec=libexec)
    with Master(conf) as m:
        m.wait_for(r"event=sandbox-violation role=queued signal=SIGSYS")
        m.wait_for(r"event=daemon-exit role=queued pid=\d+ signal=SIGSYS")
        m.wait_for(r"event=daemon-restart role=queued")
        # Restarted after the 1 s backoff, and killed again.
        m.wait_for(r"event=daemon-start role=queued pid=\d+ instance=2", timeout=15)
        mark = m.mark()
        m.wait_for(r"event=sandbox-violation role=queued signal=SIGSYS", start=mark)
        m.wait_for(r"event=daemon-ready role=authd")
        log = m.log()
        assert "event=daemon-ready role=queued" not in log, log
        assert "sandbox-probe-survived" not in log, log
        assert "role=authd signal=SIGSYS" not in log, log
        assert m.proc.poll() is None
