"""The tlsd factory (smtpd/tlsd_factory.h, master/tlsfactory.h; DESIGN §1
"Memory"): one `postern-tlsd -F` per TLS listener mode, from which each
session's tlsd is forked instead of exec'd.

Shows, through a real master:
- each factory runs as postern-tls, chrooted, non-dumpable, with exactly one
  more seccomp filter than the master; a forked tlsd is the master's child
  (CLONE_PARENT), non-dumpable, with one filter more than its factory;
- two forked tlsds do not share OpenSSL's RNG state (their ServerHello
  randoms differ) and TLS 1.3 resumption works across them;
- a probe build: a forked tlsd that tries clone (the factory's one allowed
  call) or open is killed by SIGSYS, the master logs the violation and
  replaces the factory; the factory itself is killed by SIGSYS when it
  tries open;
- replacement after tls_factory_sessions children, on SIGHUP, and when the
  certificate file changes (the next client sees the new certificate);
- a factory killed from outside is restarted and sessions are served
  meanwhile by exec'd tlsds; tls_factory = no exec's every tlsd;
- a master killed with SIGKILL takes factories and forked tlsds with it.
"""
import hashlib
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BUILD, free_port
from master_harness import Master, proc_status, write_conf
from test_master_tls import client_ctx

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (role users, chroot)")


class FactoryMaster:
    """A master with a starttls and a tls listener (plus plain)."""

    def __init__(self, tmp_path, setup_dir, libexec=None, extra=None, certdir=None):
        self.plain, self.starttls, self.tls = free_port(), free_port(), free_port()
        path = write_conf(tmp_path, setup_dir, self.plain, libexec=libexec, extra=[
            "listen = 127.0.0.1:%d starttls" % self.starttls,
            "listen = 127.0.0.1:%d tls" % self.tls,
        ] + list(extra or []))
        if certdir is not None:
            text = open(path).read()
            tls = os.path.join(str(setup_dir), "tls")
            text = text.replace(os.path.join(tls, "cert.pem"), os.path.join(certdir, "cert.pem"))
            text = text.replace(os.path.join(tls, "key.pem"), os.path.join(certdir, "key.pem"))
            open(path, "w").write(text)
        self.m = Master(tmp_path)

    def __enter__(self):
        self.m.__enter__()
        return self

    def __exit__(self, *exc):
        return self.m.__exit__(*exc)


def factories_ready(t, mark=0, modes=("starttls", "tls")):
    """{mode: pid} once each mode's factory logged event=tls-factory-ready."""
    out = {}
    for mode in modes:
        m = t.m.wait_for(r"event=tls-factory-ready mode=%s pid=(\d+)" % mode, start=mark)
        out[mode] = int(m.group(1))
    return out


def tls_session(port, ctx=None, **kw):
    """An implicit-TLS SMTP session: (ssl socket, greeting)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = (ctx or client_ctx()).wrap_socket(raw, **kw)
    return s, read_tls_reply(s)


def read_tls_reply(s):
    buf = b""
    while not re.search(rb"(^|\r\n)\d{3} [^\r\n]*\r\n$", buf):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode("ascii", "replace")


def next_connect(t, mark):
    """(session id, smtpd pid, tlsd pid, tlsd_from) of the next session."""
    m = t.m.wait_for(r"event=connect session=([a-z2-7]+) .* pid=(\d+) tlsd_pid=(\d+) "
                     r"tlsd_from=(\w+)", start=mark)
    return m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)


def server_random(port):
    """The 32-byte random of the ServerHello postern's tls listener sends."""
    ctx = client_ctx()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(out.read())
        buf = b""
        deadline = time.monotonic() + 10
        while len(buf) < 5 + 4 + 2 + 32 and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    # record header (5): type 22 handshake; handshake header (4): type 2
    assert buf[0] == 22 and buf[5] == 2, buf[:16]
    return buf[5 + 4 + 2:5 + 4 + 2 + 32]


