"""TLS through a real master: postern-tlsd in front of postern-smtpd on a
starttls listener (STARTTLS, RFC 3207) and a tls listener (implicit TLS,
RFC 8314), with postern-authd and postern-queued behind.

Shows: smtplib starttls() and SMTP_SSL, and swaks, authenticate and queue a
message on both; AUTH before STARTTLS is refused (530); the TLS facts
travel tlsd -> master -> authd/queued (the master logs them, the queued
message's Received: says ESMTPSA with version and cipher, a plain session's
says ESMTPA); killing tlsd ends smtpd and killing smtpd ends tlsd, and the
session is forgotten only when both are reaped; a probe build of tlsd dies
of SIGSYS and the master logs event=sandbox-violation role=tlsd; the
programs are exec'd from descriptors checked at start (a group-writable
libexec program is refused).
"""
import base64
import os
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import BIN, BUILD, free_port, prog
from master_harness import Master, connect, read_reply, run_check, write_conf

CHEAP = ["--ops", "1", "--mem", "8192"]
LOGIN, PASSWORD = "alice@example.org", "alice tls pw"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (role users, chroot)")


def add_user(confdir, login, password):
    p = subprocess.run([prog("postern-user"), "-c", str(confdir), "--password-stdin"]
                       + CHEAP + ["add", login], input=(password + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsMaster:
    """A master with plain, starttls and tls listeners on loopback."""

    def __init__(self, tmp_path, setup_dir, libexec=None, extra=None):
        self.plain, self.starttls, self.tls = free_port(), free_port(), free_port()
        self.confdir = tmp_path
        write_conf(tmp_path, setup_dir, self.plain, libexec=libexec, extra=[
            "listen = 127.0.0.1:%d starttls" % self.starttls,
            "listen = 127.0.0.1:%d tls" % self.tls,
        ] + list(extra or []))
        self.setup_dir = setup_dir
        self.m = Master(tmp_path)


@pytest.fixture
def tm(tmp_path, setup_dir):
    add_user(tmp_path, LOGIN, PASSWORD)
    t = TlsMaster(tmp_path, setup_dir)
    t.m.start()
    try:
        t.m.wait_for(r"event=daemon-ready role=authd")
        t.m.wait_for(r"event=daemon-ready role=queued")
        yield t
    finally:
        t.m.kill()


def queued_id(reply):
    m = re.search(r"queued as ([a-z2-7]+)", reply)
    assert m, reply
    return m.group(1)


def show(t, qid):
    p = subprocess.run([prog("postern-queue"), "-q", os.path.join(str(t.setup_dir), "queue"),
                        "show", qid], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    return out


MSG = ("From: %s\r\nTo: bob@example.net\r\nSubject: tls test\r\n\r\nhello over TLS\r\n"
       % LOGIN)


def assert_esmtpsa(out):
    m = re.search(r"Received: by \S+ \(postern\) with ESMTPSA id [a-z2-7]+\r?\n"
                  r"\t\(using (TLSv1\.[23]) with cipher ([A-Za-z0-9_-]+)\);", out)
    assert m, out
    return m.group(1), m.group(2)


def test_smtplib_starttls_auth_queue(tm):
    mark = tm.m.mark()
    s = smtplib.SMTP("127.0.0.1", tm.starttls, timeout=20)
    try:
        s.ehlo("client.example")
        assert s.has_extn("starttls")
        assert not s.has_extn("auth"), "AUTH advertised before TLS"
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        assert s.has_extn("auth") and not s.has_extn("starttls")
        s.login(LOGIN, PASSWORD)
        code, reply = s.docmd("MAIL", "FROM:<%s>" % LOGIN)
        assert code == 250, reply
        code, reply = s.docmd("RCPT", "TO:<bob@example.net>")
        assert code == 250, reply
        code, reply = s.data(MSG)
        assert code == 250, reply
        qid = queued_id(reply.decode())
    finally:
        s.quit()
    m = tm.m.wait_for(r"event=tls session=([a-z2-7]+) version=(\S+) cipher=(\S+)", start=mark)
    version, cipher = assert_esmtpsa(show(tm, qid))
    assert (version, cipher) == (m.group(2), m.group(3))
    # Both processes reaped, then the session is over.
    tm.m.wait_for(r"event=tlsd-end session=%s status=exit:0" % m.group(1), start=mark)
    tm.m.wait_for(r"event=session-end session=%s status=exit:0" % m.group(1), start=mark)


def test_smtp_ssl_auth_queue(tm):
    s = smtplib.SMTP_SSL("127.0.0.1", tm.tls, timeout=20, context=client_ctx())
    try:
        s.ehlo("client.example")
        assert s.has_extn("auth") and not s.has_extn("starttls")
        s.login(LOGIN, PASSWORD)
        refused = s.sendmail(LOGIN, ["bob@example.net"], MSG)
        assert refused == {}
    finally:
        s.quit()
    m = tm.m.wait_for(r"postern-queued: event=queued session=\S+ id=([a-z2-7]+) user=%s"
                      % re.escape(LOGIN))
    assert_esmtpsa(show(tm, m.group(1)))


def test_plain_listener_says_esmtpa(tm):
    s = smtplib.SMTP("127.0.0.1", tm.plain, timeout=20)
    try:
        s.ehlo("client.example")
        s.login(LOGIN, PASSWORD)
        code, reply = s.docmd("MAIL", "FROM:<%s>" % LOGIN)
        assert code == 250
        s.docmd("RCPT", "TO:<bob@example.net>")
        code, reply = s.data(MSG)
        assert code == 250, reply
        qid = queued_id(reply.decode())
    finally:
        s.quit()
    out = show(tm, qid)
    assert re.search(r"Received: by \S+ \(postern\) with ESMTPA id %s;" % qid, out), out
    assert "using TLS" not in out


@pytest.mark.parametrize("kind", ["starttls", "tls"])
def test_swaks(tm, kind):
    port = tm.starttls if kind == "starttls" else tm.tls
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port,
                        "--tls" if kind == "starttls" else "--tlsc",
                        "--auth", "PLAIN", "--auth-user", LOGIN, "--auth-password", PASSWORD,
                        "--from", LOGIN, "--to", "bob@example.net",
                        "--h-From", "<%s>" % LOGIN, "--timeout", "20"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert re.search(r"TLS started with cipher TLSv1\.3", out), out
    assert_esmtpsa(show(tm, queued_id(out)))


def test_auth_before_starttls_refused(tm):
    s = connect(tm.starttls)
    try:
        assert read_reply(s).startswith("220 ")
        s.sendall(b"EHLO client.example\r\n")
        ehlo = read_reply(s)
        assert "STARTTLS" in ehlo and "AUTH" not in ehlo
        resp = base64.b64encode(("\0%s\0%s" % (LOGIN, PASSWORD)).encode())
        s.sendall(b"AUTH PLAIN " + resp + b"\r\n")
        assert read_reply(s).startswith("530 5.7.0"), "AUTH accepted before TLS"
        s.sendall(b"MAIL FROM:<%s>\r\n" % LOGIN.encode())
        assert read_reply(s).startswith("530 ")
        s.sendall(b"QUIT\r\n")
        assert read_reply(s).startswith("221 ")
    finally:
        s.close()


def pids_of_next_session(t, mark):
    m = t.m.wait_for(r"event=connect session=([a-z2-7]+) .* pid=(\d+) tlsd_pid=(\d+)",
                     start=mark)
    return m.group(1), int(m.group(2)), int(m.group(3))


def gone(pid, timeout=10.0):
    """1 once pid no longer exists (reaped by the master)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("kind", ["starttls", "tls"])
def test_killing_tlsd_ends_smtpd(tm, kind):
    mark = tm.m.mark()
    s = connect(tm.starttls if kind == "starttls" else tm.tls)
    try:
        sid, smtpd, tlsd = pids_of_next_session(tm, mark)
        if kind == "starttls":
            assert read_reply(s).startswith("220 ")
        os.kill(tlsd, signal.SIGKILL)
        tm.m.wait_for(r"event=tlsd-end session=%s signal=SIGKILL" % sid, start=mark)
        tm.m.wait_for(r"event=session-end session=%s " % sid, start=mark)
        assert gone(smtpd), "smtpd outlived its tlsd"
        assert s.recv(100) == b""
    finally:
        s.close()


def test_killing_smtpd_ends_tlsd(tm):
    mark = tm.m.mark()
    s = connect(tm.starttls)
    try:
        sid, smtpd, tlsd = pids_of_next_session(tm, mark)
        assert read_reply(s).startswith("220 ")
        os.kill(smtpd, signal.SIGKILL)
        m = tm.m.wait_for(r"event=tlsd-end session=%s (\S+)" % sid, start=mark)
        end = tm.m.wait_for(r"event=session-end session=%s signal=SIGKILL" % sid, start=mark)
        assert gone(tlsd), "tlsd outlived its smtpd"
        # The session ended only after tlsd's end was logged.
        lines = tm.m.lines()[mark:]
        i_t = next(i for i, l in enumerate(lines) if "event=tlsd-end session=%s" % sid in l)
        i_s = next(i for i, l in enumerate(lines) if "event=session-end session=%s" % sid in l)
        assert i_t < i_s
        assert m and end
        assert s.recv(100) == b""
    finally:
        s.close()


def test_probe_tlsd_is_a_sandbox_violation(tmp_path, setup_dir):
    libexec = os.path.join(BUILD, "probe-open", "bin")
    assert os.path.exists(os.path.join(libexec, "postern-tlsd")), \
        "probe build missing (make probes)"
    t = TlsMaster(tmp_path, setup_dir, libexec=libexec)
    with t.m:
        mark = t.m.mark()
        s = connect(t.tls)
        try:
            sid, _, _ = pids_of_next_session(t, mark)
            t.m.wait_for(r"event=sandbox-violation session=%s role=tlsd signal=SIGSYS" % sid,
                         start=mark)
            t.m.wait_for(r"event=tlsd-end session=%s signal=SIGSYS" % sid, start=mark)
            t.m.wait_for(r"event=session-end session=%s " % sid, start=mark)
        finally:
            s.close()


def test_group_writable_program_refused(tmp_path, setup_dir):
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    for name in ("postern-smtpd", "postern-tlsd"):
        shutil.copy(os.path.join(BIN, name), str(libexec / name))
    os.chmod(str(libexec / "postern-tlsd"), 0o775)
    conf = tmp_path / "conf"
    t = TlsMaster(conf, setup_dir, libexec=str(libexec))
    rc, err = run_check(t.confdir, "-t")
    assert rc == 1, err
    assert "postern-tlsd: writable by group or other" in err, err
    # A directory in the chain that others can write is refused too.
    os.chmod(str(libexec / "postern-tlsd"), 0o755)
    os.chmod(str(libexec), 0o777)
    rc, err = run_check(t.confdir, "-t")
    assert rc == 1 and "writable by group or other" in err and str(libexec) in err, err
    os.chmod(str(libexec), 0o755)
    rc, err = run_check(t.confdir, "-t")
    assert rc == 0, err


def test_tlsd_required_only_with_tls_listeners(tmp_path, setup_dir):
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    shutil.copy(os.path.join(BIN, "postern-smtpd"), str(libexec / "postern-smtpd"))
    conf = tmp_path / "conf"
    t = TlsMaster(conf, setup_dir, libexec=str(libexec))
    rc, err = run_check(t.confdir, "-t")
    assert rc == 1 and "postern-tlsd" in err, err
    write_conf(conf, setup_dir, free_port(), libexec=str(libexec))
    rc, err = run_check(conf, "-t")
    assert rc == 0, err
