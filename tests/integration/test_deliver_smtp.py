"""postern-deliver against recording SMTP servers on loopback (relay
routes "relay:127.0.0.1:PORT", so no DNS): byte-exact delivery of the
header block and the dot-stuffed message, several recipients in one
transaction, per-recipient results, 4xx, STARTTLS policies, AUTH, SIZE,
8BITMIME, SMTPUTF8, DSN parameters, batches, and queued closing the
channel while a job is out.  Root only (the worker chroots and drops to
postern-deliver)."""
import os
import select
import threading
import time

import pytest

import deliver_harness as h
from conftest import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

MSG = (b"From: alice@src.test\r\nTo: bob@dest.test\r\nSubject: hi\r\n\r\n"
       b"line one\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n")
HDR = b"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"


def relay(srv, opts=""):
    return ("relay:127.0.0.1:%d%s" % (srv.port, opts)).encode()


def test_byte_exact_several_recipients_one_transaction():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(1, [b"bob@dest.test", b"carol@dest.test"], MSG, route=relay(srv), header=HDR)
        res = d.results(1, 2)
        assert [res[i]["class"] for i in (0, 1)] == ["ok", "ok"], d.log()
        assert res[0]["code"] == 250 and res[0]["status"] == "2.0.0"
        assert len(srv.transactions) == 1
        t = srv.transactions[0]
        assert t["data"] == HDR + MSG
        # Stuffed on the wire: every line starting with '.' got one more.
        assert b"\r\n..starts with a dot\r\n...two dots\r\n..\r\n" in t["raw"]
        assert t["mail"].startswith(b"MAIL FROM:<alice@src.test>")
        assert [r.split(b">")[0] for r in t["rcpts"]] == [b"RCPT TO:<bob@dest.test",
                                                          b"RCPT TO:<carol@dest.test"]
        assert b"EHLO out.test.example\r\n" in srv.lines


def test_message_without_final_crlf_still_ends_with_crlf_dot_crlf():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(2, [b"bob@dest.test"], b"Subject: x\r\n\r\nno newline", route=relay(srv),
                   header=b"")
        assert d.results(2, 1)[0]["class"] == "ok"
        assert srv.transactions[0]["raw"] == b"Subject: x\r\n\r\nno newline\r\n"


def test_mixed_recipient_replies():
    def rcpt(a):
        return {"bad@dest.test": "550 5.1.1 no such user \x01\x7f",
                "later@dest.test": "451 4.2.1 try later"}.get(a, "250 ok")
    with h.SmtpServer(rcpt=rcpt) as srv, h.Deliver() as d:
        d.send_job(3, [b"bad@dest.test", b"good@dest.test", b"later@dest.test"], MSG,
                   route=relay(srv))
        res = d.results(3, 3)
        assert (res[0]["class"], res[0]["code"], res[0]["status"]) == ("perm", 550, "5.1.1")
        assert res[0]["text"] == b"5.1.1 no such user ??"     # sanitized
        assert (res[1]["class"], res[1]["code"]) == ("ok", 250)
        assert (res[2]["class"], res[2]["code"], res[2]["status"]) == ("temp", 451, "4.2.1")
        assert len(srv.transactions) == 1
        assert len(srv.transactions[0]["rcpts"]) == 1


def test_final_4xx_is_temp_for_every_accepted_recipient():
    with h.SmtpServer(final_reply="452 4.3.1 disk full") as srv, h.Deliver() as d:
        d.send_job(4, [b"a@dest.test", b"b@dest.test"], MSG, route=relay(srv))
        res = d.results(4, 2)
        assert all((r["class"], r["code"], r["status"]) == ("temp", 452, "4.3.1")
                   for r in res.values())


def test_server_down_is_temp():
    with h.SmtpServer() as srv:
        port = srv.port
    with h.Deliver() as d:
        d.send_job(5, [b"a@dest.test"], MSG, route=b"relay:127.0.0.1:%d" % port)
        r = d.results(5, 1)[0]
        assert r["class"] == "temp" and r["status"] == "4.4.1", r