def wait_count(t, pattern, mark, n, timeout=10.0):
    """Wait until n log lines from mark on match pattern."""
    deadline = time.monotonic() + timeout
    while True:
        found = [l for l in t.m.lines()[mark:] if re.search(pattern, l)]
        if len(found) >= n:
            return found
        assert time.monotonic() < deadline, "only %d of %d %r" % (len(found), n, pattern)
        time.sleep(0.05)


def gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_factory_and_forked_tlsd_sandbox(tmp_path, setup_dir):
    tls_uid = pwd.getpwnam("postern-tls").pw_uid
    with FactoryMaster(tmp_path, setup_dir) as t:
        pids = factories_ready(t)
        mst = proc_status(t.m.proc.pid)
        for mode, pid in pids.items():
            st = proc_status(pid)
            assert st["Uid"].split() == [str(tls_uid)] * 4, st["Uid"]
            assert st["Seccomp"] == "2"
            assert int(st["Seccomp_filters"]) == int(mst["Seccomp_filters"]) + 1
            assert int(st["PPid"]) == t.m.proc.pid
            assert os.readlink("/proc/%d/root" % pid) == os.path.join(str(setup_dir), "empty")
            # non-dumpable: its /proc files belong to root although it is not root
            assert os.stat("/proc/%d/status" % pid).st_uid == 0
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            assert argv[:4] == [b"postern-tlsd", b"-F", b"-m", mode.encode()], argv
            assert sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % pid)) == [0, 1, 2, 3]
        mark = t.m.mark()
        s, greeting = tls_session(t.tls)
        with s:
            assert greeting.startswith("220 "), greeting
            sid, smtpd, tlsd, origin = next_connect(t, mark)
            assert origin == "factory"
            st = proc_status(tlsd)
            assert int(st["PPid"]) == t.m.proc.pid      # CLONE_PARENT
            assert st["Uid"].split() == [str(tls_uid)] * 4
            assert st["Seccomp"] == "2"
            fst = proc_status(pids["tls"])
            assert int(st["Seccomp_filters"]) == int(fst["Seccomp_filters"]) + 1
            assert os.stat("/proc/%d/status" % tlsd).st_uid == 0
            assert os.readlink("/proc/%d/root" % tlsd) == os.path.join(str(setup_dir), "empty")
            assert sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % tlsd)) == list(range(6))
            s.sendall(b"QUIT\r\n")
            assert read_tls_reply(s).startswith("221 ")
        t.m.wait_for(r"event=tlsd-end session=%s status=exit:0" % sid, start=mark)


def test_forked_tlsds_have_their_own_randomness_and_resume(tmp_path, setup_dir):
    with FactoryMaster(tmp_path, setup_dir) as t:
        factories_ready(t)
        mark = t.m.mark()
        randoms = [server_random(t.tls) for _ in range(4)]
        assert len(set(randoms)) == 4, [r.hex() for r in randoms]
        wait_count(t, r"event=tlsd-end ", mark, 4)
        origins = re.findall(r"event=connect .* tlsd_from=(\w+)", "\n".join(t.m.lines()[mark:]))
        assert origins == ["factory"] * 4, origins
        # TLS 1.3 resumption from one forked tlsd's ticket in another
        ctx = client_ctx()
        s, greeting = tls_session(t.tls, ctx)
        with s:
            s.sendall(b"NOOP\r\n")
            read_tls_reply(s)
            session = s.session
        assert session is not None and session.has_ticket
        s2, _ = tls_session(t.tls, ctx, session=session)
        with s2:
            assert s2.session_reused
        smtp = smtplib.SMTP("127.0.0.1", t.starttls, timeout=10)
        smtp.starttls(context=client_ctx())
        assert smtp.noop()[0] == 250
        smtp.quit()


