"""The walking skeleton end to end: `postern -c DIR` from postern-setup
(demo login demo@localhost / demo) with postern-authd and postern-queued
under the master's supervision.  Messages from smtplib and swaks land
byte-exact with their queue id in the reply; MAIL without AUTH is refused;
a senders table rebuilt with postern-table takes effect without restart.
The kill -9 loop over queued and smtpd is test_queue_kill9.py.  Root
only."""
import hashlib
import os
import smtplib
import subprocess

import pytest

from conftest import BIN, free_port, prog
from master_harness import Master

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN, PASSWORD = "demo@localhost", "demo"


@pytest.fixture
def inst(tmp_path):
    os.chmod(tmp_path, 0o755)
    d = tmp_path / "postern"
    port = free_port()
    subprocess.run([prog("postern-setup"), "--libexec", BIN, "--port", str(port), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with Master(d) as m:
        m.wait_for(r"event=daemon-ready role=queued")
        m.wait_for(r"event=daemon-ready role=authd")
        yield m, d, port


def files(d, sub):
    return sorted(os.listdir(os.path.join(str(d), "queue", sub)))


def send(port, sender, body, login=LOGIN):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.login(login, PASSWORD)
        code, msg = s.mail(sender)
        if code != 250:
            return code, msg.decode()
        s.rcpt("someone@example.net")
        code, msg = s.data(body)
        return code, msg.decode()


def test_smtplib_message_lands_byte_exact(inst):
    m, d, port = inst
    body = (b"From: demo@localhost\r\nTo: someone@example.net\r\nSubject: e2e\r\n\r\n"
            b"line one\r\n.starts with a dot\r\n" + (b"0123456789" * 7 + b"\r\n") * 800)
    code, text = send(port, LOGIN, body)
    assert code == 250 and "queued as " in text, text
    qid = text.rsplit(" ", 1)[1]
    with open(os.path.join(str(d), "queue", "new", qid), "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(body).digest()
    out = subprocess.run([prog("postern-queue"), "-c", str(d), "show", qid],
                         stdout=subprocess.PIPE, check=True, timeout=20).stdout.decode()
    assert "Received: by " in out and "id %s;" % qid in out and "user: demo@localhost" in out


def test_megabyte_of_998_octet_lines_some_starting_with_a_dot(inst):
    # RFC 5321 4.5.3.1.6 does not count the transparency dot: smtplib
    # stuffs the '.' lines to 1001 octets on the wire, and smtpd and queued
    # take the whole message (before: 550 5.6.0 Line too long).  The
    # message crosses many 32 KiB chunk frames, CRLFs split between them.
    lines = [(b"." if i % 3 == 0 else b"x") + b"%06d" % i + b"y" * 991 + b"\r\n"
             for i in range(1050)]
    body = b"From: demo@localhost\r\nSubject: long lines\r\n\r\n" + b"".join(lines)
    assert len(body) > 1 << 20 and all(len(l) == 1000 for l in lines)
    code, text = send(port=inst[2], sender=LOGIN, body=body)
    assert code == 250 and "queued as " in text, text
    qid = text.rsplit(" ", 1)[1]
    with open(os.path.join(str(inst[1]), "queue", "new", qid), "rb") as f:
        assert f.read() == body


def test_swaks_message_and_queue_list(inst):
    m, d, port = inst
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--auth", "PLAIN",
                        "--auth-user", LOGIN, "--auth-password", PASSWORD,
                        "--from", LOGIN, "--to", "x@example.net"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    qid = out.split("queued as ")[1].split()[0]
    lst = subprocess.run([prog("postern-queue"), "-c", str(d), "list"],
                         stdout=subprocess.PIPE, check=True, timeout=20).stdout.decode()
    assert qid in lst and "user=demo@localhost" in lst


def test_no_mail_without_auth_and_other_senders_refused(inst):
    m, d, port = inst
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.ehlo()
        assert s.mail("demo@localhost")[0] == 530
    code, _ = send(port, "boss@example.org", b"From: demo@localhost\r\n\r\nx\r\n")
    assert code == 553
    code, _ = send(port, LOGIN, b"From: boss@example.org\r\n\r\nx\r\n")
    assert code == 553
    assert files(d, "new") == [] and files(d, "tmp") == []


def test_senders_table_reload_without_restart(inst):
    m, d, port = inst
    assert send(port, "alias@example.org", b"From: demo@localhost\r\n\r\nx\r\n")[0] == 553
    src = os.path.join(str(d), "senders")
    with open(src, "w") as f:
        f.write("demo@localhost alias@example.org\n")
    subprocess.run([prog("postern-table"), "build", src], check=True, stdout=subprocess.PIPE)
    m.wait_for(r"postern-queued: event=table table=senders", timeout=15)
    code, text = send(port, "alias@example.org", b"From: alias@example.org\r\n\r\nx\r\n")
    assert code == 250, text
