"""The master serves: a client gets postern-smtpd's greeting, EHLO and QUIT
work, the child's log lines come back prefixed with the session id of
event=connect, and the child runs as the postern-smtpd user, chrooted to
empty_dir, with one more seccomp filter than the master, exactly fds 0..5
and an environment with nothing inherited."""
import email.utils
import os
import pwd
import re
import time

import pytest

from conftest import free_port
from master_harness import (HOSTNAME, Master, connect, proc_status, read_reply,
                            session_of, write_conf)


@pytest.fixture
def master(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port)
    env = dict(os.environ)
    # Must not reach the child: a marker and a harmless LD_ variable.
    env["POSTERN_TEST_LEAK"] = "1"
    env["LD_BIND_NOW"] = "1"
    with Master(tmp_path, env=env) as m:
        m.port = port
        yield m


def test_greeting_ehlo_quit_and_log_ids(master):
    mark = master.mark()
    with connect(master.port) as s:
        greeting = read_reply(s)
        assert greeting.startswith("220 %s ESMTP postern " % HOSTNAME), greeting
        s.sendall(b"EHLO client.example\r\n")
        ehlo = read_reply(s)
        assert ehlo.startswith("250-%s" % HOSTNAME) or ehlo.startswith("250 %s" % HOSTNAME), ehlo
        s.sendall(b"QUIT\r\n")
        assert read_reply(s).startswith("221 "), "no 221"
        assert s.recv(100) == b""          # closed after QUIT
    sid, _ = session_of(master, start=mark)
    master.wait_for(r"event=session-end session=%s status=exit:0" % sid, start=mark)
    relayed = [l for l in master.lines()[mark:]
               if l.startswith("postern: session=%s postern-smtpd: " % sid)]
    assert relayed, master.log()
    # No relayed line carries another session's id.
    for line in master.lines()[mark:]:
        m = re.match(r"postern: session=([a-z2-7]+) ", line)
        if m:
            assert m.group(1) == sid, line


def test_greeting_date_is_now(master):
    with connect(master.port) as s:
        greeting = read_reply(s)
    m = re.match(r"220 \S+ ESMTP postern (.+)\r\n", greeting)
    assert m, greeting
    when = email.utils.parsedate_to_datetime(m.group(1))
    assert when.utcoffset() is not None, greeting
    assert abs(when.timestamp() - time.time()) < 60, greeting


def test_child_sandbox_facts(master, setup_dir, is_root):
    if not is_root:
        pytest.skip("uids and chroot need root")
    mark = master.mark()
    with connect(master.port) as s:
        read_reply(s)               # greeted: the sandbox is in place
        _, pid = session_of(master, start=mark)
        st = proc_status(pid)
        mst = proc_status(master.proc.pid)
        smtpd_uid = pwd.getpwnam("postern-smtpd").pw_uid
        assert st["Uid"].split() == [str(smtpd_uid)] * 4, st["Uid"]
        assert mst["Uid"].split()[0] == "0"
        assert st["Seccomp"] == "2"
        assert int(st["Seccomp_filters"]) == int(mst["Seccomp_filters"]) + 1
        assert st["NoNewPrivs"] == "1"
        assert os.readlink("/proc/%d/root" % pid) == os.path.join(str(setup_dir), "empty")
        assert sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % pid)) == [0, 1, 2, 3, 4, 5]
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read()
        assert b"POSTERN_TEST_LEAK" not in environ
        assert b"LD_" not in environ
        with open("/proc/%d/environ" % master.proc.pid, "rb") as f:
            assert b"POSTERN_TEST_LEAK=1" in f.read()   # the check can fail
        s.sendall(b"QUIT\r\n")
        read_reply(s)


def test_child_command_line(master, setup_dir, is_root):
    mark = master.mark()
    with connect(master.port) as s:
        read_reply(s)
        sid, pid = session_of(master, start=mark)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")[:-1]
        args = dict(zip(argv[1::2], argv[2::2]))
        assert argv[0] == b"postern-smtpd"
        assert args[b"-s"] == sid.encode()
        assert args[b"-m"] == b"plain"
        assert args[b"-h"] == HOSTNAME.encode()
        assert args[b"-a"] == b"127.0.0.1"
        assert int(args[b"-p"]) == s.getsockname()[1]
        assert args[b"-z"] == str(25 * 1024 * 1024).encode()
        assert args[b"-n"] == b"100"
        assert args[b"-t"] == b"300"
        assert args[b"-T"] == b"3600"
        assert args[b"-c"] == b"300"
        assert args[b"-P"] == b"60"
        assert args[b"-r"] == os.path.join(str(setup_dir), "empty").encode()
        if is_root:
            pw = pwd.getpwnam("postern-smtpd")
            assert args[b"-u"] == str(pw.pw_uid).encode()
            assert args[b"-g"] == str(pw.pw_gid).encode()


def test_many_sessions_in_turn(master):
    # Sessions come and go without leaking descriptors in the master.
    def count_fds():
        return len(os.listdir("/proc/%d/fd" % master.proc.pid))

    # The daemons' start-up holds descriptors for a moment: count after it.
    master.wait_for(r"event=daemon-ready role=authd")
    master.wait_for(r"event=daemon-ready role=queued")
    before = count_fds()
    for _ in range(10):
        mark = master.mark()
        with connect(master.port) as s:
            read_reply(s)
            s.sendall(b"QUIT\r\n")
            read_reply(s)
        sid, _ = session_of(master, start=mark)
        master.wait_for(r"event=session-end session=%s " % sid, start=mark)
    assert count_fds() == before


def test_client_socket_has_nodelay(master, is_root):
    """The master sets TCP_NODELAY on accepted sockets (replies and TLS
    records are small and written whole; Nagle plus delayed ACKs would
    stall each by ~40 ms).  The test takes a copy of smtpd's fd 0 with
    pidfd_getfd (root: ptrace access) and asks the socket itself."""
    if not is_root:
        pytest.skip("pidfd_getfd of another uid's descriptor needs root")
    import ctypes
    import socket
    libc = ctypes.CDLL(None, use_errno=True)
    SYS_pidfd_open, SYS_pidfd_getfd = 434, 438
    mark = master.mark()
    with connect(master.port) as s:
        read_reply(s)
        _, pid = session_of(master, start=mark)
        pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
        assert pidfd >= 0, os.strerror(ctypes.get_errno())
        try:
            fd = libc.syscall(SYS_pidfd_getfd, pidfd, 0, 0)
            assert fd >= 0, os.strerror(ctypes.get_errno())
        finally:
            os.close(pidfd)
        with socket.socket(fileno=fd) as client:
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
