"""Quotas that hold (queue/quota.h, queue/quota_state.c): parallel
sessions of one login share its quota because MAIL and RCPT reserve at
once; a transaction that ends without a message (RSET, a refused end, a
protocol error, a close in the middle of DATA) gives its reservation back;
the counters survive a kill -9 of postern-queued (the state file `quota`
in the queue directory) and a clean stop saves them exactly; a corrupt
state file closes the limits for the day.  Both with this test as
queued's master (queue_harness) and end to end under the real master with
smtplib (five authenticated sessions, then a kill -9 of queued).  Root
only.

The limits are per hour AND per day, so that a clock hour ending during a
test changes nothing; near midnight UTC a test first waits for the new day.
"""
import os
import signal
import smtplib
import subprocess
import time

import pytest

import queue_harness as h
from conftest import BIN, free_port, prog, wait_until
from master_harness import Master
from queue_harness import files, qdir  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN = "alice@example.org"
MSG = b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: q\r\n\r\nHi.\r\n"


def not_near_midnight():
    """Wait (at most ~2 min) until the UTC day has more than 2 minutes left."""
    wait_until(lambda: time.time() % 86400 < 86400 - 120, 130, "the next UTC day")


def quotas(qd, tmp_path, value):
    path = str(tmp_path / "quotas.cdb")
    h.build_cdb(path, [(LOGIN.encode(), value.encode())])
    qd.table("quotas", path)
    qd.wait_log(r"event=table table=quotas")


def finish(s, rcpt="x@example.net", data=MSG):
    """RCPT, DATA and the message on a session past MAIL; the last reply."""
    assert s.req("rcpt", rcpt, "", "")[0] == 250
    assert s.req("data")[0] == 354
    s.message(data)
    return s.req("end")


def opened(qd, n):
    """n sessions of LOGIN each answering MAIL: (sessions, codes)."""
    ss = [qd.session() for _ in range(n)]
    return ss, [s.mail(LOGIN, LOGIN)[0] for s in ss]


def test_parallel_sessions_share_the_quota(qdir, tmp_path):
    not_near_midnight()
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        ss, codes = opened(qd, 5)
        assert codes == [250, 250, 250, 450, 450]
        for s in ss[:3]:
            assert finish(s)[0] == 250
        assert len(files(qdir, "new")) == 3
        assert ss[3].mail(LOGIN, LOGIN) == (450, "4.7.1 Message quota exceeded, try again later")


def test_recipients_reserved_across_sessions(qdir, tmp_path):
    not_near_midnight()
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "recipients_per_hour=3 recipients_per_day=3")
        a, b = qd.session(), qd.session()
        assert a.mail(LOGIN, LOGIN)[0] == 250 and b.mail(LOGIN, LOGIN)[0] == 250
        assert a.req("rcpt", "r1@example.net", "", "")[0] == 250
        assert a.req("rcpt", "r2@example.net", "", "")[0] == 250
        assert b.req("rcpt", "r3@example.net", "", "")[0] == 250
        assert b.req("rcpt", "r4@example.net", "", "") == \
            (450, "4.7.1 Recipient quota exceeded, try again later")


def test_reservations_released_when_no_message_is_queued(qdir, tmp_path):
    not_near_midnight()
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=2 messages_per_day=2")
        (s1, s2), codes = opened(qd, 2)
        assert codes == [250, 250]
        s3 = qd.session()
        assert s3.mail(LOGIN, LOGIN)[0] == 450
        # RSET
        assert s1.req("rset")[0] == 250
        assert s3.mail(LOGIN, LOGIN)[0] == 250
        assert s1.mail(LOGIN, LOGIN)[0] == 450
        # the session closed in the middle of DATA
        assert s2.req("rcpt", "x@example.net", "", "")[0] == 250
        assert s2.req("data")[0] == 354
        s2.send("chunk", b"From: alice@example.org\r\n")
        wait_until(lambda: files(qdir, "tmp"), 10, "the message file in tmp/")
        s2.close()
        wait_until(lambda: not files(qdir, "tmp"), 10, "tmp/ emptied by the close")
        assert s1.mail(LOGIN, LOGIN)[0] == 250
        # a protocol error
        s3.send("nonsense")
        qd.wait_log(r"event=session-closed .*reason=protocol")
        s4 = qd.session()
        assert s4.mail(LOGIN, LOGIN)[0] == 250
        # an end refused (no From:)
        assert finish(s4, data=b"Subject: no from\r\n\r\nx\r\n")[0] == 550
        assert s4.mail(LOGIN, LOGIN)[0] == 250
        # both committed: the quota is spent
        assert finish(s1)[0] == 250 and finish(s4)[0] == 250
        assert qd.session().mail(LOGIN, LOGIN)[0] == 450


