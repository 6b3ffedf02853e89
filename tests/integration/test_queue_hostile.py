"""postern-queued against a hostile (compromised) postern-smtpd, with this
test as its master (queue_harness): a session that floods requests and
never reads its replies must not stall the others (invariant 6), and
queued refuses a message that smtpd should have refused (bare CR, bare
LF, NUL, in the header section or the body, however the `chunk` frames
cut it; a last line without CRLF) instead of trusting smtpd's DATA
checks.  Root only."""
import os
import socket
import threading
import time

import pytest

import queue_harness as h
from queue_harness import files, qdir  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN = "alice@example.org"
MSG = b"From: Alice <alice@example.org>\r\nSubject: test\r\n\r\nHello.\r\n"


def flood(sess, stop, count=2000):
    """Send `rset` frames and never read a reply, until queued closes
    the session, stop is set, or count frames went out."""
    sess.sock.settimeout(0.2)
    for _ in range(count):
        if stop.is_set():
            return
        try:
            sess.sock.send(h.frame("rset"))
        except (socket.timeout, BlockingIOError):
            continue
        except OSError:
            return


def test_session_that_never_reads_replies_does_not_stall_others(qdir):
    # Before: queued waited up to 2 s in a blocking send for each flooding
    # session whose receive queue was full; three of them held every
    # other session (and the group commit) for about 6 s.
    with h.Queued(qdir) as qd:
        stop = threading.Event()
        floods = [qd.session() for _ in range(3)]
        threads = [threading.Thread(target=flood, args=(a, stop), daemon=True) for a in floods]
        for t in threads:
            t.start()
        time.sleep(0.3)   # the floods' reply queues are full by now
        b = qd.session()
        t0 = time.monotonic()
        r = b.submit(LOGIN, LOGIN, ["x@example.net"], MSG)
        elapsed = time.monotonic() - t0
        assert r[-1][0] == 250 and "queued as" in r[-1][1], r
        assert elapsed < 1.0, "session B took %.2f s behind the floods" % elapsed
        # a second transaction right away is just as quick
        t0 = time.monotonic()
        assert b.submit(LOGIN, LOGIN, ["y@example.net"], MSG)[-1][0] == 250
        assert time.monotonic() - t0 < 1.0
        # each flooding session is closed once its pending reply is past
        # its deadline (2 s), not served forever
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and \
                sum("reason=reply-timeout" in l for l in list(qd.lines)) < len(floods):
            time.sleep(0.05)
        assert sum("reason=reply-timeout" in l for l in list(qd.lines)) == len(floods), qd.log()
        stop.set()
        for t in threads:
            t.join(timeout=10)
            assert not t.is_alive()
        for a in floods:
            a.sock.settimeout(5)
            for _ in range(100000):   # the replies queued before it stopped reading
                pkt = a.sock.recv(1000)
                if not pkt:
                    break
            assert pkt == b"", "flooding session still open"
        assert qd.proc.poll() is None
        assert len(files(qdir, "new")) == 2


@pytest.mark.parametrize("header", [
    b"Subject: x\nFrom: victim@example.org\r\nFrom: alice@example.org\r\n",
    b"From: alice@example.org\r\nSubject: x\rFrom: victim@example.org\r\n",
    b"From: alice@example.org\r\nSubject: x\0y\r\n",
    b"From: alice@example.org\r\nSubject: x\n\r\n",
])
def test_bare_cr_lf_or_nul_in_header_refused_at_end(qdir, header):
    # smtpd refuses these in DATA, but queued must not trust that: the raw
    # chunk goes straight to queued here, as a compromised smtpd would send it.
    with h.Queued(qdir) as qd:
        s = qd.session()
        r = s.submit(LOGIN, LOGIN, ["x@example.net"], header + b"\r\nbody\r\n")
        assert r[-1][0] == 550 and r[-1][1].startswith("5.6.0"), r
        qd.wait_log(r"event=refused .*reason=(bare-cr-lf|nul)")
        assert files(qdir, "new") == [] and files(qdir, "env") == []
        assert files(qdir, "tmp") == []
        # the session goes on; a clean message is queued
        ok = s.submit(LOGIN, LOGIN, ["x@example.net"], MSG)
        assert ok[-1][0] == 250, ok
        assert len(files(qdir, "new")) == 1


# ---- the envelope grammar (lib/mailbox.h, lib/dsnparam.h) in queued


def test_every_address_smtpd_accepts_is_accepted_by_queued(qdir):
    # Before: queued closed the session on a quoted local part with a
    # space, which smtpd accepts (RFC 5321 §4.1.2), and the client got
    # "451 4.3.0 Queue unavailable".
    rcpts = ['"a b"@example.net', 'x@[192.0.2.1]', 'y@[IPv6:2001:db8::1]', "PostMaster",
             "z@" + ".".join(["d" * 62] * 4)[:250].rstrip(".")]
    with h.Queued(qdir) as qd:
        s = qd.session()
        r = s.submit(LOGIN, LOGIN, rcpts, MSG)
        assert r[-1][0] == 250 and "queued as" in r[-1][1], r
        assert qd.proc.poll() is None


