"""postern-smtpd's deadlines through a real master: the master passes
smtpd_command_timeout and smtpd_preauth_timeout from postern.conf, a
trickled command line is cut at the command timeout, a silent client that
has not authenticated at the pre-AUTH deadline, and on a starttls
listener that deadline runs from the connection, not from STARTTLS (and
also ends a session whose client never finishes the handshake).
The replies and log kinds are in INSTALL.md ("Session timeouts")."""
import os
import select
import ssl
import time

import pytest

from conftest import free_port
from master_harness import Master, connect, read_reply, session_of, write_conf

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (role users, chroot)")


def start_master(tmp_path, setup_dir, extra, listen_mode="plain"):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=extra,
               listen="listen = 127.0.0.1:%d %s" % (port, listen_mode))
    m = Master(tmp_path)
    m.start()
    m.port = port
    return m


def trickle_until_answer(sock, data, interval, limit):
    """Send data one byte every interval seconds (cycling) until the
    server sends something; the wait between bytes is a select on the
    socket.  Returns the seconds it took; fails after limit seconds."""
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < limit:
        if select.select([sock], [], [], interval)[0]:
            return time.monotonic() - t0
        sock.sendall(data[i % len(data):i % len(data) + 1])
        i += 1
    raise AssertionError("no answer to a trickled line within %ss" % limit)


def test_trickled_command_cut_at_command_timeout(tmp_path, setup_dir):
    # Every byte comes well inside idle_timeout; only the new deadline
    # can end the line.
    m = start_master(tmp_path, setup_dir, ["idle_timeout = 5s",
                                           "smtpd_command_timeout = 1s"])
    try:
        mark = m.mark()
        with connect(m.port) as s:
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            trickle_until_answer(s, b"NOOP", 0.2, 15)
            assert read_reply(s) == "421 4.4.2 Command timeout, closing connection\r\n"
            assert s.recv(100) == b""
        m.wait_for(r"session=%s postern-smtpd: event=timeout kind=command" % sid, start=mark)
        m.wait_for(r"session=%s postern-smtpd: event=session-end .*result=command-timeout"
                   % sid, start=mark)
    finally:
        m.kill()


def test_silent_client_cut_at_preauth_timeout(tmp_path, setup_dir):
    m = start_master(tmp_path, setup_dir, ["idle_timeout = 10s",
                                           "smtpd_preauth_timeout = 1s"])
    try:
        mark = m.mark()
        with connect(m.port) as s:
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            assert read_reply(s, timeout=8) == \
                "421 4.4.2 Authentication timeout, closing connection\r\n"
            assert s.recv(100) == b""
        m.wait_for(r"session=%s postern-smtpd: event=timeout kind=preauth" % sid, start=mark)
    finally:
        m.kill()


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_preauth_deadline_runs_across_starttls(tmp_path, setup_dir):
    # 3 s of NOOPs before STARTTLS, then silence.  Kept from the connection,
    # the pre-AUTH deadline (5 s) passes about 2 s after STARTTLS, before
    # the idle timeout (3 s); restarted at STARTTLS it would pass 5 s
    # after, and the idle timeout would end the session instead.
    m = start_master(tmp_path, setup_dir, ["idle_timeout = 3s",
                                           "smtpd_preauth_timeout = 5s"], "starttls")
    try:
        mark = m.mark()
        with connect(m.port) as s:
            t0 = time.monotonic()
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            while time.monotonic() - t0 < 3.0:
                s.sendall(b"NOOP\r\n")
                assert read_reply(s).startswith("250 ")
                time.sleep(0.3)
            s.sendall(b"STARTTLS\r\n")
            assert read_reply(s).startswith("220 ")
            t = tls_ctx().wrap_socket(s)
            assert read_reply(t, timeout=8) == \
                "421 4.4.2 Authentication timeout, closing connection\r\n"
            t.close()
        m.wait_for(r"session=%s postern-smtpd: event=timeout kind=preauth" % sid, start=mark)
    finally:
        m.kill()


def test_preauth_deadline_during_handshake(tmp_path, setup_dir):
    # The client asks for STARTTLS and never handshakes: tlsd's
    # handshake timeout (30 s) is far off, the pre-AUTH deadline ends the
    # session (no SMTP reply can follow tlsd's 220).
    m = start_master(tmp_path, setup_dir, ["idle_timeout = 20s",
                                           "smtpd_preauth_timeout = 2s"], "starttls")
    try:
        mark = m.mark()
        with connect(m.port) as s:
            assert read_reply(s).startswith("220 ")
            sid, _ = session_of(m, start=mark)
            s.sendall(b"STARTTLS\r\n")
            assert read_reply(s).startswith("220 ")
            m.wait_for(r"session=%s postern-smtpd: event=timeout kind=preauth" % sid,
                       start=mark, timeout=10)
            m.wait_for(r"session=%s postern-smtpd: event=session-end .*"
                       r"result=preauth-timeout" % sid, start=mark)
            # smtpd gone, the master kills the handshaking tlsd a few
            # seconds later (TLSD_GRACE_MS): the client is closed.
            s.settimeout(15)
            assert s.recv(100) == b""
    finally:
        m.kill()
