"""postern-queued on its own, with this test as its master (queue_harness):
the durable landing of a message, identity and sender checks, quotas,
limits, hostile session frames, recovery, disk full, table reload, the
sandbox facts, and the admin tool.  Root only (chroot, uid drop)."""
import hashlib
import os
import subprocess
import tempfile
import time

import pytest

import queue_harness as h
from queue_harness import files, qdir  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN = "alice@example.org"
MSG = (b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
       b"Subject: test\r\n\r\nHello.\r\n..leading dot kept as sent\r\n")


def qid_of(reply):
    assert reply[0] == 250 and "queued as " in reply[1], reply
    return reply[1].rsplit(" ", 1)[1]


def test_message_lands_byte_exact_with_envelope(qdir):
    big = MSG + b"x" * 70000 + b"\r\n"
    with h.Queued(qdir) as qd:
        s = qd.session()
        r = s.submit(LOGIN, LOGIN, ["bob@example.net", "carol@example.com"], big)
        qid = qid_of(r[-1])
        path = os.path.join(str(qdir), "new", qid)
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(big).hexdigest()
        assert files(qdir, "env") == [qid]
        assert files(qdir, "tmp") == []
        st = os.stat(path)
        assert st.st_uid == h.queue_ids()[0] and (st.st_mode & 0o777) == 0o600
        rc, out, err = h.admin(qdir, "show", qid)
        assert rc == 0, err
        assert "sender: <alice@example.org>" in out
        assert "recipient: <bob@example.net>" in out
        assert "recipient: <carol@example.com>" in out
        assert "Received: by mx.test.example (postern) with ESMTPA id %s;" % qid in out
        assert "127.0.0.1" not in out.split("Received:")[1].split("From:")[0]
        assert "Message-ID: <%s." % qid in out and "\nDate: " in out
        assert "Hello." in out
        qd.wait_log(r"event=queued .*id=%s" % qid)