@pytest.mark.parametrize("probe", ["fork", "open"])
def test_probe_forked_tlsd_is_killed_and_factory_replaced(tmp_path, setup_dir, probe):
    libexec = os.path.join(BUILD, "probe-%s" % probe, "bin")
    assert os.path.exists(os.path.join(libexec, "postern-tlsd")), "run `make probes`"
    with FactoryMaster(tmp_path, setup_dir, libexec=libexec) as t:
        pids = factories_ready(t)
        mark = t.m.mark()
        try:
            tls_session(t.tls)
        except (ssl.SSLError, OSError):
            pass
        sid, _, tlsd, origin = next_connect(t, mark)
        assert origin == "factory"
        t.m.wait_for(r"event=sandbox-violation session=%s role=tlsd signal=SIGSYS pid=%d"
                     % (sid, tlsd), start=mark)
        t.m.wait_for(r"event=tls-factory-replace mode=tls pid=%d .*reason=child-crash"
                     % pids["tls"], start=mark)
        if probe == "open":
            # the retired factory tries its probe at EOF: its own filter kills it
            t.m.wait_for(r"event=sandbox-violation role=tlsd-factory signal=SIGSYS pid=%d"
                         % pids["tls"], start=mark)
        else:
            t.m.wait_for(r"event=tls-factory-exit role=tlsd-factory pid=%d status=exit:0"
                         % pids["tls"], start=mark)
        m = t.m.wait_for(r"event=tls-factory-ready mode=tls pid=(\d+)", start=mark)
        assert int(m.group(1)) != pids["tls"]
        assert t.m.proc.poll() is None


def test_replaced_after_tls_factory_sessions(tmp_path, setup_dir):
    with FactoryMaster(tmp_path, setup_dir, extra=["tls_factory_sessions = 3"]) as t:
        first = factories_ready(t)["tls"]
        mark = t.m.mark()
        for i in range(7):
            s, greeting = tls_session(t.tls)
            with s:
                assert greeting.startswith("220 "), greeting
                s.sendall(b"QUIT\r\n")
                assert read_tls_reply(s).startswith("221 ")
        t.m.wait_for(r"event=tls-factory-replace mode=tls pid=%d forks=3 reason=sessions"
                     % first, start=mark)
        t.m.wait_for(r"event=tls-factory-exit role=tlsd-factory pid=%d status=exit:0" % first,
                     start=mark)
        starts = re.findall(r"event=tls-factory-start mode=tls pid=(\d+)",
                            "\n".join(t.m.lines()[mark:]))
        assert len(starts) >= 1 and str(first) not in starts
        assert "session-end" in t.m.log() and "signal=SIGSYS" not in t.m.log()


def test_sighup_and_certificate_change_replace_the_factory(tmp_path, setup_dir):
    certdir = str(tmp_path / "certs")
    os.makedirs(certdir)
    for name in ("cert.pem", "key.pem"):
        shutil.copy(os.path.join(str(setup_dir), "tls", name), certdir)
    with FactoryMaster(tmp_path, setup_dir, certdir=certdir) as t:
        first = factories_ready(t)["tls"]
        s, _ = tls_session(t.tls)
        with s:
            old = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
        mark = t.m.mark()
        t.m.signal(signal.SIGHUP)
        t.m.wait_for(r"event=tls-factory-replace mode=tls pid=%d .*reason=reload" % first,
                     start=mark)
        second = int(t.m.wait_for(r"event=tls-factory-ready mode=tls pid=(\d+)",
                                  start=mark).group(1))
        # a renewed certificate, written as certbot does (new files, rename)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                        "-subj", "/CN=renewed.test.example",
                        "-keyout", os.path.join(certdir, "key.new"),
                        "-out", os.path.join(certdir, "cert.new")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mark = t.m.mark()
        os.rename(os.path.join(certdir, "key.new"), os.path.join(certdir, "key.pem"))
        os.rename(os.path.join(certdir, "cert.new"), os.path.join(certdir, "cert.pem"))
        t.m.wait_for(r"event=tls-factory-replace mode=tls pid=%d .*reason=tls-files" % second,
                     start=mark)
        t.m.wait_for(r"event=tls-factory-ready mode=tls pid=(\d+)", start=mark)
        mark = t.m.mark()
        s, greeting = tls_session(t.tls)
        with s:
            assert greeting.startswith("220 ")
            new = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
        assert next_connect(t, mark)[3] == "factory"
        assert new != old


