"""TLS through a real master, operational cases:

- the facts race: a client that pipelines EHLO + AUTH PLAIN in the same
  write right behind the handshake is always answered 235, never
  538 5.7.11 (the master acks tlsd's facts frame only after writing the
  `tls` frame to authd and queued, tlsd lets smtpd go on only after that
  ack, and authd drains its control socket before refusing; see
  lib/tlsfacts.h), on a starttls and a tls listener, 30 rounds each;
- both certificate pairs at once (RSA as tls_cert/tls_key, ECDSA as
  tls_cert2/tls_key2): a TLS 1.2 client offering only ECDHE-ECDSA suites
  gets the ECDSA certificate, one offering only ECDHE-RSA the RSA one;
- certificate reload: the files are replaced and SIGHUP sent; a session
  opened before keeps its certificate and completes a submission after the
  reload, a new session sees the new certificate, and the master logs the
  re-checked files.
"""
import base64
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import free_port, prog
from master_harness import Master, write_conf
from tlsd_harness import make_cert

CHEAP = ["--ops", "1", "--mem", "8192"]
LOGIN, PASSWORD = "carol@example.org", "carol tls pw"
MSG = ("From: %s\r\nTo: bob@example.net\r\nSubject: tls ops\r\n\r\nhello\r\n" % LOGIN)
ROUNDS = 30
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (role users, chroot)")