def test_existing_date_and_message_id_kept_and_ip_when_configured(qdir):
    msg = (b"From: alice@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"Message-ID: <x@y>\r\n\r\nbody\r\n")
    with h.Queued(qdir, ["-I", "1"]) as qd:
        qid = qid_of(qd.session().submit(LOGIN, LOGIN, ["b@example.net"], msg)[-1])
        out = h.admin(qdir, "show", qid)[1]
        hdr = out.split("Received:", 1)[1].split("From:", 1)[0]
        assert "from [127.0.0.1]" in hdr
        assert "Message-ID:" not in hdr and "Date:" not in hdr


def test_forged_replayed_and_other_session_tickets_refused(qdir):
    with h.Queued(qdir) as qd:
        a, b = qd.session(), qd.session()
        good_a = h.ticket(a.sid, LOGIN)
        # a's ticket replayed in session b
        assert b.mail(LOGIN, tk=good_a)[0] == 530
        # forged under another key
        assert a.mail(LOGIN, tk=h.ticket(a.sid, LOGIN, key=b"k" * 32))[0] == 530
        # login changed after the tag
        assert a.mail("mallory@example.org",
                      tk=good_a[:32] + b"mallory@example.org")[0] == 530
        assert a.mail(LOGIN, tk=b"")[0] == 530
        assert a.mail(LOGIN, tk=good_a)[0] == 250
        qd.wait_log(r"event=refused .*reason=bad-ticket")


def test_envelope_and_header_sender_checks(qdir, tmp_path):
    senders = str(tmp_path / "senders.cdb")
    h.build_cdb(senders, [(b"alice@example.org", b"alias@example.org, @alice.example")])
    with h.Queued(qdir) as qd:
        qd.table("senders", senders)
        qd.wait_log(r"event=table table=senders")
        s = qd.session()
        assert s.mail("bob@example.org", LOGIN)[0] == 553
        assert s.mail("alias@example.org", LOGIN)[0] == 250
        assert s.req("rset")[0] == 250
        assert s.mail("ANY@Alice.Example", LOGIN)[0] == 250
        assert s.req("rset")[0] == 250
        # header From: someone else -> 553 at end; nothing stays behind
        bad = b"From: Bob <bob@example.org>\r\n\r\nx\r\n"
        r = s.submit(LOGIN, LOGIN, ["x@example.net"], bad)
        assert r[-1][0] == 553, r
        bad = b"From: alice@example.org\r\nSender: eve@example.org\r\n\r\nx\r\n"
        assert s.submit(LOGIN, LOGIN, ["x@example.net"], bad)[-1][0] == 553
        nofrom = b"Subject: x\r\n\r\nx\r\n"
        assert s.submit(LOGIN, LOGIN, ["x@example.net"], nofrom)[-1][0] == 550
        ok = b"From: \"Alice, A.\" <alias@example.org>, x@alice.example\r\n\r\nx\r\n"
        qid_of(s.submit(LOGIN, "", ["x@example.net"], ok)[-1])
        assert len(files(qdir, "new")) == 1 and files(qdir, "tmp") == []


def folded_from_hiding(second):
    """A From: whose unfolded body has a comment ending exactly at byte
    16384, followed by `, second`: folded into lines under 1000 bytes, as
    smtpd would pass it.  A checker that looks at only the first 16 KiB of
    a field sees one allowed address and never sees `second`."""
    prefix = b" alice@example.org ("
    pad = 16384 - len(prefix) - 1
    lines, first = [], b"From:" + prefix
    while pad > 0:
        take = min(pad, 900)
        lines.append(first + b"a" * take)
        first, pad = b" ", pad - take - 1   # the folded line's leading SP
    lines[-1] += b")" + b", " + second
    return b"\r\n".join(lines) + b"\r\n\r\nx\r\n"


def test_long_from_cannot_hide_a_second_address(qdir):
    msg = folded_from_hiding(b"bob@example.org")
    with h.Queued(qdir) as qd:
        s = qd.session()
        assert s.submit(LOGIN, LOGIN, ["x@example.net"], msg)[-1][0] == 553
        ok = folded_from_hiding(b"alice@example.org")
        qid_of(s.submit(LOGIN, LOGIN, ["x@example.net"], ok)[-1])


def test_header_check_can_be_turned_off(qdir):
    with h.Queued(qdir, ["-H", "0"]) as qd:
        bad = b"From: Bob <bob@example.org>\r\n\r\nx\r\n"
        qid_of(qd.session().submit(LOGIN, LOGIN, ["x@example.net"], bad)[-1])


def test_hourly_quota_hits_one_user_only(qdir, tmp_path):
    quotas = str(tmp_path / "quotas.cdb")
    h.build_cdb(quotas, [(b"alice@example.org", b"messages_per_hour=2"),
                         (b"*", b"recipients_per_hour=3")])
    with h.Queued(qdir) as qd:
        qd.table("quotas", quotas)
        qd.wait_log(r"event=table table=quotas")
        s = qd.session()
        for _ in range(2):
            qid_of(s.submit(LOGIN, LOGIN, ["x@example.net"], MSG)[-1])
        assert s.mail(LOGIN, LOGIN) == (450, "4.7.1 Message quota exceeded, try again later")
        bob = qd.session()
        assert bob.mail("bob@example.org", "bob@example.org")[0] == 250
        for i in range(3):
            assert bob.req("rcpt", "r%d@example.net" % i, "", "")[0] == 250
        assert bob.req("rcpt", "r9@example.net", "", "")[0] == 450


def test_size_and_recipient_limits(qdir):
    with h.Queued(qdir, ["-z", "2048", "-n", "2"]) as qd:
        s = qd.session()
        assert s.mail(LOGIN, LOGIN, size=4096)[0] == 552
        assert s.mail(LOGIN, LOGIN)[0] == 250
        assert s.req("rcpt", "a@example.net", "", "")[0] == 250
        assert s.req("rcpt", "b@example.net", "", "")[0] == 250
        assert s.req("rcpt", "c@example.net", "", "")[0] == 452
        assert s.req("data")[0] == 354
        s.message(MSG + b"y" * 3000)
        assert s.req("end")[0] == 552
        assert files(qdir, "tmp") == [] and files(qdir, "new") == []


def test_abort_and_eof_leave_nothing(qdir):
    with h.Queued(qdir) as qd:
        s = qd.session()
        assert s.mail(LOGIN, LOGIN)[0] == 250
        assert s.req("rcpt", "a@example.net", "", "")[0] == 250
        assert s.req("data")[0] == 354
        s.message(MSG)
        s.send("abort", "bare-lf")
        assert s.req("rset")[0] == 250
        t = qd.session()
        t.mail(LOGIN, LOGIN)
        t.req("rcpt", "a@example.net", "", "")
        t.req("data")
        t.message(MSG)
        assert len(files(qdir, "tmp")) == 1
        t.close()
        deadline = time.monotonic() + 5
        while files(qdir, "tmp") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert files(qdir, "tmp") == [] and files(qdir, "new") == []


@pytest.mark.parametrize("garbage", [
    b"", b"garbage", b"5:hello,", h.frame("bogus"), h.frame("rcpt", "a@b", "", ""),
    h.frame("mail", "x"), h.frame("chunk", "x"), h.frame("end"), b"9999999999:x,",
    h.frame("data") + b"x",
])
def test_garbage_frame_closes_only_that_session(qdir, garbage):
    with h.Queued(qdir) as qd:
        good = qd.session()
        bad = qd.session()
        assert good.mail(LOGIN, LOGIN)[0] == 250
        bad.sock.send(garbage)
        bad.sock.settimeout(5)
        assert bad.sock.recv(100) == b""   # closed by queued, no reply
        assert good.req("rcpt", "x@example.net", "", "")[0] == 250
        assert good.req("data")[0] == 354
        good.message(MSG)
        qid_of(good.req("end"))
        assert qd.proc.poll() is None


def test_recovery_removes_orphans_and_keeps_complete(qdir):
    with h.Queued(qdir) as qd:
        keep = qid_of(qd.session().submit(LOGIN, LOGIN, ["x@example.net"], MSG)[-1])
    q = str(qdir)
    uid, gid = h.queue_ids()
    orphans = {"tmp": "aaaaaaaaaaaaaaaaaaaa", "new": "bbbbbbbbbbbbbbbbbbbb",
               "env": "cccccccccccccccccccc"}
    for sub, name in orphans.items():
        p = os.path.join(q, sub, name)
        with open(p, "wb") as f:
            f.write(b"partial")
        os.chown(p, uid, gid)
    with h.Queued(qdir) as qd:
        qd.wait_log(r"event=recovered kept=1 tmp_removed=1 message_removed=1 envelope_removed=1")
        for sub, name in orphans.items():
            assert name not in files(qdir, sub)
            qd.wait_log(r"event=recover-removed dir=%s file=%s" % (sub, name))
        assert files(qdir, "new") == [keep] and files(qdir, "env") == [keep]


def test_disk_full_gives_452_nothing_partial_then_recovers(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    os.chmod(tmp_path, 0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        q = mnt / "queue"
        uid, gid = h.queue_ids()
        h.make_queue_dir(str(q), uid, gid)
        with h.Queued(q) as qd:
            s = qd.session()
            huge = MSG + b"z" * (2 * 1024 * 1024)
            r = s.submit(LOGIN, LOGIN, ["x@example.net"], huge)
            assert r[-1][0] == 452 and r[-1][1].startswith("4.3.1"), r
            assert files(q, "tmp") == [] and files(q, "new") == [] and files(q, "env") == []
            qid_of(s.submit(LOGIN, LOGIN, ["x@example.net"], MSG)[-1])
        # queue_minfree refuses early, at MAIL
        with h.Queued(q, ["-f", str(2 * 1024 * 1024)]) as qd:
            assert qd.session().mail(LOGIN, LOGIN)[0] == 452
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_table_reload_switches_senders(qdir, tmp_path):
    t1, t2 = str(tmp_path / "s1.cdb"), str(tmp_path / "s2.cdb")
    h.build_cdb(t1, [(b"alice@example.org", b"old@example.org")])
    h.build_cdb(t2, [(b"alice@example.org", b"new@example.org")])
    with h.Queued(qdir) as qd:
        qd.table("senders", t1)
        s = qd.session()
        time.sleep(0.2)
        assert s.mail("old@example.org", LOGIN)[0] == 250
        assert s.req("rset")[0] == 250
        qd.table("senders", t2)
        time.sleep(0.2)
        assert s.mail("old@example.org", LOGIN)[0] == 553
        assert s.mail("new@example.org", LOGIN)[0] == 250


def test_sandbox_facts(qdir):
    with h.Queued(qdir) as qd:
        pid = qd.proc.pid
        # the shell exec'd queued in place: the pid is queued's
        st = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.strip()
        uid = h.queue_ids()[0]
        assert st["Uid"].split() == [str(uid)] * 4
        assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
        with open("/proc/self/status") as f:
            mine = [l for l in f if l.startswith("Seccomp_filters")]
        assert int(st["Seccomp_filters"]) >= 1
        if mine:
            assert int(st["Seccomp_filters"]) > int(mine[0].split(":")[1])
        assert os.readlink("/proc/%d/root" % pid) == str(qdir)


def test_admin_list_hold_release_delete_and_escaping(qdir):
    with h.Queued(qdir) as qd:
        s = qd.session()
        qid = qid_of(s.submit(LOGIN, LOGIN, ["x@example.net"],
                              b"From: alice@example.org\r\n\r\n\x1b[31mred\x07\r\n")[-1])
        rc, out, _ = h.admin(qdir, "list")
        assert rc == 0 and qid in out and " queued " in out
        out = h.admin(qdir, "show", qid)[1]
        assert "\x1b" not in out and "\\x1b[31mred\\x07" in out
        assert h.admin(qdir, "hold", qid)[0] == 0
        assert files(qdir, "hold") == [qid] and files(qdir, "new") == []
        assert " hold " in h.admin(qdir, "list")[1]
        assert h.admin(qdir, "release", qid)[0] == 0
        assert files(qdir, "new") == [qid]
        assert "queued=1" in h.admin(qdir, "stats")[1]
        assert h.admin(qdir, "delete", qid)[0] == 0
        assert files(qdir, "new") == [] and files(qdir, "env") == []
        rc, _, err = h.admin(qdir, "show", qid)
        assert rc == 1 and "no such message" in err
        assert h.admin(qdir, "show", "../../etc/passwd")[0] == 1
        qd.wait_log(r"event=admin action=delete id=%s" % qid)


def test_admin_refuses_other_users(qdir):
    with h.Queued(qdir):
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            h.prog("postern-queue"), "-q", str(qdir), "list"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        assert p.returncode != 0


def test_control_eof_stops_queued(qdir):
    qd = h.Queued(qdir)
    qd.start()
    try:
        assert qd.stop() == 0
    finally:
        qd.kill()