def test_killed_factory_restarts_and_sessions_go_on(tmp_path, setup_dir):
    with FactoryMaster(tmp_path, setup_dir) as t:
        first = factories_ready(t)["tls"]
        mark = t.m.mark()
        os.kill(first, signal.SIGKILL)
        t.m.wait_for(r"event=tls-factory-exit role=tlsd-factory pid=%d signal=SIGKILL" % first,
                     start=mark)
        # Served either way: by an exec'd tlsd during the 1 s backoff, or
        # (on a slow machine) already by the new factory, never the dead one.
        s, greeting = tls_session(t.tls)
        with s:
            assert greeting.startswith("220 ")
        assert next_connect(t, mark)[3] in ("exec", "factory")
        m = t.m.wait_for(r"event=tls-factory-ready mode=tls pid=(\d+)", start=mark)
        second = int(m.group(1))
        assert second != first
        mark = t.m.mark()
        s, greeting = tls_session(t.tls)
        with s:
            assert greeting.startswith("220 ")
        assert next_connect(t, mark)[3] == "factory"
        # the restart came after the 1 s backoff, so after the reaping
        lines = t.m.lines()
        died = next(i for i, l in enumerate(lines) if "tls-factory-exit" in l and
                    "pid=%d " % first in l)
        assert any("tls-factory-start mode=tls pid=%d" % second in l for l in lines[died:])


def test_failing_factory_is_restarted_with_backoff(tmp_path, setup_dir):
    """A factory that dies at start (here: a key that does not match the
    certificate) is restarted after 1 s, then 2 s, ...: no exec loop."""
    certdir = str(tmp_path / "certs")
    os.makedirs(certdir)
    shutil.copy(os.path.join(str(setup_dir), "tls", "cert.pem"), certdir)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", os.path.join(certdir, "key.pem")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with FactoryMaster(tmp_path, setup_dir, certdir=certdir) as t:
        t.m.wait_for(r"event=tls-factory-exit role=tlsd-factory pid=\d+ status=exit:111")
        time.sleep(3.5)
        starts = [l for l in t.m.lines() if "event=tls-factory-start mode=tls " in l]
        # t=0, ~1 s, ~3 s: at most 4 starts in those 3.5 s (an exec loop
        # would make hundreds), and at least 2 (it is retried)
        assert 2 <= len(starts) <= 4, starts
        assert "tls-factory-ready mode=tls" not in t.m.log()
        assert re.search(r"role=tlsd-factory postern-tlsd-factory: event=fatal reason=key ",
                         t.m.log()), t.m.log()


def test_tls_factory_off_execs_every_tlsd(tmp_path, setup_dir):
    with FactoryMaster(tmp_path, setup_dir, extra=["tls_factory = no"]) as t:
        t.m.wait_for(r"event=daemon-ready role=queued")
        mark = t.m.mark()
        s, greeting = tls_session(t.tls)
        with s:
            assert greeting.startswith("220 ")
        assert next_connect(t, mark)[3] == "exec"
        assert "tls-factory" not in t.m.log()


def test_master_sigkill_takes_factories_and_sessions(tmp_path, setup_dir):
    with FactoryMaster(tmp_path, setup_dir) as t:
        pids = factories_ready(t)
        mark = t.m.mark()
        s, greeting = tls_session(t.tls)
        with s:
            _, smtpd, tlsd, origin = next_connect(t, mark)
            assert origin == "factory"
            t.m.proc.kill()
            t.m.proc.wait(10)
            for pid in list(pids.values()) + [smtpd, tlsd]:
                assert gone(pid), "pid %d outlived the master" % pid
