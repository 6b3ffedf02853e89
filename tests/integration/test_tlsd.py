"""postern-tlsd in front of postern-smtpd, driven directly (tlsd_harness):
STARTTLS on a starttls listener and implicit TLS on a tls listener with
real clients (Python smtplib/ssl, swaks, openssl s_client), RSA and
ECDSA certificates, STARTTLS injection, AUTH only after TLS, version
floor, handshake deadline, tickets (TLS 1.3 only), the facts frame and
its ack (no ack: the session ends, nothing relayed), the
sandbox (own uid, own filter, probe builds), and key isolation (the key's
bytes are in tlsd's memory and never in smtpd's)."""
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time
import warnings

import pytest

from conftest import process_memory, prog
from smtpd_harness import frame
from tlsd_harness import ROOT, TLSD_UID, TlsSession, make_cert, ticket_key

BIG = {"-z": "10000000"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tlsd-certs"))
    return {"rsa": make_cert(d, "rsa"), "ecdsa": make_cert(d, "ecdsa")}


def client_ctx(maxv=None, minv=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Setting TLS 1.0/1.1 on purpose (to see them refused) is deprecated
    # in Python's ssl module; the warning is expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if maxv:
            ctx.maximum_version = maxv
        if minv:
            ctx.minimum_version = minv
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def submit(s, t, body="Subject: t\r\n\r\nhello\r\n"):
    t.auth.push(frame("ok", "TICKET-1"))
    assert s.login("user", "pw")[0] == 235
    assert s.sendmail("a@example.org", ["b@example.org"], body) == {}


# ----------------------------------------------------------- submission

@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_starttls_smtplib_submits(certs, kind):
    with TlsSession("starttls", [certs[kind]], smtpd_args=BIG) as t:
        s = smtplib.SMTP("127.0.0.1", t.port, timeout=10)
        code, text = s.ehlo()
        assert b"STARTTLS" in text and b"AUTH" not in text
        assert s.docmd("AUTH", "PLAIN AHVzZXIAcGFzcw==")[0] == 530
        assert s.starttls(context=client_ctx())[0] == 220
        assert s.sock.getpeercert(binary_form=True) == der_of(certs[kind][0])
        code, text = s.ehlo()
        assert b"AUTH PLAIN LOGIN" in text and b"STARTTLS" not in text
        assert s.docmd("STARTTLS")[0] == 503
        submit(s, t, "Subject: big\r\n\r\n" + ("0123456789abcdef" * 40 + "\r\n") * 1000)
        s.quit()
        assert t.wait() == (0, 0)
        assert t.facts == [[b"tls", b"TLSv1.3", t.facts[0][2]]]
        assert len(t.queue.data()) > 640000
        assert t.tlsd_log(r"event=tls version=TLSv1\.3 ")
        assert t.smtpd_log(r"event=starttls version=TLSv1\.3 ")


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_implicit_tls_smtp_ssl_submits(certs, kind):
    with TlsSession("tls", [certs[kind]]) as t:
        s = smtplib.SMTP_SSL("127.0.0.1", t.port, timeout=10, context=client_ctx())
        assert s.sock.getpeercert(binary_form=True) == der_of(certs[kind][0])
        code, text = s.ehlo()
        assert b"AUTH PLAIN LOGIN" in text and b"STARTTLS" not in text
        assert s.docmd("STARTTLS")[0] == 503
        submit(s, t)
        s.quit()
        assert t.wait() == (0, 0)
        assert t.facts[0][:2] == [b"tls", b"TLSv1.3"]


def test_rsa_and_ecdsa_at_once(certs):
    for ciphers, kind in (("ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa"),
                          ("ECDHE-RSA-AES128-GCM-SHA256", "rsa")):
        with TlsSession("tls", [certs["rsa"], certs["ecdsa"]]) as t:
            ctx = client_ctx(maxv=ssl.TLSVersion.TLSv1_2, ciphers=ciphers)
            s = smtplib.SMTP_SSL("127.0.0.1", t.port, timeout=10, context=ctx)
            assert s.sock.getpeercert(binary_form=True) == der_of(certs[kind][0])
            assert s.sock.version() == "TLSv1.2"
            s.quit()
            assert t.wait() == (0, 0)
            assert t.facts == [[b"tls", b"TLSv1.2", ciphers.encode()]]


def test_swaks_starttls_and_tls(certs):
    for mode, flag in (("starttls", "--tls"), ("tls", "--tlsc")):
        with TlsSession(mode, [certs["ecdsa"]]) as t:
            t.auth.push(frame("ok", "TICKET-1"))
            r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(t.port), flag,
                                "--auth", "PLAIN", "--auth-user", "u", "--auth-password", "p",
                                "--from", "a@example.org", "--to", "b@example.org",
                                "--timeout", "10"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            out = r.stdout.decode("latin-1")
            assert r.returncode == 0, out
            assert "250 2.0.0 Ok: queued as TESTQUEUEID" in out
            assert t.wait() == (0, 0)


def test_openssl_s_client_shows_certificate(certs):
    with TlsSession("starttls", [certs["rsa"]]) as t:
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % t.port,
                            "-starttls", "smtp", "-servername", "mail.example.org"],
                           input=b"QUIT\r\n", stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = r.stdout.decode("latin-1")
        assert "subject=CN = mail.example.org" in out
        with open(certs["rsa"][0]) as f:
            pem = f.read().strip()
        assert pem.splitlines()[1] in out


# ------------------------------------------------------------- injection

def raw_starttls(port, after):
    """Greet, EHLO, then STARTTLS plus `after` in one write; returns the
    TLS socket and the plaintext reply bytes seen before the handshake."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = c.makefile("rb")
    assert f.readline().startswith(b"220 ")
    c.sendall(b"EHLO x.example.org\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    c.sendall(b"STARTTLS\r\n" + after)
    line = f.readline()
    assert line == b"220 2.0.0 Ready to start TLS\r\n"
    s = client_ctx().wrap_socket(c)
    return s


def read_replies(s, wait=1.0):
    s.settimeout(wait)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ssl.SSLError):
        pass
    return buf


@pytest.mark.parametrize("after", [b"RSET\r\n", b"MAIL FROM:<evil@example.org>\r\n",
                                   b"EHLO evil\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n"])
def test_starttls_injection_never_executed(certs, after):
    with TlsSession("starttls", [certs["ecdsa"]]) as t:
        s = raw_starttls(t.port, after)
        s.sendall(b"NOOP\r\n")
        got = read_replies(s)
        # Exactly one reply to the first post-TLS command.
        assert got == b"250 2.0.0 Ok\r\n", got
        s.sendall(b"QUIT\r\n")
        assert read_replies(s).startswith(b"221 ")
        s.close()
        assert t.wait() == (0, 0)
        assert t.auth.frames == [] and t.queue.frames == []
        assert t.tlsd_log(r"starttls-discarded bytes=%d" % len(after)) or \
            t.smtpd_log(r"discarded=%d" % len(after))


def test_auth_refused_before_tls_and_starttls_refused_after_auth(certs):
    with TlsSession("starttls", [certs["ecdsa"]]) as t:
        s = smtplib.SMTP("127.0.0.1", t.port, timeout=10)
        s.ehlo()
        assert s.docmd("AUTH", "PLAIN AHVzZXIAcGFzcw==")[0] == 530
        assert s.docmd("MAIL", "FROM:<a@example.org>")[0] == 530
        s.starttls(context=client_ctx())
        s.ehlo()
        t.auth.push(frame("ok", "TICKET-1"))
        assert s.login("user", "pw")[0] == 235
        code, text = s.ehlo()
        assert b"STARTTLS" not in text
        assert s.docmd("STARTTLS")[0] == 503
        s.quit()


# ---------------------------------------------------------- TLS policy

@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_fail(certs, version):
    with TlsSession("tls", [certs["rsa"]]) as t:
        ctx = client_ctx(maxv=version, minv=version, ciphers="ALL:@SECLEVEL=0")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
            ctx.wrap_socket(c)
        assert t.wait()[0] == 1
        assert t.tlsd_log(r"event=tls-failed reason=handshake")
        assert t.facts == []


def test_tls13_minimum_refuses_tls12(certs):
    with TlsSession("tls", [certs["rsa"]], minv="1.3") as t:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
            client_ctx(maxv=ssl.TLSVersion.TLSv1_2).wrap_socket(c)
        assert t.wait()[0] == 1


def test_handshake_deadline(certs):
    with TlsSession("starttls", [certs["ecdsa"]], handshake=1) as t:
        c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        f = c.makefile("rb")
        f.readline()
        c.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220 ")
        start = time.time()
        assert c.recv(100) == b""        # cut off, no handshake sent
        assert time.time() - start < 4
        assert t.wait() == (1, 0)
        assert t.tlsd_log(r"event=tls-failed reason=timeout")
        assert t.smtpd_log(r"event=tls-failed reason=timeout")


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_no_facts_ack_fails_closed(certs, mode):
    # The master never acks the facts frame: after TLSFACTS_ACK_TIMEOUT_MS
    # tlsd gives up; smtpd never said a word over TLS, not even the
    # greeting (tls) or a reply to what was pipelined (starttls).
    with TlsSession(mode, [certs["ecdsa"]], ack=False) as t:
        c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        if mode == "starttls":
            f = c.makefile("rb")
            f.readline()
            c.sendall(b"STARTTLS\r\n")
            assert f.readline().startswith(b"220 ")
        s = client_ctx().wrap_socket(c)
        s.sendall(b"EHLO client.example\r\n")
        start = time.time()
        try:
            got = s.recv(100)
        except (ssl.SSLError, ConnectionError):
            got = b""
        assert got == b"", got
        assert 4 < time.time() - start < 9
        assert t.wait() == (1, 0)
        assert t.facts and t.facts[0][0] == b"tls"
        assert t.tlsd_log(r"event=error reason=facts-ack-timeout")
        if mode == "starttls":
            assert t.smtpd_log(r"event=tls-failed reason=facts")


def resume_once(port_of, maxv):
    """Connect twice with the first session; (version, reused)."""
    sess = None
    out = []
    for _ in range(2):
        t = port_of()
        with t:
            c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
            ctx_ = client_ctx(maxv=maxv)
            s = (CTX[0] if CTX else ctx_).wrap_socket(c, session=sess)
            s.recv(1000)                 # greeting; TLS 1.3 tickets come first
            sess = s.session
            out.append((s.version(), s.session_reused))
            s.sendall(b"QUIT\r\n")
            s.recv(1000)
            s.close()
    return out


CTX = []


def test_tls13_ticket_resumes_tls12_never(certs):
    keys = [ticket_key(7), ticket_key(9)]
    CTX[:] = [client_ctx()]
    r = resume_once(lambda: TlsSession("tls", [certs["ecdsa"]], keys=keys), None)
    assert r == [("TLSv1.3", False), ("TLSv1.3", True)]
    CTX[:] = [client_ctx(maxv=ssl.TLSVersion.TLSv1_2)]
    r = resume_once(lambda: TlsSession("tls", [certs["ecdsa"]], keys=keys), None)
    assert r == [("TLSv1.2", False), ("TLSv1.2", False)]
    CTX[:] = [client_ctx()]
    r = resume_once(lambda: TlsSession("tls", [certs["ecdsa"]]), None)
    assert r == [("TLSv1.3", False), ("TLSv1.3", False)]
    CTX[:] = []


# ------------------------------------------------------ sandbox and keys

def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def private_bytes(key_path):
    """The private scalar of an EC key (big-endian)."""
    out = subprocess.run(["openssl", "pkey", "-in", key_path, "-noout", "-text"],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    m = re.search(r"priv:\s*\n((?:\s+[0-9a-f:]+\n)+)", out)
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))[-32:]


@pytest.mark.skipif(not ROOT, reason="needs root for /proc/PID/mem of other uids")
def test_key_only_in_tlsd(certs):
    cert, key = certs["ecdsa"]
    scalar = private_bytes(key)
    with open(key, "rb") as f:
        pem = f.read()
    with TlsSession("starttls", [certs["ecdsa"]]) as t:
        s = smtplib.SMTP("127.0.0.1", t.port, timeout=10)
        s.starttls(context=client_ctx())
        s.ehlo()
        for pid in (t.smtpd_pid, t.tlsd_pid):
            fds = [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid)]
            assert key not in fds and cert not in fds, fds
        smem = process_memory(t.smtpd_pid)
        tmem = process_memory(t.tlsd_pid)
        assert len(smem) > 100000
        # Positive control: tlsd holds the scalar (OpenSSL's BIGNUM words
        # are little-endian on x86_64, so it may sit reversed).
        assert scalar in tmem or scalar[::-1] in tmem
        assert scalar not in smem and scalar[::-1] not in smem
        assert pem[40:80] not in smem
        s.quit()


@pytest.mark.skipif(not ROOT, reason="needs root for the uid change")
def test_tlsd_own_uid_and_filter(certs):
    with TlsSession("starttls", [certs["ecdsa"]]) as t:
        s = smtplib.SMTP("127.0.0.1", t.port, timeout=10)
        s.ehlo()
        st, ss = status_of(t.tlsd_pid), status_of(t.smtpd_pid)
        assert st["Uid"].split() == [str(TLSD_UID)] * 4
        assert ss["Uid"].split() == ["65534"] * 4
        assert st["Seccomp"].strip() == "2" and st["NoNewPrivs"].strip() == "1"
        own = int(status_of(os.getpid()).get("Seccomp_filters", "0"))
        assert int(st["Seccomp_filters"]) == own + 1
        assert os.readlink("/proc/%d/root" % t.tlsd_pid) != "/"
        s.quit()


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_tlsd_probe_build_dies_of_sigsys(certs, probe):
    binary = prog("postern-tlsd", build="probe-" + probe)
    assert os.path.exists(binary), "run `make probes` first: " + binary
    with TlsSession("starttls", [certs["ecdsa"]], tlsd_binary=binary) as t:
        c = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        assert t.wait()[0] == -signal.SIGSYS
        assert not t.tlsd_log("sandbox-probe-survived")
        c.close()


def test_bad_arguments_and_missing_keys_frame(certs):
    path = prog("postern-tlsd")
    r = subprocess.run([path, "-m", "starttls"], stderr=subprocess.PIPE, timeout=10)
    assert r.returncode == 111 and b"bad arguments" in r.stderr
