"""Invariant 5 (keys stay put) for the password hashes, under a real
master (`postern -c DIR` from postern-setup, demo login plus a second one
added with postern-user): while a session is authenticated and has a
transaction open, neither postern-smtpd's nor postern-queued's writable
memory holds any users.cdb argon2id hash string (nor its salt or hash
part alone).  Positive control: the same scan finds the hash in
postern-authd's readable memory, so the scan can see it at all.

Not covered here: the auth MAC key.  A test cannot learn it without
reading it out of the master's (or authd's) /proc/PID/mem, which would be
testing the key by the means the invariant forbids; the ticket frames in
test_queue_daemon.py use a key the test chose instead.  Root only."""
import os
import smtplib
import subprocess

import pytest

from conftest import BIN, free_port, proc_table, process_memory, prog
from master_harness import Master

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for /proc/PID/mem")

LOGIN, PASSWORD = "demo@localhost", "demo"


def children(pid):
    """{comm: [pid]} of the direct children of pid."""
    out = {}
    for p, (comm, _, ppid) in proc_table().items():
        if ppid == pid:
            out.setdefault(comm, []).append(p)
    return out


def user_hashes(cdb_path):
    """Every argon2id hash string in users.cdb (cdb -d: +klen,dlen:k->d)."""
    out = subprocess.run(["cdb", "-d", cdb_path], stdout=subprocess.PIPE, check=True).stdout
    hashes = [h for h in
              (line.split(b"->", 1)[1] for line in out.splitlines() if b"->" in line)
              if h.startswith(b"$argon2id$")]
    return hashes


def needles(h):
    """The string, and its salt and hash parts alone (base64, >= 16 chars)."""
    parts = [p for p in h.split(b"$") if len(p) >= 16]
    return [h] + parts


@pytest.fixture
def inst(tmp_path):
    os.chmod(tmp_path, 0o755)
    d = tmp_path / "postern"
    port = free_port()
    subprocess.run([prog("postern-setup"), "--libexec", BIN, "--port", str(port), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    p = subprocess.run([prog("postern-user"), "-c", str(d), "--password-stdin", "add",
                        "bob@localhost"], input=b"bobs-secret-pw\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout
    with Master(d) as m:
        m.wait_for(r"event=daemon-ready role=queued")
        m.wait_for(r"event=daemon-ready role=authd")
        yield m, d, port


def test_password_hashes_only_in_authd(inst):
    m, d, port = inst
    hashes = user_hashes(os.path.join(str(d), "users.cdb"))
    assert len(hashes) == 2, hashes
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.login(LOGIN, PASSWORD)
        assert s.mail(LOGIN)[0] == 250
        assert s.rcpt("someone@example.net")[0] == 250
        # one message committed, the next transaction left open
        assert s.data(b"From: demo@localhost\r\n\r\nx\r\n")[0] == 250
        assert s.mail(LOGIN)[0] == 250
        kids = children(m.proc.pid)
        assert len(kids.get("postern-smtpd", [])) == 1, kids
        smtpd = kids["postern-smtpd"][0]
        queued = kids["postern-queued"][0]
        authd = kids["postern-authd"][0]
        smem, qmem = process_memory(smtpd), process_memory(queued)
        amem = process_memory(authd, writable_only=False)
        assert len(smem) > 50000 and len(qmem) > 50000
        # positive control: authd, which verified one, holds the hashes
        assert any(n in amem for n in needles(hashes[0]) + needles(hashes[1]))
        for h in hashes:
            for n in needles(h):
                assert n not in smem, "postern-smtpd holds %r" % n
                assert n not in qmem, "postern-queued holds %r" % n
        s.rset()