def add_user(confdir):
    p = subprocess.run([prog("postern-user"), "-c", str(confdir), "--password-stdin"]
                       + CHEAP + ["add", LOGIN], input=(PASSWORD + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout


def start_master(tmp_path, setup_dir, certs=None):
    """A master with starttls and tls listeners; certs replaces the
    setup's tls_cert/tls_key lines ("key = value" list)."""
    add_user(tmp_path)
    ports = {"plain": free_port(), "starttls": free_port(), "tls": free_port()}
    path = write_conf(tmp_path, setup_dir, ports["plain"], extra=[
        "listen = 127.0.0.1:%d starttls" % ports["starttls"],
        "listen = 127.0.0.1:%d tls" % ports["tls"],
    ])
    if certs:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if not l.startswith("tls_")]
        with open(path, "w") as f:
            f.write("\n".join(lines + list(certs)) + "\n")
    m = Master(tmp_path)
    m.start()
    m.wait_for(r"event=daemon-ready role=authd")
    m.wait_for(r"event=daemon-ready role=queued")
    return m, ports


def client_ctx(ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(ciphers)
    return ctx


class Lines:
    """Reply reader over a plain or TLS socket, every read bounded."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def reply(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        out = []
        while time.monotonic() < deadline:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                out.append(line.decode("latin-1"))
                if len(line) < 4 or line[3:4] != b"-":
                    return "\n".join(out)
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = self.sock.recv(4096)
            if not data:
                break
            self.buf += data
        raise AssertionError("no complete reply: %r %r" % (out, self.buf))


def handshake(kind, port, ctx):
    """Connect and get to TLS (STARTTLS on starttls, at once on tls);
    returns the TLS socket, its reader, and the greeting (tls) or None."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    if kind == "starttls":
        r = Lines(raw)
        assert r.reply().startswith("220 ")
        raw.sendall(b"EHLO client.example\r\nSTARTTLS\r\n")
        assert "STARTTLS" in r.reply()
        assert r.reply().startswith("220 ")
        assert r.buf == b""
    tls = ctx.wrap_socket(raw, server_hostname="mx.test.example")
    return tls, Lines(tls)


def auth_plain_line():
    return b"AUTH PLAIN " + base64.b64encode(("\0%s\0%s" % (LOGIN, PASSWORD)).encode()) + b"\r\n"


@pytest.mark.parametrize("kind", ["starttls", "tls"])
def test_auth_pipelined_behind_handshake_always_235(tmp_path, setup_dir, kind):
    m, ports = start_master(tmp_path, setup_dir)
    try:
        for i in range(ROUNDS):
            s, r = handshake(kind, ports[kind], client_ctx())
            try:
                # The first bytes after the handshake, in one write.
                s.sendall(b"EHLO client.example\r\n" + auth_plain_line())
                if kind == "tls":
                    assert r.reply().startswith("220 ")
                assert "AUTH" in r.reply()
                got = r.reply()
                assert got.startswith("235 "), "round %d: %s" % (i, got)
                s.sendall(b"QUIT\r\n")
                assert r.reply().startswith("221 ")
            except (AssertionError, OSError) as e:
                raise AssertionError("round %d: %r\n%s" % (i, e, m.log()[-4000:]))
            finally:
                s.close()
        assert "tls-required" not in m.log()
        assert "facts-ack" not in m.log()
    finally:
        m.kill()


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def peer_der(port, ctx):
    s, r = handshake("tls", port, ctx)
    try:
        d = s.getpeercert(binary_form=True)
        assert r.reply().startswith("220 ")
        s.sendall(b"QUIT\r\n")
        r.reply()
        return d, s.cipher()
    finally:
        s.close()


def test_rsa_and_ecdsa_pairs_chosen_by_client(tmp_path, setup_dir):
    certs = tmp_path / "certs"
    certs.mkdir()
    rsa = make_cert(str(certs), "rsa", cn="rsa.test.example")
    ec = make_cert(str(certs), "ecdsa", cn="ec.test.example")
    m, ports = start_master(tmp_path, setup_dir, certs=[
        "tls_cert = %s" % rsa[0], "tls_key = %s" % rsa[1],
        "tls_cert2 = %s" % ec[0], "tls_key2 = %s" % ec[1]])
    try:
        d, c = peer_der(ports["tls"], client_ctx("ECDHE-ECDSA-AES128-GCM-SHA256"))
        assert d == der(ec[0]) and c[1] == "TLSv1.2", c
        d, c = peer_der(ports["tls"], client_ctx("ECDHE-RSA-AES128-GCM-SHA256"))
        assert d == der(rsa[0]) and c[1] == "TLSv1.2", c
        # And a submission works over STARTTLS with each.
        for suite, cert in (("ECDHE-ECDSA-AES256-GCM-SHA384", ec[0]),
                            ("ECDHE-RSA-AES256-GCM-SHA384", rsa[0])):
            s = smtplib.SMTP("127.0.0.1", ports["starttls"], timeout=20)
            try:
                s.starttls(context=client_ctx(suite))
                assert s.sock.getpeercert(binary_form=True) == der(cert)
                s.login(LOGIN, PASSWORD)
                assert s.sendmail(LOGIN, ["bob@example.net"], MSG) == {}
            finally:
                s.quit()
    finally:
        m.kill()


def submit_on(s, r):
    """A whole submission on an authenticated-to-be TLS session."""
    s.sendall(b"EHLO client.example\r\n")
    assert "AUTH" in r.reply()
    s.sendall(auth_plain_line())
    assert r.reply().startswith("235 ")
    for cmd, code in ((b"MAIL FROM:<%s>" % LOGIN.encode(), "250"),
                      (b"RCPT TO:<bob@example.net>", "250"), (b"DATA", "354")):
        s.sendall(cmd + b"\r\n")
        got = r.reply()
        assert got.startswith(code), got
    s.sendall(MSG.encode() + b".\r\n")
    got = r.reply()
    assert got.startswith("250 "), got
    s.sendall(b"QUIT\r\n")
    assert r.reply().startswith("221 ")


def test_certificate_reload_on_sighup(tmp_path, setup_dir):
    certs = tmp_path / "certs"
    certs.mkdir()
    old = make_cert(str(certs), "ecdsa", cn="old.test.example")
    old_der = der(old[0])
    m, ports = start_master(tmp_path, setup_dir, certs=[
        "tls_cert = %s" % old[0], "tls_key = %s" % old[1]])
    try:
        m.wait_for(r"event=tls-files cert=%s " % re.escape(old[0]))
        early, r_early = handshake("starttls", ports["starttls"], client_ctx())
        assert early.getpeercert(binary_form=True) == old_der
        # Replace the files (new ones renamed over the old, as an ACME
        # client would) and reload.
        new_dir = tmp_path / "new"
        new_dir.mkdir()
        new = make_cert(str(new_dir), "ecdsa", cn="new.test.example")
        os.rename(new[1], old[1])
        os.rename(new[0], old[0])
        new_der = der(old[0])
        assert new_der != old_der
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=reload ", start=mark)
        m.wait_for(r"event=tls-files cert=%s " % re.escape(old[0]), start=mark)
        # A new session sees the new certificate...
        late, r_late = handshake("tls", ports["tls"], client_ctx())
        try:
            assert late.getpeercert(binary_form=True) == new_der
            assert r_late.reply().startswith("220 ")
            late.sendall(b"QUIT\r\n")
            r_late.reply()
        finally:
            late.close()
        # ... and the one opened before still works, on its old one.
        try:
            assert early.getpeercert(binary_form=True) == old_der
            submit_on(early, r_early)
        finally:
            early.close()
    finally:
        m.kill()


def test_reload_with_missing_key_is_logged(tmp_path, setup_dir):
    certs = tmp_path / "certs"
    certs.mkdir()
    pair = make_cert(str(certs), "ecdsa", cn="gone.test.example")
    m, ports = start_master(tmp_path, setup_dir, certs=[
        "tls_cert = %s" % pair[0], "tls_key = %s" % pair[1]])
    try:
        os.unlink(pair[1])
        mark = m.mark()
        m.signal(signal.SIGHUP)
        m.wait_for(r"event=tls-files-bad file=%s error=ENOENT" % re.escape(pair[1]),
                   start=mark)
    finally:
        m.kill()