@pytest.mark.parametrize("verb,fields", [
    ("rcpt", ("a b@example.net", "", "")),                    # space outside quotes
    ("rcpt", ("a@example.net>", "", "")),                     # could end the command
    ("rcpt", ("a@[x-tag:y]", "", "")),                        # general literal
    ("rcpt", ("\xc3\xa9@example.net", "", "")),               # UTF-8 without SMTPUTF8
    ("rcpt", ("a@" + "d" * 64 + ".net", "", "")),             # label over 63
    ("rcpt", ("a@example.net", "SUCCESS," * 8 + "DELAY", "")),  # NOTIFY over the grammar
    ("rcpt", ("a@example.net", "NEVER,DELAY", "")),
    ("rcpt", ("a@example.net", "", "rfc822;" + "o" * 494)),  # ORCPT over 500 octets
    ("mail", ("+41" * 101,)),                                 # ENVID over 100 decoded
    ("mail", ("a b",)),                                       # ENVID not xtext
])
def test_envelope_field_outside_the_grammar_closes_the_session(qdir, verb, fields):
    # What smtpd would never send can only come from a compromised smtpd:
    # queued closes that session (fail closed) and stores nothing.
    with h.Queued(qdir) as qd:
        s = qd.session()
        if verb == "mail":
            tk = h.ticket(s.sid, LOGIN)
            s.send("mail", tk, LOGIN, 0, "7bit", "0", "", fields[0])
        else:
            assert s.mail(LOGIN, LOGIN)[0] == 250
            s.send("rcpt", *fields)
        assert s.reply() is None, "session not closed"
        assert qd.proc.poll() is None
        assert files(qdir, "new") == [] and files(qdir, "env") == []
        # another session goes on
        ok = qd.session().submit(LOGIN, LOGIN, ["x@example.net"], MSG)
        assert ok[-1][0] == 250, ok


HDR = b"From: alice@example.org\r\nSubject: x\r\n\r\n"


def data_in_chunks(s, chunks, rcpt="x@example.net"):
    """mail, rcpt, data, one `chunk` frame per item of chunks, end: the
    reply to `end`."""
    assert s.mail(LOGIN, LOGIN)[0] == 250
    assert s.req("rcpt", rcpt, "", "")[0] == 250
    assert s.req("data")[0] == 354
    for c in chunks:
        s.send("chunk", c)
    return s.req("end")


@pytest.mark.parametrize("chunks,reason,text", [
    # <CR>.<CR><LF>: the lenient terminator, the CR ending one chunk
    ([HDR + b"Hello.\r\n\r", b".\r\nMAIL FROM:<x@evil.example>\r\n"],
     "bare-cr-lf", "5.6.0 Bare CR or LF in message"),
    ([HDR + b"Hello.\r", b".\r", b"\nmore\r\n"], "bare-cr-lf", "5.6.0 Bare CR or LF in message"),
    # a bare LF at the start of a chunk, after a line that is not ended
    ([HDR + b"Hello.", b"\n.\r\n"], "bare-cr-lf", "5.6.0 Bare CR or LF in message"),
    # an LF after the CRLF that ended the previous chunk
    ([HDR + b"Hello.\r\n", b"\n"], "bare-cr-lf", "5.6.0 Bare CR or LF in message"),
    ([HDR + b"Hello", b"\0", b"world\r\n"], "nul", "5.6.0 NUL byte in message"),
    ([HDR + b"last line without CRLF"], "no-final-crlf", "5.6.0 Message does not end with CRLF"),
    ([HDR + b"Hello.\r\n\r"], "bare-cr-lf", "5.6.0 Bare CR or LF in message"),
])
def test_bare_cr_lf_or_nul_in_body_refused_across_chunks(qdir, chunks, reason, text):
    # Before, only the header section was checked: these were queued and
    # postern-deliver would have sent the <CR>.<CR><LF> on unchanged.
    with h.Queued(qdir) as qd:
        s = qd.session()
        r = data_in_chunks(s, chunks)
        assert r[0] == 550 and r[1].startswith(text), r
        qd.wait_log(r"event=refused .*reason=%s" % reason)
        for sub in ("new", "env", "tmp"):
            assert files(qdir, sub) == [], sub
        # the session goes on
        ok = data_in_chunks(s, [MSG])
        assert ok[0] == 250, ok
        assert len(files(qdir, "new")) == 1


def test_crlf_split_across_chunks_is_clean(qdir):
    # smtpd cuts its chunks at 32768 bytes wherever that falls, so a CRLF
    # may be split; an empty message (no chunk at all) is only refused for
    # its missing From: field, never for its line ends.
    with h.Queued(qdir) as qd:
        s = qd.session()
        chunks = [HDR + b"line one\r", b"\n", b".\r", b"\nline three\r", b"\n"]
        r = data_in_chunks(s, chunks)
        assert r[0] == 250, (r, qd.log())
        qid = r[1].rsplit(" ", 1)[1]
        with open(os.path.join(str(qdir), "new", qid), "rb") as f:
            assert f.read() == b"".join(chunks)
        r = data_in_chunks(s, [])
        assert r == (550, "5.6.0 Message has no From: header field"), r
    with h.Queued(qdir, args=["-H", "0"]) as qd:
        r = data_in_chunks(qd.session(), [])
        assert r[0] == 250, (r, qd.log())