def test_size_refusal_sends_nothing():
    with h.SmtpServer(size=100) as srv, h.Deliver() as d:
        d.send_job(6, [b"a@dest.test", b"b@dest.test"], MSG, route=relay(srv))
        res = d.results(6, 2)
        assert all((r["class"], r["code"], r["status"]) == ("perm", 552, "5.3.4")
                   for r in res.values())
        assert not any(l.startswith(b"MAIL") for l in srv.lines)


def test_size_param_sent():
    with h.SmtpServer(size=10**6) as srv, h.Deliver() as d:
        d.send_job(7, [b"a@dest.test"], MSG, route=relay(srv), header=HDR)
        assert d.results(7, 1)[0]["class"] == "ok"
        assert b" SIZE=%d" % (len(MSG) + len(HDR)) in srv.transactions[0]["mail"]


def test_8bit_message_and_server_without_8bitmime_fails_cleanly():
    msg = b"Subject: caf\xc3\xa9\r\n\r\nbody\r\n"
    with h.SmtpServer(ehlo=["PIPELINING"]) as srv, h.Deliver() as d:
        d.send_job(8, [b"a@dest.test"], msg, route=relay(srv))
        r = d.results(8, 1)[0]
        assert (r["class"], r["code"], r["status"]) == ("perm", 554, "5.6.3")
        assert not any(l.startswith(b"MAIL") for l in srv.lines)
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(9, [b"a@dest.test"], msg, route=relay(srv))
        assert d.results(9, 1)[0]["class"] == "ok"
        assert b"BODY=8BITMIME" in srv.transactions[0]["mail"]
        assert srv.transactions[0]["data"].endswith(msg)


def test_utf8_address_needs_smtputf8():
    with h.SmtpServer(ehlo=["8BITMIME"]) as srv, h.Deliver() as d:
        d.send_job(10, ["jos\u00e9@dest.test".encode()], MSG, route=relay(srv))
        r = d.results(10, 1)[0]
        assert (r["class"], r["code"], r["status"]) == ("perm", 553, "5.6.7")


def test_dsn_parameters_passed_when_offered():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(11, [(b"a@dest.test", b"SUCCESS,FAILURE", b"rfc822;a@dest.test")], MSG,
                   route=relay(srv), ret=b"hdrs", envid=b"QQ123")
        assert d.results(11, 1)[0]["class"] == "ok"
        t = srv.transactions[0]
        assert b" RET=HDRS" in t["mail"] and b" ENVID=QQ123" in t["mail"]
        assert t["rcpts"][0] == b"RCPT TO:<a@dest.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@dest.test"


def test_unsafe_recipient_never_reaches_the_wire():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(12, [b"x@dest.test>\r\nRSET", b"ok@dest.test"], MSG, route=relay(srv))
        res = d.results(12, 2)
        assert (res[0]["class"], res[0]["status"]) == ("perm", "5.1.3")
        assert res[1]["class"] == "ok"
        assert not any(b"RSET" in l for l in srv.lines)


