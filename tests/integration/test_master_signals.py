"""Signals: SIGTERM drains sessions for at most shutdown_timeout, then ends
them and exits 0; SIGHUP re-reads postern.conf, applies reloadable keys to
new sessions, names keys that need a restart, and keeps the old
configuration when the new file is broken."""
import os
import re
import signal
import time

import pytest

from conftest import free_port
from master_harness import Master, connect, read_reply, session_of, write_conf


def listeners_on(port):
    """Owners ("pid:comm") of TCP listening sockets on this port, read from
    /proc (a connect() probe could be answered by a TCP self-connect when
    the kernel happens to pick the same ephemeral port)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.readlines()[1:]:
                cols = row.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":
                    inodes.add(cols[9])
    owners = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
            for fd in fds:
                link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    with open("/proc/%s/comm" % pid) as f:
                        owners.append("%s:%s" % (pid, f.read().strip()))
        except OSError:
            continue
    return sorted(inodes) if inodes and not owners else owners


def test_sigterm_without_sessions_exits_promptly(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port)
    with Master(tmp_path) as m:
        t0 = time.monotonic()
        m.signal(signal.SIGTERM)
        assert m.wait(timeout=5) == 0
        assert time.monotonic() - t0 < 2
        assert "event=stopped" in m.log()


def test_sigterm_with_idle_session(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=["shutdown_timeout = 2s"])
    with Master(tmp_path) as m:
        mark = m.mark()
        with connect(port) as s:
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            t0 = time.monotonic()
            m.signal(signal.SIGTERM)
            m.wait_for(r"event=stopping signal=SIGTERM sessions=1")
            # Listeners are closed at once: nobody listens on the port.  A
            # socket table row can outlive its last owner by a moment (seen
            # as a row no process holds), so look again briefly before failing.
            end = time.monotonic() + 1.0
            while listeners_on(port) != [] and time.monotonic() < end:
                time.sleep(0.05)
            assert listeners_on(port) == []
            rc = m.wait(timeout=15)
            elapsed = time.monotonic() - t0
            assert rc == 0, m.log()
            assert 1.5 <= elapsed < 2 + 2 + 3, elapsed    # drained, then ended
            assert re.search(r"event=session-end session=%s signal=SIG(TERM|KILL)" % sid,
                             m.log()), m.log()
            assert "event=stopped" in m.log()
            try:                                          # the session is gone
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass


def test_sigterm_session_that_quits_in_time(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=["shutdown_timeout = 10s"])
    with Master(tmp_path) as m:
        mark = m.mark()
        with connect(port) as s:
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            m.signal(signal.SIGTERM)
            m.wait_for(r"event=stopping signal=SIGTERM sessions=1")
            t0 = time.monotonic()
            # The session still works while draining.
            s.sendall(b"NOOP\r\n")
            assert read_reply(s).startswith("250")
            s.sendall(b"QUIT\r\n")
            assert read_reply(s).startswith("221")
        assert m.wait(timeout=8) == 0
        assert time.monotonic() - t0 < 5
        assert re.search(r"event=session-end session=%s status=exit:0" % sid, m.log())


def rewrite(confdir, pattern, repl):
    path = os.path.join(str(confdir), "postern.conf")
    with open(path) as f:
        text = f.read()
    new = re.sub(pattern, repl, text, flags=re.M)
    with open(path, "w") as f:
        f.write(new)
    return new


def child_args(m, port):
    """The -n value of the next session's command line."""
    mark = m.mark()
    with connect(port) as s:
        assert read_reply(s).startswith("220 ")
        _, pid = session_of(m, start=mark)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        s.sendall(b"QUIT\r\n")
        read_reply(s)
    return dict(zip(argv[1::2], argv[2::2]))


def test_sighup_reloads_recipients_max(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=["recipients_max = 100"])
    with Master(tmp_path) as m:
        assert child_args(m, port)[b"-n"] == b"100"
        rewrite(tmp_path, r"^recipients_max = 100$", "recipients_max = 7")
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=reload .*changed=recipients_max restart-required=none",
                   start=mark)
        assert child_args(m, port)[b"-n"] == b"7"


def test_sighup_reloads_smtpd_timeouts(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port)
    with Master(tmp_path) as m:
        args = child_args(m, port)
        assert (args[b"-c"], args[b"-P"]) == (b"300", b"60")
        with open(os.path.join(str(tmp_path), "postern.conf"), "a") as f:
            f.write("smtpd_command_timeout = 2m\nsmtpd_preauth_timeout = 30s\n")
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=reload .*changed=smtpd_command_timeout,smtpd_preauth_timeout "
                   r"restart-required=none", start=mark)
        args = child_args(m, port)
        assert (args[b"-c"], args[b"-P"]) == (b"120", b"30")


def test_sighup_names_restart_required_keys(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port)
    with Master(tmp_path) as m:
        rewrite(tmp_path, r"^listen = .*$", "listen = 127.0.0.1:%d plain" % free_port())
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=reload .*restart-required=listen", start=mark)
        with connect(port) as s:            # still on the old port
            assert read_reply(s).startswith("220 ")


def test_sighup_broken_config_is_kept_out(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port)
    with Master(tmp_path) as m:
        text = rewrite(tmp_path, r"\Z", "bogus_key = 1\n")
        line = text.splitlines().index("bogus_key = 1") + 1
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=reload-failed error=\S*postern\.conf:%d:" % line, start=mark)
        assert m.proc.poll() is None
        with connect(port) as s:
            assert read_reply(s).startswith("220 ")