def test_counts_survive_kill9_and_clean_stop(qdir, tmp_path):
    not_near_midnight()
    qd = h.Queued(qdir)
    with qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        assert qd.session().submit(LOGIN, LOGIN, ["x@example.net"], MSG)[-1][0] == 250
    # qd.kill() above was a SIGKILL
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        ss, codes = opened(qd, 3)
        assert codes == [250, 250, 450]
        qd.wait_log(r"event=quota-state logins=1 limits_closed=0")
        assert ss[0].req("rset")[0] == 250      # reserved, saved, given back
        assert qd.stop() == 0                   # clean: exact counters saved
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        # only the committed message: the stop gave back the open
        # reservations and saved the exact count
        ss, codes = opened(qd, 3)
        assert codes == [250, 250, 450]


def test_kill9_charges_ahead_never_short(qdir, tmp_path):
    """A reservation given back just before a kill -9 may stay counted;
    one that was used always does."""
    not_near_midnight()
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        s = qd.session()
        assert s.mail(LOGIN, LOGIN)[0] == 250
        assert s.req("rset")[0] == 250
    with h.Queued(qdir) as qd:
        quotas(qd, tmp_path, "messages_per_hour=3 messages_per_day=3")
        assert opened(qd, 3)[1] == [250, 250, 450]


def test_corrupt_state_file_closes_limits_for_the_day(qdir, tmp_path):
    not_near_midnight()
    path = os.path.join(str(qdir), "quota")
    with open(path, "wb") as f:
        f.write(b"not a quota file, and long enough to be read " * 2)
    with h.Queued(qdir) as qd:
        qd.wait_log(r"event=quota-state-corrupt reason=magic "
                    r"action=limits-closed-until-day-end")
        assert qd.session().mail(LOGIN, LOGIN)[0] == 450
        # rewritten at once, so that a restart keeps the mark
        wait_until(lambda: open(path, "rb").read(8) == b"PQUOTA1\n", 10, "quota rewritten")
    with h.Queued(qdir) as qd:
        qd.wait_log(r"event=quota-state logins=\d+ limits_closed=1")
        assert qd.session().mail(LOGIN, LOGIN)[0] == 450


# ---- end to end: the real master, smtpd, authd and smtplib ----

PLOGIN, PASSWORD = "demo@localhost", "demo"
BODY = b"From: demo@localhost\r\nTo: x@example.net\r\nSubject: quota\r\n\r\nHi.\r\n"


def queued_pid(m):
    import re
    return int(re.findall(r"event=daemon-start role=queued pid=(\d+)", m.log())[-1])


def parallel_mails(port, n):
    """n authenticated smtplib sessions, all at MAIL before any DATA; each
    answered 250 goes on to send BODY.  (MAIL codes, DATA codes)."""
    clients = []
    try:
        for _ in range(n):
            c = smtplib.SMTP("127.0.0.1", port, timeout=20)
            clients.append(c)
            c.login(PLOGIN, PASSWORD)
        mails = [c.mail(PLOGIN)[0] for c in clients]
        datas = []
        for c, code in zip(clients, mails):
            if code == 250:
                assert c.rcpt("x@example.net")[0] == 250
                datas.append(c.data(BODY)[0])
        return mails, datas
    finally:
        for c in clients:
            c.quit()


def test_five_authenticated_sessions_then_kill9(tmp_path):
    not_near_midnight()
    os.chmod(str(tmp_path), 0o755)
    d = tmp_path / "postern"
    port = free_port()
    subprocess.run([prog("postern-setup"), "--libexec", BIN, "--port", str(port), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with open(str(d / "quotas"), "w") as f:
        f.write("%s messages_per_hour=3 messages_per_day=3\n" % PLOGIN)
    subprocess.run([prog("postern-table"), "build", str(d / "quotas")], check=True,
                   stdout=subprocess.PIPE)
    new = os.path.join(str(d), "queue", "new")
    with Master(d) as m:
        m.wait_for(r"event=daemon-ready role=queued")
        m.wait_for(r"event=daemon-ready role=authd")
        m.wait_for(r"event=table table=quotas")
        mails, datas = parallel_mails(port, 5)
        assert sorted(mails) == [250, 250, 250, 450, 450], mails
        assert datas == [250, 250, 250]
        assert len(os.listdir(new)) == 3

        mark = m.mark()
        os.kill(queued_pid(m), signal.SIGKILL)
        m.wait_for(r"event=daemon-exit role=queued .*signal=SIGKILL", start=mark)
        m.wait_for(r"event=daemon-ready role=queued", start=mark, timeout=20)
        m.wait_for(r"event=table table=quotas", start=mark)
        mails, datas = parallel_mails(port, 5)
        assert mails == [450] * 5 and datas == []
        assert len(os.listdir(new)) == 3