@pytest.mark.parametrize("body", [
    b"Hello\r\n\r.\r\nMAIL FROM:<x@evil.test>\r\n",    # <CR>.<CR><LF>
    b"Hello\n.\nmore\r\n",                                 # bare LF
    b"Hello\0\r\n",                                       # NUL
    b"Hello\r\nlast\r",                                    # a CR at the very end
])
def test_bare_cr_lf_or_nul_is_never_sent(body):
    # Before, a queue file holding <CR>.<CR><LF> went out unchanged (only
    # a '.' after LF was doubled): a lenient server would have ended the
    # data there.  Now it is a permanent result for every recipient, no
    # transaction is opened, and the worker goes on with the next job.
    msg = b"From: alice@src.test\r\nSubject: x\r\n\r\n" + body
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(40, [b"a@dest.test", b"b@dest.test"], msg, route=relay(srv))
        res = d.results(40, 2)
        assert all((r["class"], r["code"], r["status"]) == ("perm", 554, "5.6.0")
                   for r in res.values()), (res, d.log())
        assert res[0]["text"] == b"message has bare CR or LF, or NUL"
        assert not any(l.startswith(b"MAIL") for l in srv.lines)
        d.send_job(41, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(41, 1)[0]["class"] == "ok", d.log()
        assert d.proc.poll() is None


@pytest.mark.parametrize("route", [b"maildir", b"relay:bad_host:25", b"relay:h:0"])
def test_unusable_route_defers_and_the_worker_goes_on(route):
    # Before, a route the worker could not parse ended the worker (exit
    # 111, the master's restart backoff): one bad routes.cdb value stopped
    # the pool.  Now its recipients are deferred 451 4.3.5, logged.
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(43, [b"a@dest.test", b"b@dest.test"], MSG, route=route)
        res = d.results(43, 2)
        assert all((r["class"], r["code"], r["status"]) == ("temp", 451, "4.3.5")
                   for r in res.values()), (res, d.log())
        assert "event=bad-route job=43 action=defer" in d.log()
        d.send_job(44, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(44, 1)[0]["class"] == "ok", d.log()
        assert d.proc.poll() is None


def test_mx_destination_outside_the_grammar_is_a_permanent_result():
    # A domain no mailbox could have (only a broken queued could send it)
    # is answered 550 5.1.2 per recipient; before, the worker exited.
    with h.Deliver() as d:
        d.send_job(45, [b"a@dest.test"], MSG, route=b"mx", domain=b"bad domain")
        r = d.results(45, 1)[0]
        assert (r["class"], r["code"], r["status"]) == ("perm", 550, "5.1.2"), (r, d.log())
        assert d.proc.poll() is None


def test_stuffed_998_octet_line_goes_out_as_1001():
    # RFC 5321 4.5.3.1.6 does not count the transparency dot: a text line
    # of 998 octets starting with '.' is 1001 octets on the wire with CRLF.
    line = b"." + b"x" * 997 + b"\r\n"
    msg = b"Subject: x\r\n\r\n" + line
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(42, [b"a@dest.test"], msg, route=relay(srv), header=b"")
        assert d.results(42, 1)[0]["class"] == "ok", d.log()
        assert srv.transactions[0]["raw"] == b"Subject: x\r\n\r\n." + line
        assert srv.transactions[0]["data"] == msg


def test_starttls_opportunistic_with_self_signed_cert(tmp_path):
    ca, cert, key = h.make_ca(tmp_path)
    with h.SmtpServer(tls=h.server_tls(cert, key)) as srv, h.Deliver() as d:
        d.send_job(13, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(13, 1)[0]["class"] == "ok", d.log()
        assert srv.transactions[0]["tls"] is True


def test_tls_required_without_starttls_is_temp():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(14, [b"a@dest.test"], MSG, route=relay(srv, " tls=required"))
        r = d.results(14, 1)[0]
        assert (r["class"], r["status"]) == ("temp", "4.7.4"), r
        assert srv.transactions == []


def test_tls_verify_right_and_wrong_ca(tmp_path):
    ca, cert, key = h.make_ca(tmp_path / "a" if (tmp_path / "a").mkdir() is None else None)
    other, _, _ = h.make_ca(tmp_path / "b" if (tmp_path / "b").mkdir() is None else None,
                            name="Other CA")
    with h.SmtpServer(tls=h.server_tls(cert, key)) as srv:
        with h.Deliver(args=["-C", ca]) as d:
            d.send_job(15, [b"a@dest.test"], MSG, route=relay(srv, " tls=verify"))
            assert d.results(15, 1)[0]["class"] == "ok", d.log()
        with h.Deliver(args=["-C", other]) as d:
            d.send_job(16, [b"a@dest.test"], MSG, route=relay(srv, " tls=verify"))
            r = d.results(16, 1)[0]
            assert (r["class"], r["status"]) == ("temp", "4.7.5"), r
        assert len(srv.transactions) == 1


def test_ca_bundle_is_parsed_only_for_tls_verify(tmp_path):
    """The CA bundle is read at start but parsed on the first tls=verify
    connection (35 ms of CPU per worker start otherwise): a readable file
    without one certificate starts the worker, a plaintext job goes out,
    and only tls=verify is refused, temp 4.7.5; an unreadable one is still
    fatal at start."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    ca, cert, key = h.make_ca(tmp_path / "a" if (tmp_path / "a").mkdir() is None else None)
    with h.SmtpServer(tls=h.server_tls(cert, key)) as srv:
        with h.Deliver(args=["-C", str(junk)]) as d:
            d.send_job(21, [b"a@dest.test"], MSG, route=relay(srv))
            assert d.results(21, 1)[0]["class"] == "ok", d.log()
            d.send_job(22, [b"a@dest.test"], MSG, route=relay(srv, " tls=verify"))
            r = d.results(22, 1)[0]
            assert (r["class"], r["status"]) == ("temp", "4.7.5"), r
            assert b"usable CA bundle" in r["text"], r
        assert len(srv.transactions) == 1
    with h.Deliver(args=["-C", str(tmp_path / "missing.pem")]) as d:
        assert d.proc.wait(timeout=20) == 111
        deadline = time.time() + 5
        while time.time() < deadline and "ca-bundle-unreadable" not in d.log():
            time.sleep(0.05)
        assert "ca-bundle-unreadable" in d.log(), d.log()


def secrets_cdb(tmp_path, entries):
    src = tmp_path / "secrets.txt"
    out = str(tmp_path / "relay-secrets.cdb")
    lines = "".join("+%d,%d:%s->%s\n" % (len(k), len(v), k, v) for k, v in entries.items())
    src.write_text(lines + "\n")
    import subprocess
    subprocess.run(["cdb", "-c", "-m" if False else "-c", out], check=False)
    with open(str(src), "rb") as f:
        subprocess.run(["cdb", "-c", out], stdin=f, check=True)
    return out


@pytest.mark.parametrize("mech", ["PLAIN LOGIN", "LOGIN"])
def test_auth_to_relay(tmp_path, mech):
    ca, cert, key = h.make_ca(tmp_path)
    db = secrets_cdb(tmp_path, {"smarthost": "relayuser s3cret pass"})
    srv = h.SmtpServer(tls=h.server_tls(cert, key), auth=("relayuser", "s3cret pass"))
    srv.ehlo = [e if not e.startswith("AUTH") else "AUTH " + mech for e in srv.ehlo]
    with srv, h.Deliver(secrets=db) as d:
        d.send_job(17, [b"a@dest.test"], MSG, route=relay(srv, " auth=smarthost"))
        assert d.results(17, 1)[0]["class"] == "ok", d.log()
        assert srv.transactions[0]["auth"] is True
        assert "s3cret" not in d.log()


def test_auth_refused_and_missing_secret_are_temp(tmp_path):
    ca, cert, key = h.make_ca(tmp_path)
    db = secrets_cdb(tmp_path, {"smarthost": "relayuser wrong"})
    with h.SmtpServer(tls=h.server_tls(cert, key), auth=("relayuser", "right")) as srv, \
            h.Deliver(secrets=db) as d:
        d.send_job(18, [b"a@dest.test"], MSG, route=relay(srv, " auth=smarthost"))
        assert d.results(18, 1)[0]["class"] == "temp"
        d.send_job(19, [b"a@dest.test"], MSG, route=relay(srv, " auth=other"))
        assert d.results(19, 1)[0]["class"] == "temp"
        assert srv.transactions == []


def test_batch_ends_with_bye():
    with h.SmtpServer() as srv, h.Deliver(args=["-n", "2"]) as d:
        for j in (20, 21):
            d.send_job(j, [b"a@dest.test"], MSG, route=relay(srv))
            assert d.results(j, 1)[0]["class"] == "ok"
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        assert len(srv.transactions) == 2


def test_bind_address_is_the_source():
    with h.SmtpServer() as srv, h.Deliver(args=["-b", "127.0.0.9"]) as d:
        d.send_job(22, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(22, 1)[0]["class"] == "ok", d.log()
        assert srv.peers == ["127.0.0.9"]


# ------------------------------------------------ sessions kept between jobs

def wait_for(cond, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_jobs_in_a_row_share_one_session():
    msgs = [MSG + b"message %d\r\n" % i for i in range(5)]
    with h.SmtpServer() as srv, h.Deliver() as d:
        for i, m in enumerate(msgs):
            d.send_job(30 + i, [b"a%d@dest.test" % i], m, route=relay(srv), header=HDR)
            assert d.results(30 + i, 1)[0]["class"] == "ok", d.log()
        assert srv.connections == 1, d.log()
        assert [t["data"] for t in srv.transactions] == [HDR + m for m in msgs]
        assert [t["rcpts"][0].split(b">")[0] for t in srv.transactions] == \
            [b"RCPT TO:<a%d@dest.test" % i for i in range(5)]
        assert srv.lines.count(b"RSET\r\n") == 4
        assert sum(l.startswith(b"EHLO") for l in srv.lines) == 1
        assert not any(l.startswith(b"QUIT") for l in srv.lines)


def test_kept_session_ended_with_quit_when_idle():
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(40, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(40, 1)[0]["class"] == "ok"
        t0 = time.time()
        assert wait_for(lambda: b"QUIT\r\n" in srv.lines), d.log()
        assert time.time() - t0 >= 1.5      # kept for a while first
        assert "reason=idle" in d.log()
        # A job after the idle close goes on a new session.
        d.send_job(41, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(41, 1)[0]["class"] == "ok"
        assert srv.connections == 2 and len(srv.transactions) == 2


def test_other_destination_closes_the_kept_session():
    with h.SmtpServer() as one, h.SmtpServer() as two, h.Deliver() as d:
        d.send_job(50, [b"a@dest.test"], MSG, route=relay(one))
        assert d.results(50, 1)[0]["class"] == "ok"
        d.send_job(51, [b"a@dest.test"], MSG, route=relay(two))
        assert d.results(51, 1)[0]["class"] == "ok"
        assert b"QUIT\r\n" in one.lines and "reason=other-destination" in d.log()
        # Another route string to the same server (tls=) is another destination.
        d.send_job(52, [b"a@dest.test"], MSG, route=relay(two, " tls=opportunistic"))
        assert d.results(52, 1)[0]["class"] == "ok"
        assert one.connections == 1 and two.connections == 2
        assert len(one.transactions) == 1 and len(two.transactions) == 2


def sink_dialogue(c, on_rset, on_data=None, data_reply=None, seen=None, replies=None):
    """A minimal SMTP dialogue on c: EHLO offers PIPELINING, MAIL and RCPT
    get 250, DATA reads the (dot-unstuffed) body and gets 250, QUIT 221.
    on_data(raw) is called after each body and before its 250 goes out,
    so whatever it records is there once the worker has reported the
    job; it may return True to close the session after the 250.  RSET
    goes to on_rset(f) (it sends its reply itself and returns False to
    close the session).  data_reply() gives DATA's reply line instead of
    354 (no body is read after any other reply); seen gets every command
    line; replies overrides the reply to a verb (its first four bytes),
    to the connection (b"220") or to the body (b".")."""
    r = replies or {}
    f = c.makefile("rb")
    c.sendall(r.get(b"220", b"220 sink\r\n"))
    while True:
        line = f.readline(4096)
        if not line:
            return
        if seen is not None:
            seen.append(line)
        verb = line[:4].upper()
        if verb == b"EHLO":
            c.sendall(r.get(verb, b"250-sink\r\n250 PIPELINING\r\n"))
        elif verb in (b"MAIL", b"RCPT"):
            c.sendall(r.get(verb, b"250 ok\r\n"))
        elif verb == b"DATA":
            reply = data_reply() if data_reply is not None else b"354 go\r\n"
            c.sendall(reply)
            if not reply.startswith(b"354"):
                continue
            raw = b""
            while True:
                ln = f.readline(100000)
                if not ln:
                    return      # no final dot: nothing to record
                if ln == b".\r\n":
                    break
                raw += ln[1:] if ln.startswith(b".") else ln
            close = on_data is not None and on_data(raw)
            c.sendall(r.get(b".", b"250 queued\r\n"))
            if close:
                return
        elif verb == b"RSET":
            if not on_rset(f):
                return
        elif verb == b"QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(r.get(verb, b"502 no\r\n"))


def closing_sink(record, on_rset):
    """One transaction per session, then either closes after the final
    reply (on_rset None) or answers RSET with on_rset ("" = close without
    a reply)."""
    def rset(c):
        if not on_rset:
            return False
        c.sendall(on_rset.encode() + b"\r\n")
        return True

    def data(raw):
        record.append(raw)
        return on_rset is None

    return lambda c: sink_dialogue(c, lambda f: rset(c), data)


@pytest.mark.parametrize("on_rset", [None, "", "421 4.4.2 closing", "451 4.3.0 not now"])
def test_dead_or_refusing_kept_session_is_replaced_transparently(on_rset):
    got = []
    with h.SmtpServer(handler=closing_sink(got, on_rset)) as srv, h.Deliver() as d:
        for j in (60, 61, 62):
            d.send_job(j, [b"a@dest.test"], MSG + b"%d\r\n" % j, route=relay(srv), header=HDR)
            r = d.results(j, 1)[0]
            assert (r["class"], r["code"]) == ("ok", 250), (r, d.log())
        assert got == [HDR + MSG + b"%d\r\n" % j for j in (60, 61, 62)]
        assert srv.connections == 3, d.log()
        assert d.proc.poll() is None
        if on_rset is not None:     # the RSET path, not the idle watch
            assert d.log().count("reason=stale") == 2, d.log()


def test_kept_session_pipelines_rset_with_mail_and_rcpt():
    """On a kept PIPELINING session the next job's RSET, MAIL and RCPT
    come in one write (RFC 2920; one round trip less per job): the sink
    withholds RSET's reply and still sees MAIL and RCPT arrive."""
    seen = []

    def handler(c):
        def rset(f):
            c.settimeout(2)
            try:
                nxt = [f.readline(4096), f.readline(4096)]
            except OSError:
                nxt = []
            c.settimeout(None)
            seen.append(nxt)
            c.sendall(b"250 reset\r\n" + b"250 ok\r\n" * len(nxt))
            return True
        sink_dialogue(c, rset)
    with h.SmtpServer(handler=handler) as srv, h.Deliver() as d:
        for j in (80, 81):
            d.send_job(j, [b"a@dest.test"], MSG, route=relay(srv))
            r = d.results(j, 1)[0]
            assert (r["class"], r["code"]) == ("ok", 250), (r, d.log())
        assert srv.connections == 1, d.log()
    assert len(seen) == 1 and [l[:4] for l in seen[0]] == [b"MAIL", b"RCPT"], seen


@pytest.mark.parametrize("kept", [False, True], ids=["fresh", "kept"])
@pytest.mark.parametrize("reply", [b"250 2.0.0 ok", b"334 go on"])
def test_data_answered_with_other_than_354_or_failure_is_a_protocol_error(kept, reply):
    """DATA answered with a 2xx, or a 3xx other than 354: the body never
    went out, so nothing was delivered: temp 451 4.5.0 for the recipient,
    no QUIT or body on that session, never a next job on it (the worker
    is recycled as after any protocol error).  kept: the job runs on a
    kept PIPELINING session (RSET, MAIL and RCPT in one write)."""
    got, seen, ended = [], [], []
    replies = iter([b"354 go\r\n"] * kept + [reply + b"\r\n"])

    def handler(c):
        def rset(f):
            c.sendall(b"250 reset\r\n")
            return True
        try:    # the worker may reset the connection under the sink
            sink_dialogue(c, rset, got.append, lambda: next(replies), seen)
        finally:
            ended.append(True)
    with h.SmtpServer(handler=handler) as srv, h.Deliver() as d:
        if kept:
            d.send_job(90, [b"a@dest.test"], MSG, route=relay(srv))
            assert d.results(90, 1)[0]["class"] == "ok", d.log()
        d.send_job(91, [b"b@dest.test"], MSG, route=relay(srv))
        r = d.results(91, 1)[0]
        assert (r["class"], r["code"], r["status"]) == ("temp", 451, "4.5.0"), (r, d.log())
        assert reply.split(b" ")[0] + b" reply to DATA" in r["text"], r
        assert len(got) == int(kept)
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        assert "reason=peer-misbehaved" in d.log()
        wait_until(lambda: ended, 10, "the sink session to end", d.log())
        assert srv.connections == 1
        assert seen[-1] == b"DATA\r\n", seen
        assert seen.count(b"RSET\r\n") == int(kept), seen


def test_kept_session_out_of_step_never_takes_a_reply_for_data():
    """A server that answers RSET twice puts every later reply one step
    late: with RSET, MAIL and RCPT pipelined on the kept session, the
    reply read for DATA is the one meant for RCPT, a 250.  No body was
    sent, so that is temp 451 4.5.0 (it used to be a delivery), and
    the session and the worker end."""
    got, seen, ended = [], [], []

    def handler(c):
        def rset(f):
            c.sendall(b"250 reset\r\n250 2.0.0 reset again\r\n")
            return True
        try:    # the worker may reset the connection under the sink
            sink_dialogue(c, rset, got.append, seen=seen)
        finally:
            ended.append(True)
    with h.SmtpServer(handler=handler) as srv, h.Deliver() as d:
        d.send_job(92, [b"a@dest.test"], MSG, route=relay(srv))
        assert d.results(92, 1)[0]["class"] == "ok", d.log()
        d.send_job(93, [b"b@dest.test"], MSG, route=relay(srv))
        r = d.results(93, 1)[0]
        assert (r["class"], r["code"], r["status"]) == ("temp", 451, "4.5.0"), (r, d.log())
        assert b"250 reply to DATA" in r["text"], r
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        wait_until(lambda: ended, 10, "the sink session to end", d.log())
        assert len(got) == 1 and srv.connections == 1
        assert [l[:4] for l in seen[-4:]] == [b"RSET", b"MAIL", b"RCPT", b"DATA"], seen


# A reply of the wrong kind where a final one (or STARTTLS's 220) belongs:
# the case, the sink's replies, the reason the worker gives.
ODD_REPLIES = {
    "greeting": ({b"220": b"354 hello\r\n"}, b"3xx-greeting"),
    "EHLO": ({b"EHLO": b"334 hello\r\n"}, b"3xx-reply-to-EHLO"),
    "STARTTLS": ({b"EHLO": b"250-sink\r\n250 STARTTLS\r\n", b"STAR": b"250 fine\r\n"},
                 b"STARTTLS-answered-not-220"),
    "MAIL": ({b"MAIL": b"354 2.1.0 sure\r\n"}, b"3xx-reply-to-MAIL"),
    "RCPT": ({b"RCPT": b"354 2.1.5 sure\r\n"}, b"3xx-reply-to-RCPT"),
    "final": ({b".": b"354 more?\r\n"}, b"3xx-reply-to-end-of-data"),
}


@pytest.mark.parametrize("case", sorted(ODD_REPLIES))
def test_reply_of_the_wrong_kind_is_a_protocol_error(case):
    """A 3xx where only a final reply belongs (greeting, EHLO, MAIL,
    RCPT, the end of the message) or a 250 to STARTTLS is no answer to
    the command: temp 451, the reason named, nothing delivered, no
    QUIT, the worker recycled (a 354 after the body used to keep the
    session for the next job; STARTTLS's 250 went on in plain text)."""
    replies, why = ODD_REPLIES[case]
    got, seen, ended = [], [], []

    def handler(c):
        try:    # the worker may reset the connection under the sink
            sink_dialogue(c, lambda f: False, got.append, seen=seen, replies=replies)
        finally:
            ended.append(True)
    with h.SmtpServer(handler=handler) as srv, h.Deliver() as d:
        d.send_job(95, [b"a@dest.test"], MSG, route=relay(srv, " tls=opportunistic"))
        r = d.results(95, 1)[0]
        assert (r["class"], r["code"]) == ("temp", 451), (r, d.log())
        assert why in r["text"], r
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        assert "reason=peer-misbehaved" in d.log()
        wait_until(lambda: ended, 10, "the sink session to end", d.log())
        assert not any(l.startswith((b"QUIT", b"RSET")) for l in seen), seen
        assert len(got) == (case == "final") and srv.connections == 1


def test_batch_end_quits_the_kept_session():
    with h.SmtpServer() as srv, h.Deliver(args=["-n", "3"]) as d:
        for j in (70, 71, 72):
            d.send_job(j, [b"a@dest.test"], MSG, route=relay(srv))
            assert d.results(j, 1)[0]["class"] == "ok"
        assert d.recv_frame() == [b"bye"]
        assert d.wait() == 0
        assert srv.connections == 1 and len(srv.transactions) == 3
        assert wait_for(lambda: b"QUIT\r\n" in srv.lines)
        assert "reason=bye" in d.log()


def test_kept_session_keeps_tls_and_auth_and_key_is_route_and_helo(tmp_path):
    ca, cert, key = h.make_ca(tmp_path)
    db = secrets_cdb(tmp_path, {"smarthost": "relayuser pw"})
    with h.SmtpServer(tls=h.server_tls(cert, key), auth=("relayuser", "pw")) as srv, \
            h.Deliver(secrets=db) as d:
        route = relay(srv, " tls=required auth=smarthost")
        # A relay route ignores the domain: three domains, one session.
        for j, dom in ((80, b"one.test"), (81, b"two.test"), (82, b"one.test")):
            d.send_job(j, [b"a@" + dom], MSG, route=route, domain=dom)
            assert d.results(j, 1)[0]["class"] == "ok", d.log()
        assert srv.connections == 1
        assert all(t["tls"] and t["auth"] for t in srv.transactions)
        assert sum(l.startswith(b"AUTH") for l in srv.lines) == 1
        # Another helo name is another session.
        d.send_job(83, [b"a@one.test"], MSG, route=route, helo=b"other.example")
        assert d.results(83, 1)[0]["class"] == "ok", d.log()
        assert srv.connections == 2 and len(srv.transactions) == 4
        assert b"EHLO other.example\r\n" in srv.lines


def test_kept_session_ends_after_100_transactions():
    with h.SmtpServer() as srv, h.Deliver(args=["-n", "1000"]) as d:
        for j in range(101):
            d.send_job(1000 + j, [b"a@dest.test"], MSG, route=relay(srv))
            assert d.results(1000 + j, 1)[0]["class"] == "ok", d.log()
        assert len(srv.transactions) == 101
        assert srv.connections == 2, d.log()
        assert "reason=max-transactions" in d.log()


def test_channel_closed_while_a_job_is_out_is_a_clean_stop():
    """queued dies (kill -9) or is restarted while a job is out: the
    worker's results cannot be sent (EPIPE).  That is queued's doing and
    queued retries the recipients: the worker leaves as at end of file
    (exit 0, `event=stop reason=channel-closed`), not with `event=fatal`
    and exit 111, which the master answers with a restart and a backoff
    (seen in the soak, tests/soak/hostile_mix.py)."""
    at_rcpt, go = threading.Event(), threading.Event()

    def rcpt(addr):
        at_rcpt.set()
        go.wait(20)
        return "250 2.1.5 ok"
    with h.SmtpServer(rcpt=rcpt) as srv, h.Deliver() as d:
        d.send_job(60, [b"a@dest.test"], MSG, route=relay(srv))
        assert at_rcpt.wait(20), d.log()
        d.chan.close()
        go.set()
        assert d.wait(20) == 0, d.log()
        assert "event=stop reason=channel-closed" in d.log(), d.log()
        assert "event=fatal" not in d.log(), d.log()
        assert len(srv.transactions) == 1, srv.transactions


def test_channel_closed_with_results_unread_is_a_clean_stop():
    """queued dies before reading a job's results: the worker, waiting
    for its next job, reads ECONNRESET rather than end of file (unread
    frames on the closed side).  The same clean stop as at end of file,
    not `event=fatal reason=job-channel errno=104` (seen in the soak)."""
    with h.SmtpServer() as srv, h.Deliver() as d:
        d.send_job(61, [b"a@dest.test"], MSG, route=relay(srv))
        f = d.recv_frame()
        assert f[0] == b"rcpt", f
        # `done` is the job's last frame: once it is waiting here the
        # worker is back in its wait for the next job.
        r, _, _ = select.select([d.chan], [], [], 20)
        assert r, d.log()
        d.chan.close()
        assert d.wait(20) == 0, d.log()
        assert "event=stop reason=channel-closed" in d.log(), d.log()
        assert "event=fatal" not in d.log(), d.log()
