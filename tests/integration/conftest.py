"""Shared pytest fixtures for postern's integration tests.

Every test runs against programs in $POSTERN_BIN (bin/ or the sanitizer
build's bin), on 127.0.0.1 ports picked at run time.  Tests that need the
role users and a chroot run as root (CI does); others skip when not root.
"""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("POSTERN_BIN", os.path.join(TOP, "bin"))
BUILD = os.environ.get("POSTERN_BUILD", os.path.join(TOP, "build"))


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prog(name, build=None):
    """Path of a program: bin/NAME, or BUILD/probe-X/bin/NAME for probes."""
    if build is None:
        return os.path.join(BIN, name)
    return os.path.join(BUILD, build, "bin", name)


_public_bin = None


def public_bin():
    """A copy of the programs in $POSTERN_BIN that any user can reach.
    Tests that run a program as nobody or as a test user cannot rely on the
    checkout's own path being traversable: CI clones into a folder of its
    choosing, which may be 0700 (mktemp -d).  Made once per test run."""
    global _public_bin
    if _public_bin is None:
        d = tempfile.mkdtemp(prefix="postern-bin-")
        os.chmod(d, 0o755)
        for name in os.listdir(BIN):
            src = os.path.join(BIN, name)
            if os.path.isfile(src):
                shutil.copy2(src, d)
        atexit.register(shutil.rmtree, d, True)
        _public_bin = d
    return _public_bin


def process_memory(pid, writable_only=True):
    """The readable (by default only the writable) mappings of process pid,
    read through /proc/PID/mem (root, for another uid's process), joined.
    Huge mappings (a sanitizer's shadow reservations) are skipped."""
    data = []
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            rng, perms = line.split()[:2]
            if "r" not in perms or (writable_only and "w" not in perms):
                continue
            lo, hi = (int(x, 16) for x in rng.split("-"))
            if hi - lo > 256 << 20:
                continue
            try:
                mem.seek(lo)
                data.append(mem.read(hi - lo))
            except OSError:
                pass
    return b"".join(data)


def wait_until(pred, timeout, what, log=""):
    """Poll pred() every 50 ms until it returns something true; return it.
    After timeout seconds, an AssertionError naming what (and log)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s%s"
                                 % (timeout, what, "; log:\n" + log if log else ""))
        time.sleep(0.05)


def proc_stat(pid):
    """(comm, state, ppid) of pid from /proc/PID/stat, or None once it is
    gone.  comm lies between the first '(' and the last ')': a program
    name may hold either."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2:].split()
    return st[st.index("(") + 1:st.rindex(")")], fields[0], int(fields[1])


def proc_table():
    """{pid: (comm, state, ppid)} of every process in /proc now (zombies
    included: state "Z"); one that ends while it is read is left out."""
    out = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            s = proc_stat(int(p))
            if s is not None:
                out[int(p)] = s
    return out


@pytest.fixture(scope="session")
def is_root():
    return os.geteuid() == 0


@pytest.fixture(scope="session")
def setup_dir(tmp_path_factory):
    """A directory prepared by postern-setup (users, dirs, cert, config)."""
    d = tmp_path_factory.mktemp("postern")
    # tmp_path is under /tmp and 0700: the role users must reach the chroot.
    os.chmod(d, 0o755)
    subprocess.run([prog("postern-setup"), "--libexec", BIN,
                    "--port", str(free_port()), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return d
