"""Issue 6 end to end: the real master, postern-smtpd, postern-queued and
the delivery workers it spawns (postern-deliver, postern-maildir).  Mail is
submitted with smtplib (AUTH over the plain loopback listener) and leaves
through the routes table to recording SMTP servers on 127.0.0.x
(deliver_harness.SmtpServer), a maildir of a throw-away user, or MX hosts
found through dnsmasq on a free port.

Shown: byte-exact delivery with the trusted header block in front, several
recipients of one destination in one transaction, an empty queue after;
maildir delivery; MX preference, fallback past a 421 greeting and a host
that is down, null MX bounced 5.1.10; a 451 (and a sink that is down)
retried and delivered exactly once; 550 and expiry bounced as RFC 3464
reports to the sender (routed back to a second sink, parsed with `email`),
with a sanitized Diagnostic-Code; kill -9 of queued and of a worker with
deliveries in flight loses nothing; a hostile MX (overlong and garbage
multi-line replies with control bytes, a 10 MB reply) affects only its
worker and its text reaches the report sanitized and capped, a tarpit
holds only one worker; a local instance from postern-setup --outbox (what
`make run` does) delivers into its outbox maildir.

Also: smarthost tls=verify + auth= from relay-secrets; DSN parameters
(RET=FULL, ENVID, ORCPT, NOTIFY=NEVER) and injected CR LF in them; one
report for a 554 after data, SIZE refusal; a report that fails is dropped,
not looped; one delay notice; a partial delivery's state surviving kill -9
of queued; reports surviving kill -9 of queued; master SIGTERM and
restart; worker recycling (deliver_batch) not stalling the queue;
deliver_destination_concurrency; a refused (root-owned) maildir keeping
its mail until repaired; a 1 MB 8-bit message.  Every test checks the
master's relayed log for sandbox violations, crash signals and sanitizer
reports.  Root only; the MX tests need dnsmasq (skipped with the reason
when it is missing).
"""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import deliver_harness as dh
import delivery_e2e_harness as h
from conftest import free_port, public_bin

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

needs_dnsmasq = pytest.mark.skipif(not h.have_dnsmasq(),
                                   reason="dnsmasq-base not installed (build-aux/deps.sh)")


relay = h.relay


def header_block_rx(qid, ids):
    """The trusted header block queued writes in front (queue/trusted.c):
    Received:, then Message-ID: and Date: when the message had none."""
    rx = (rb"Received: (?:from \[127\.0\.0\.1\]\r\n\tby |by )" + re.escape(h.HOSTNAME.encode()) +
          rb" \(postern\) with ESMTPA id " + re.escape(qid.encode()) + rb";\r\n\t[^\r\n]+\r\n")
    if ids:
        rx += rb"Message-ID: <[^\r\n>]+>\r\nDate: [^\r\n]+\r\n"
    return rx


def check_delivered_copy(data, body, qid, ids):
    assert data.endswith(body), data[-200:]
    block = data[:len(data) - len(body)]
    assert re.fullmatch(header_block_rx(qid, ids), block), block


# ---------------------------------------------------------------- relay


def test_relay_byte_exact_one_transaction_queue_empty(tmp_path):
    with dh.SmtpServer() as sink, dh.SmtpServer() as back:
        inst = h.Instance(tmp_path, ["dest.test " + relay(sink), "other.test " + relay(sink),
                                     "localhost " + relay(back)])
        with inst:
            with_ids = h.message(b"tok-relay-1")
            without = h.message(b"tok-relay-2", msgid=False)
            q1 = inst.send(["a@dest.test", "b@dest.test", "c@DEST.test"], with_ids)
            q2 = inst.send(["d@dest.test"], without)
            inst.wait_until(lambda: h.delivered(sink, b"tok-relay-1") and
                         h.delivered(sink, b"tok-relay-2"), 30, "both messages at the sink")
            inst.wait_queue_empty()
            t1 = h.delivered(sink, b"tok-relay-1")
            assert len(t1) == 1, t1
            t = t1[0]
            assert t["mail"].startswith(b"MAIL FROM:<demo@localhost>"), t["mail"]
            assert [r.split(b">")[0] for r in t["rcpts"]] == \
                [b"RCPT TO:<a@dest.test", b"RCPT TO:<b@dest.test", b"RCPT TO:<c@DEST.test"]
            check_delivered_copy(t["data"], with_ids, q1, ids=False)
            t2 = h.delivered(sink, b"tok-relay-2")
            assert len(t2) == 1, t2
            check_delivered_copy(t2[0]["data"], without, q2, ids=True)
            assert b"EHLO out.e2e.test\r\n" in sink.lines
            assert len(sink.transactions) == 2 and back.transactions == []
            # Two domains with the same relay route are one destination.
            inst.send(["e@other.test", "f@dest.test"], h.message(b"tok-relay-3"))
            t3 = inst.wait_until(lambda: h.delivered(sink, b"tok-relay-3"), 30, "the third")
            assert len(t3) == 1 and len(t3[0]["rcpts"]) == 2, t3
            inst.wait_log(r"event=delivered .*id=%s" % q1)
            inst.assert_clean()


# ---------------------------------------------------------------- maildir


def test_maildir_route_delivers_into_users_maildir(tmp_path):
    with h.MaildirUser() as user, dh.SmtpServer() as back:
        md = user.maildir(tmp_path / "mail" / "box")
        inst = h.Instance(tmp_path, ["local.test maildir:" + md, "localhost " + relay(back)],
                          conf=["maildir_uid_min = 1000"])
        with inst:
            body = h.message(b"tok-maildir", msgid=False)
            qid = inst.send(["u1@local.test", "u2@local.test"], body)
            files = inst.wait_until(lambda: h.maildir_files(md), 30, "a file in new/")
            inst.wait_queue_empty()
            assert len(h.maildir_files(md)) == 1, h.maildir_files(md)
            with open(files[0], "rb") as f:
                data = f.read()
            check_delivered_copy(data, body, qid, ids=True)
            st = os.stat(files[0])
            assert (st.st_uid, st.st_gid) == (user.uid, user.gid)
            assert h.maildir_files(md, "tmp") == []
            assert len(inst.pids("postern-maildir")) == 1, inst.log()
            assert back.transactions == []
            inst.assert_clean()


# ---------------------------------------------------------------- MX


def mx_instance(tmp_path, dns, back, port, conf=()):
    return h.Instance(tmp_path, ["* mx", "localhost " + relay(back)],
                      conf=["dns_resolver = 127.0.0.1:%d" % dns.port,
                            "deliver_mx_port = %d" % port] + list(conf))


@needs_dnsmasq
def test_mx_preference_order(tmp_path):
    port = free_port()
    recs = ["--mx-host=pref.test,mxa.pref.test,20", "--mx-host=pref.test,mxb.pref.test,10",
            "--host-record=mxa.pref.test,127.0.0.2", "--host-record=mxb.pref.test,127.0.0.3"]
    with dh.Dnsmasq(recs) as dns, dh.SmtpServer("127.0.0.2", port) as low, \
            dh.SmtpServer("127.0.0.3", port) as best, dh.SmtpServer() as back:
        with mx_instance(tmp_path, dns, back, port) as inst:
            for i in range(3):
                inst.send(["x%d@pref.test" % i, "y%d@PREF.test" % i],
                          h.message(b"tok-pref-%d" % i))
            inst.wait_until(lambda: all(h.delivered(best, b"tok-pref-%d" % i) for i in range(3)),
                         30, "three messages at the preferred MX")
            inst.wait_queue_empty()
            assert low.connections == 0 and low.transactions == []
            assert len(best.transactions) == 3
            assert all(len(t["rcpts"]) == 2 for t in best.transactions), best.transactions
            inst.assert_clean()


@needs_dnsmasq
def test_mx_fallback_past_421_and_down_host(tmp_path):
    port = free_port()
    recs = ["--mx-host=busy.test,mx1.busy.test,10", "--mx-host=busy.test,mx2.busy.test,20",
            "--host-record=mx1.busy.test,127.0.0.4", "--host-record=mx2.busy.test,127.0.0.5",
            "--mx-host=down.test,mx1.down.test,10", "--mx-host=down.test,mx2.down.test,20",
            "--host-record=mx1.down.test,127.0.0.6", "--host-record=mx2.down.test,127.0.0.7"]
    with dh.Dnsmasq(recs) as dns, \
            dh.SmtpServer("127.0.0.4", port, greeting="421 4.3.2 busy") as busy, \
            dh.SmtpServer("127.0.0.5", port) as second, \
            dh.SmtpServer("127.0.0.7", port) as alive, dh.SmtpServer() as back:
        with mx_instance(tmp_path, dns, back, port) as inst:
            inst.send(["x@busy.test"], h.message(b"tok-busy"))
            inst.send(["x@down.test"], h.message(b"tok-down"))
            inst.wait_until(lambda: h.delivered(second, b"tok-busy") and
                         h.delivered(alive, b"tok-down"), 30, "both at the second MX")
            inst.wait_queue_empty()
            assert busy.connections >= 1 and busy.transactions == []
            assert len(h.delivered(second, b"tok-busy")) == 1
            assert len(h.delivered(alive, b"tok-down")) == 1
            assert back.transactions == []
            inst.assert_clean()


@needs_dnsmasq
def test_null_mx_bounces_5_1_10(tmp_path):
    port = free_port()
    # RFC 7505: "0 ." as raw MX RDATA (preference 0, root name).
    with dh.Dnsmasq(["--dns-rr=nullmx.test,15,000000"]) as dns, dh.SmtpServer() as back:
        with mx_instance(tmp_path, dns, back, port) as inst:
            qid = inst.send(["nobody@nullmx.test"], h.message(b"tok-nullmx"))
            t = inst.wait_until(lambda: h.reports_in(back, b"tok-nullmx"), 30, "a report")
            inst.wait_queue_empty()
            assert len(t) == 1
            rep = h.Report(t[0]["data"])
            r = rep.recipient("nobody@nullmx.test")
            assert r["action"].lower() == "failed", r
            assert r["status"] == "5.1.10", r
            inst.wait_log(r"event=bounced .*id=%s" % qid)
            inst.assert_clean()


def test_relay_tls_verify_and_auth_from_relay_secrets(tmp_path):
    """A smarthost route with tls=verify and auth=NAME: the master hands
    the workers relay-secrets.cdb and the CA of tls_ca_file; the message
    goes out over verified TLS after AUTH, and the password is in no log."""
    (tmp_path / "ca").mkdir()
    ca, cert, key = dh.make_ca(tmp_path / "ca")
    with dh.SmtpServer(tls=dh.server_tls(cert, key), auth=("relayuser", "s3cret pass")) as sink, \
            dh.SmtpServer() as back:
        routes = ["dest.test %s tls=verify auth=smarthost" % relay(sink),
                  "localhost " + relay(back)]
        inst = h.Instance(tmp_path, routes, conf=["tls_ca_file = " + ca])
        inst.setup()
        inst.write_table("relay-secrets", ["smarthost relayuser s3cret pass"], mode=0o600)
        assert os.stat(os.path.join(inst.dir, "relay-secrets.cdb")).st_mode & 0o077 == 0
        with inst:
            inst.send(["x@dest.test"], h.message(b"tok-tls"))
            t = inst.wait_until(lambda: h.delivered(sink, b"tok-tls"), 30, "delivery over TLS")
            inst.wait_queue_empty()
            assert t[0]["tls"] is True and t[0]["auth"] is True, t[0]
            assert "s3cret" not in inst.log()
            inst.assert_clean()


# ---------------------------------------------------------------- retries


def test_451_retried_and_delivered_exactly_once(tmp_path):
    tries = []

    def rcpt(addr):
        tries.append(addr)
        return "451 4.2.1 come back later" if len(tries) <= 2 else "250 2.1.5 ok"
    with dh.SmtpServer(rcpt=rcpt) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            qid = inst.send(["later@dest.test"], h.message(b"tok-451"))
            inst.wait_log(r"event=deferred .*id=%s.*status=4\.2\.1" % qid, timeout=30)
            inst.wait_until(lambda: h.delivered(sink, b"tok-451"), 40, "delivery after 451s")
            inst.wait_queue_empty()
            # The message left the queue: nothing can deliver it again.
            assert len(h.delivered(sink, b"tok-451")) == 1, sink.transactions
            assert len(tries) == 3, tries
            assert back.transactions == []
            inst.assert_clean()


def test_sink_down_then_back_delivered_once(tmp_path):
    with dh.SmtpServer() as gone:
        port = gone.port
    with dh.SmtpServer() as back:
        routes = ["dest.test relay:127.0.0.1:%d" % port, "localhost " + relay(back)]
        with h.Instance(tmp_path, routes) as inst:
            qid = inst.send(["x@dest.test"], h.message(b"tok-down-back"))
            inst.wait_log(r"event=deferred .*id=%s.*status=4\.4\.1" % qid, timeout=30)
            assert inst.queue()["env"] == [qid]
            with dh.SmtpServer(port=port) as sink:
                inst.wait_until(lambda: h.delivered(sink, b"tok-down-back"), 40,
                             "delivery once the sink is back")
                inst.wait_queue_empty()
                assert len(h.delivered(sink, b"tok-down-back")) == 1
            assert back.transactions == []
            inst.assert_clean()


# ---------------------------------------------------------------- bounces


def test_550_bounces_rfc3464_report_to_sender(tmp_path):
    def rcpt(addr):
        if addr == "bad@dest.test":
            return "550 5.1.1 no such user \x01\x1b[31mred\x7f here"
        return "250 2.1.5 ok"
    with dh.SmtpServer(rcpt=rcpt) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            body = h.message(b"tok-550")
            qid = inst.send(["bad@dest.test", "good@dest.test"], body)
            reps = inst.wait_until(lambda: h.reports_in(back), 30, "a report at the sender's sink")
            inst.wait_queue_empty()
            # The good recipient got it, in one transaction without the bad one.
            good = h.delivered(sink, b"tok-550")
            assert len(good) == 1 and [r.split(b">")[0] for r in good[0]["rcpts"]] == \
                [b"RCPT TO:<good@dest.test"]
            assert len(reps) == 1, reps
            t = reps[0]
            assert [r.split(b">")[0] for r in t["rcpts"]] == [b"RCPT TO:<demo@localhost"]
            rep = h.Report(t["data"])
            assert "reporting-mta" in rep.per_message, rep.per_message
            assert len(rep.recipients) == 1, rep.recipients
            r = rep.recipient("bad@dest.test")
            assert r["final-recipient"].replace(" ", "").lower() == "rfc822;bad@dest.test"
            assert r["action"].lower() == "failed" and r["status"] == "5.1.1", r
            diag = r["diagnostic-code"]
            assert diag.lower().startswith("smtp;"), diag
            assert "550" in diag and "no such user" in diag, diag
            assert h.printable_ascii(diag), repr(diag)
            assert "\x1b" not in diag and "[31m" in diag
            assert b"Subject: tok-550" in rep.original_bytes()
            assert all(b < 0x80 for b in t["data"]), "report is not 7-bit"
            inst.wait_log(r"event=bounced .*id=%s" % qid)
            inst.wait_log(r"event=delivered .*id=%s" % qid)
            inst.assert_clean()


def test_data_refusal_bounces_every_recipient_in_one_report(tmp_path):
    """A 554 after the data refuses all recipients of the transaction:
    one report naming both; a message over the sink's SIZE is refused
    before MAIL (552 5.3.4) and bounced too."""
    with dh.SmtpServer(final_reply="554 5.6.0 content refused") as sink, \
            dh.SmtpServer(size=2000) as small, dh.SmtpServer() as back:
        routes = ["dest.test " + relay(sink), "small.test " + relay(small),
                  "localhost " + relay(back)]
        with h.Instance(tmp_path, routes) as inst:
            inst.send(["a@dest.test", "b@dest.test"], h.message(b"tok-554"))
            inst.send(["big@small.test"], h.message(b"tok-size") + (b"y" * 70 + b"\r\n") * 80)
            inst.wait_until(lambda: h.reports_in(back, b"tok-554") and
                                   h.reports_in(back, b"tok-size"), 30, "two reports")
            inst.wait_queue_empty()
            assert len(h.reports_in(back, b"tok-554")) == 1
            rep = h.Report(h.reports_in(back, b"tok-554")[0]["data"])
            assert len(rep.recipients) == 2, rep.recipients
            for a in ("a@dest.test", "b@dest.test"):
                r = rep.recipient(a)
                assert r["action"].lower() == "failed" and r["status"] == "5.6.0", r
            rep = h.Report(h.reports_in(back, b"tok-size")[0]["data"])
            r = rep.recipient("big@small.test")
            assert r["status"] == "5.3.4", r
            assert not any(l.upper().startswith(b"MAIL") for l in small.lines)
            inst.assert_clean()


def test_hostile_dsn_parameters_cannot_inject_report_fields(tmp_path):
    """ENVID and ORCPT are xtext from the client: CR LF encoded in them
    must not become new fields of the report (refused at submission or
    neutralized in the report)."""
    import smtplib
    with dh.SmtpServer(rcpt=lambda a: "550 5.1.1 unknown") as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            with smtplib.SMTP("127.0.0.1", inst.port, timeout=30) as c:
                c.login(h.LOGIN, h.PASSWORD)
                code, _ = c.mail(h.LOGIN, ["ENVID=e+0D+0AX-Injected-Env:+20yes"])
                if code != 250:
                    assert 500 <= code < 600
                    assert c.mail(h.LOGIN)[0] == 250
                code, _ = c.rcpt("bad@dest.test",
                                 ["ORCPT=rfc822;x+0D+0AX-Injected-Rcpt:+20yes@dest.test"])
                if code != 250:
                    assert 500 <= code < 600
                    assert c.rcpt("bad@dest.test")[0] == 250
                code, text = c.data(h.message(b"tok-inject"))
                assert code == 250, text
            reps = inst.wait_until(lambda: h.reports_in(back, b"tok-inject"), 30, "the report")
            inst.wait_queue_empty()
            rep = h.Report(reps[0]["data"])
            fields = set(rep.per_message) | {k for r in rep.recipients for k in r}
            assert not any(k.startswith("x-injected") for k in fields), fields
            assert all(k.lower() != "x-injected-env" for k in rep.msg.keys())
            assert not re.search(rb"\r\nX-Injected-(Env|Rcpt):", reps[0]["data"])
            inst.assert_clean()


def test_expired_message_bounces(tmp_path):
    with dh.SmtpServer(rcpt=lambda a: "451 4.3.0 never") as sink, dh.SmtpServer() as back:
        routes = ["dest.test " + relay(sink), "localhost " + relay(back)]
        with h.Instance(tmp_path, routes, conf=["queue_lifetime = 3s"]) as inst:
            qid = inst.send(["late@dest.test"], h.message(b"tok-expire"))
            reps = inst.wait_until(lambda: h.reports_in(back, b"tok-expire"), 40, "an expiry report")
            inst.wait_queue_empty()
            rep = h.Report(reps[0]["data"])
            r = rep.recipient("late@dest.test")
            assert r["action"].lower() == "failed", r
            assert re.fullmatch(r"[45]\.\d{1,3}\.\d{1,3}", r["status"]), r
            assert h.delivered(sink, b"tok-expire") == []
            inst.wait_log(r"event=expired .*id=%s" % qid)
            inst.assert_clean()


def test_dsn_parameters_reach_the_report(tmp_path):
    """RET=FULL, ENVID, ORCPT and NOTIFY (RFC 3461) given at submission:
    the report carries Original-Envelope-Id and Original-Recipient, returns
    the whole message as message/rfc822, and leaves out the NOTIFY=NEVER
    recipient that failed too."""
    with dh.SmtpServer(rcpt=lambda a: "550 5.1.1 unknown") as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            body = h.message(b"tok-dsn")
            import smtplib
            with smtplib.SMTP("127.0.0.1", inst.port, timeout=30) as c:
                c.login(h.LOGIN, h.PASSWORD)
                assert c.mail(h.LOGIN, ["RET=FULL", "ENVID=env+2Dtok-dsn"])[0] == 250
                assert c.rcpt("bad@dest.test", ["NOTIFY=FAILURE",
                                                "ORCPT=rfc822;orig@dest.test"])[0] == 250
                assert c.rcpt("quiet@dest.test", ["NOTIFY=NEVER"])[0] == 250
                code, text = c.data(body)
                assert code == 250, text
            reps = inst.wait_until(lambda: h.reports_in(back), 30, "a report")
            inst.wait_queue_empty()
            assert len(reps) == 1, reps
            rep = h.Report(reps[0]["data"])
            assert rep.per_message.get("original-envelope-id") == "env-tok-dsn", rep.per_message
            assert [r["final-recipient"].replace(" ", "") for r in rep.recipients] == \
                ["rfc822;bad@dest.test"], rep.recipients
            r = rep.recipient("bad@dest.test")
            assert r.get("original-recipient", "").replace(" ", "") == "rfc822;orig@dest.test", r
            assert rep.original.get_content_type() == "message/rfc822"
            assert b"body of tok-dsn" in rep.original_bytes()
            inst.assert_clean()


def test_undeliverable_report_is_dropped_not_looped(tmp_path):
    """A report that itself fails permanently is from <>: no report about
    the report (RFC 3461 §6.2, RFC 5321 §6.1), and the queue empties."""
    with dh.SmtpServer(rcpt=lambda a: "550 5.1.1 unknown") as sink, \
            dh.SmtpServer(rcpt=lambda a: "550 5.1.1 no mailbox here") as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            qid = inst.send(["bad@dest.test"], h.message(b"tok-loop"))
            inst.wait_log(r"event=bounced .*id=%s" % qid)
            inst.wait_log(r"event=bounced .*rcpt=demo@localhost", timeout=30)
            inst.wait_queue_empty()
            rcpts = [l for l in back.lines if l.upper().startswith(b"RCPT")]
            assert len(rcpts) == 1, back.lines
            assert all(l.upper().startswith(b"MAIL FROM:<>")
                       for l in back.lines if l.upper().startswith(b"MAIL"))
            inst.assert_clean()


def test_delay_notice_once_then_delivered(tmp_path):
    """queue_delay_notice: one `delayed` report while a recipient keeps
    getting 451, then the message is delivered exactly once."""
    state = {"fail": True}
    with dh.SmtpServer(rcpt=lambda a: "451 4.2.1 later" if state["fail"] else "250 ok") as sink, \
            dh.SmtpServer() as back:
        routes = ["dest.test " + relay(sink), "localhost " + relay(back)]
        with h.Instance(tmp_path, routes, conf=["queue_delay_notice = 1s"]) as inst:
            qid = inst.send(["slow@dest.test"], h.message(b"tok-delay"))
            reps = inst.wait_until(lambda: h.reports_in(back, b"tok-delay"), 30, "a delay notice")
            rep = h.Report(reps[0]["data"])
            r = rep.recipient("slow@dest.test")
            assert r["action"].lower() == "delayed" and r["status"].startswith("4."), r
            mark = inst.master.mark()
            inst.wait_log(r"event=deferred .*id=%s" % qid, start=mark)
            state["fail"] = False
            inst.wait_until(lambda: h.delivered(sink, b"tok-delay"), 30, "delivery")
            inst.wait_queue_empty()
            assert len(h.delivered(sink, b"tok-delay")) == 1
            assert len(h.reports_in(back, b"tok-delay")) == 1, "more than one delay notice"
            inst.assert_clean()


def test_partial_delivery_survives_kill9_of_queued(tmp_path):
    """One message to two destinations: the first accepts, the second says
    451.  queued records the partial attempt in state/ID; after kill -9 of
    queued the restarted one retries only the second recipient, so the
    first gets the message exactly once."""
    state = {"fail": True}
    with dh.SmtpServer() as ok, \
            dh.SmtpServer(rcpt=lambda a: "451 4.2.1 later" if state["fail"] else "250 ok") as later, \
            dh.SmtpServer() as back:
        routes = ["ok.test " + relay(ok), "later.test " + relay(later), "localhost " + relay(back)]
        with h.Instance(tmp_path, routes) as inst:
            qid = inst.send(["a@ok.test", "b@later.test"], h.message(b"tok-partial"))
            inst.wait_log(r"event=delivered .*id=%s .*rcpt=a@ok\.test" % qid)
            inst.wait_log(r"event=deferred .*id=%s .*rcpt=b@later\.test" % qid)
            inst.wait_until(lambda: qid in inst.queue()["state"], 20, "state/" + qid)
            mark = inst.master.mark()
            os.kill(inst.pids("postern-queued")[0], signal.SIGKILL)
            inst.wait_log(r"event=daemon-ready role=queued", timeout=20, start=mark)
            inst.wait_log(r"event=deferred .*id=%s .*rcpt=b@later\.test" % qid, start=mark)
            state["fail"] = False
            inst.wait_until(lambda: h.delivered(later, b"tok-partial"), 30, "the second recipient")
            inst.wait_queue_empty()
            assert len(h.delivered(ok, b"tok-partial")) == 1, ok.transactions
            assert len(h.delivered(later, b"tok-partial")) == 1
            assert back.transactions == []
            assert not re.search(r"event=deferred .*rcpt=a@ok", inst.log())
            inst.assert_clean()


def test_refused_maildir_keeps_mail_until_repaired(tmp_path):
    """A maildir owned by root is refused by the master (logged with its
    path); the mail stays queued, never bounced.  Once the owner is fixed
    and the routes table rebuilt, a worker appears and (after
    `postern-queue flush`, in case the message was deferred meanwhile) the
    message is delivered once."""
    with h.MaildirUser() as user, dh.SmtpServer() as back:
        md = user.maildir(tmp_path / "mail" / "rootbox")
        for p in [md] + [os.path.join(md, d) for d in ("tmp", "new", "cur")]:
            os.chown(p, 0, 0)
        routes = ["local.test maildir:" + md, "localhost " + relay(back)]
        # The default retry schedule (300 s): a deferred message can only
        # come back through the flush.
        conf = ["deliver_workers = 1", "queue_delay_notice = 0"]
        with h.Instance(tmp_path, routes, base=conf) as inst:
            inst.wait_log(r"event=maildir-refused .*path=%s" % re.escape(md))
            qid = inst.send(["u@local.test"], h.message(b"tok-refused"))
            inst.wait_until(lambda: qid in inst.queue()["cur"], 20, "the message picked")
            assert not inst.pids("postern-maildir")
            for p in [md] + [os.path.join(md, d) for d in ("tmp", "new", "cur")]:
                os.chown(p, user.uid, user.gid)
            mark = inst.master.mark()
            inst.write_routes(routes)
            inst.wait_log(r"event=worker-start role=maildir", timeout=20, start=mark)
            assert inst.queue()["env"] == [qid] and back.transactions == []
            p = subprocess.run([os.path.join(public_bin(), "postern-queue"), "-c", inst.dir,
                                "flush"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=20)
            assert p.returncode == 0, p.stdout.decode()
            inst.wait_until(lambda: h.maildir_files(md), 20, "the file after the repair")
            inst.wait_queue_empty()
            assert len(h.maildir_files(md)) == 1 and back.transactions == []
            assert not re.search(r"event=(bounced|expired) .*id=%s" % qid, inst.log())
            inst.assert_clean()


# ---------------------------------------------------------------- crash safety


def test_kill9_queued_and_worker_loses_nothing(tmp_path):
    def slow(addr):
        time.sleep(0.2)
        return "250 2.1.5 ok"
    n = 30
    with dh.SmtpServer(rcpt=slow) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            toks = [b"tok-k9-%02d" % i for i in range(n)]
            inst.send_many([(["r%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            count = lambda: sum(1 for t in toks if h.delivered(sink, t))
            inst.wait_until(lambda: count() >= 3, 30, "first deliveries")
            assert count() < n, "all delivered before the kill: the test proves nothing"
            queued = inst.pids("postern-queued")
            assert len(queued) == 1, queued
            mark = inst.master.mark()
            os.kill(queued[0], signal.SIGKILL)
            inst.wait_log(r"event=daemon-ready role=queued", timeout=20, start=mark)
            inst.wait_until(lambda: inst.pids("postern-deliver"), 20, "fresh workers")
            before = count()
            inst.wait_until(lambda: count() >= before + 2, 30, "deliveries after the restart")
            assert count() < n, "all delivered before the worker kill"
            # Both workers: with the sink this slow, at least one is in the
            # middle of a transaction.
            workers = inst.pids("postern-deliver")
            assert workers, inst.log()
            mark = inst.master.mark()
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            inst.wait_log(r"event=worker-exit role=deliver .*signal=SIGKILL", start=mark)
            inst.wait_until(lambda: count() == n, 60, "every acknowledged message delivered")
            inst.wait_queue_empty(timeout=30)
            assert back.transactions == [], "no bounce expected"
            inst.assert_clean()


def test_worker_recycling_does_not_stall_the_queue(tmp_path):
    """Workers say `bye` after deliver_batch jobs and the master replaces
    them; with the default retry schedule (300 s) a message picked while
    no worker is there must not wait for its backoff: 12 messages through
    workers recycled every 2 jobs all arrive within the deadline."""
    n = 12
    with dh.SmtpServer() as sink, dh.SmtpServer() as back:
        routes = ["dest.test " + relay(sink), "localhost " + relay(back)]
        conf = ["deliver_workers = 2", "deliver_batch = 2", "queue_delay_notice = 0"]
        with h.Instance(tmp_path, routes, base=conf) as inst:
            toks = [b"tok-batch-%02d" % i for i in range(n)]
            inst.send_many([(["b%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            inst.wait_until(lambda: all(h.delivered(sink, t) for t in toks), 25,
                         "all %d messages with workers recycled every 2 jobs" % n)
            inst.wait_queue_empty()
            assert len(re.findall(r"event=worker-start role=deliver", inst.log())) >= n // 2
            inst.assert_clean()


def test_bounces_survive_kill9_of_queued(tmp_path):
    """Ten messages whose recipient is refused with 550, the MX slow;
    queued is killed -9 while reports are being made: every message still
    gets its report (a duplicate is allowed, a loss is not), and the queue
    empties."""
    def slow550(addr):
        time.sleep(0.15)
        return "550 5.1.1 unknown"
    n = 10
    with dh.SmtpServer(rcpt=slow550) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            toks = [b"tok-bk9-%02d" % i for i in range(n)]
            inst.send_many([(["bad%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            got = lambda: sum(1 for t in toks if h.reports_in(back, t))
            inst.wait_until(lambda: got() >= 2, 30, "first reports")
            assert got() < n, "every report made before the kill: the test proves nothing"
            mark = inst.master.mark()
            os.kill(inst.pids("postern-queued")[0], signal.SIGKILL)
            inst.wait_log(r"event=daemon-ready role=queued", timeout=20, start=mark)
            inst.wait_until(lambda: got() == n, 40, "a report for every message")
            inst.wait_queue_empty()
            inst.assert_clean()


def test_master_restart_keeps_mail_in_flight(tmp_path):
    """SIGTERM to the master while deliveries are in flight, then a new
    master on the same directory: every acknowledged message arrives."""
    def slow(addr):
        time.sleep(0.2)
        return "250 ok"
    n = 12
    with dh.SmtpServer(rcpt=slow) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            toks = [b"tok-term-%02d" % i for i in range(n)]
            inst.send_many([(["t%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            count = lambda: sum(1 for t in toks if h.delivered(sink, t))
            inst.wait_until(lambda: count() >= 2, 30, "first deliveries")
            inst.master.signal(signal.SIGTERM)
            assert inst.master.wait(40) == 0, inst.log()
            assert count() < n, "all delivered before the stop: the test proves nothing"
            assert not inst.pids("postern-deliver") and not inst.pids("postern-queued")
            first = inst.log()
            inst.master = h.Master(inst.dir)
            inst.master.start()
            inst.wait_log(r"event=daemon-ready role=queued", timeout=20)
            inst.wait_until(lambda: count() == n, 40, "every message after the restart")
            inst.wait_queue_empty()
            assert back.transactions == []
            assert "event=sandbox-violation" not in first
            inst.assert_clean()


def concurrency_probe(delay=0.3):
    """An rcpt callback that records how many RCPTs were pending at once."""
    lock = threading.Lock()
    st = {"now": 0, "max": 0}

    def rcpt(addr):
        with lock:
            st["now"] += 1
            st["max"] = max(st["max"], st["now"])
        time.sleep(delay)
        with lock:
            st["now"] -= 1
        return "250 ok"
    return rcpt, st


@pytest.mark.parametrize("per_dest", [1, 3])
def test_destination_concurrency_limit(tmp_path, per_dest):
    """deliver_destination_concurrency caps the simultaneous connections
    to one destination (3 workers, 6 messages, a slow sink): 1 means one
    at a time; 3 lets more than one through (the probe can see it)."""
    rcpt, st = concurrency_probe()
    with dh.SmtpServer(rcpt=rcpt) as sink, dh.SmtpServer() as back:
        conf = ["deliver_workers = 3", "deliver_destination_concurrency = %d" % per_dest]
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)],
                        conf=conf) as inst:
            toks = [b"tok-conc-%d" % i for i in range(6)]
            inst.send_many([(["c%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            inst.wait_until(lambda: all(h.delivered(sink, t) for t in toks), 30, "six deliveries")
            inst.wait_queue_empty()
            if per_dest == 1:
                assert st["max"] == 1, st
            else:
                assert 2 <= st["max"] <= 3, st
            inst.assert_clean()


def test_large_8bit_message_byte_exact(tmp_path):
    """A 1 MB message with 8-bit bytes and dot lines goes out byte-exact
    (BODY=8BITMIME to a sink that offers it)."""
    with dh.SmtpServer() as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["dest.test " + relay(sink), "localhost " + relay(back)]) as inst:
            line = "caf\u00e9 \u00fcber . line\r\n".encode() + b".\r\n"
            body = h.message(b"tok-big", extra=b"Content-Type: text/plain; charset=utf-8\r\n"
                             b"Content-Transfer-Encoding: 8bit\r\n") + line * (1024 * 1024 // len(line))
            qid = inst.send(["big@dest.test"], body)
            inst.wait_until(lambda: h.delivered(sink, b"tok-big"), 60, "the big message")
            inst.wait_queue_empty()
            t = h.delivered(sink, b"tok-big")
            assert len(t) == 1
            check_delivered_copy(t[0]["data"], body, qid, ids=False)
            assert b"BODY=8BITMIME" in t[0]["mail"].upper(), t[0]["mail"]
            inst.assert_clean()


def test_kill9_of_maildir_worker_leaves_no_partial_file(tmp_path):
    """kill -9 of postern-maildir (twice) while 200 KB messages are being
    written: every message ends up in new/, and every file in new/ is a
    whole message (a killed write may only leave something in tmp/)."""
    n = 24
    with h.MaildirUser() as user, dh.SmtpServer() as back:
        md = user.maildir(tmp_path / "mail" / "k9box")
        with h.Instance(tmp_path, ["local.test maildir:" + md,
                                   "localhost " + relay(back)]) as inst:
            filler = (b"0123456789abcdef" * 4 + b"\r\n") * 3000
            bodies = {b"tok-mk9-%02d" % i: h.message(b"tok-mk9-%02d" % i, msgid=False) + filler
                      for i in range(n)}
            def submit():
                # Spread over ~1 s, so messages are still arriving when the
                # first file shows up and the worker is killed.
                for i, b in enumerate(bodies.values()):
                    inst.send(["m%d@local.test" % i], b)
                    time.sleep(0.05)
            sender = threading.Thread(target=submit, daemon=True)
            sender.start()

            def landed():
                out = {}
                for f in h.maildir_files(md):
                    with open(f, "rb") as fh:
                        data = fh.read()
                    tok = [t for t in bodies if b"Subject: " + t + b"\r\n" in data]
                    assert len(tok) == 1 and data.endswith(bodies[tok[0]]), \
                        "partial or foreign file %s (%d bytes)" % (f, len(data))
                    out[tok[0]] = out.get(tok[0], 0) + 1
                return out
            kills = 0
            for k in (1, 4):
                inst.wait_until(lambda: len(landed()) >= k, 30, "%d files" % k)
                pids = inst.wait_until(lambda: inst.pids("postern-maildir"), 20, "the worker")
                if len(landed()) == n:
                    break       # the second kill is opportunistic
                mark = inst.master.mark()
                os.kill(pids[0], signal.SIGKILL)
                kills += 1
                inst.wait_log(r"event=worker-exit role=maildir .*signal=SIGKILL", start=mark)
            assert kills >= 1, "all delivered before any kill: the test proves nothing"
            sender.join(60)
            inst.wait_until(lambda: len(landed()) == n, 60, "all %d messages in new/" % n)
            inst.wait_queue_empty()
            assert back.transactions == []
            inst.assert_clean()


# ---------------------------------------------------------------- hostile MX


def scripted(on_rcpt=None, greeting=b"220 hostile ESMTP\r\n"):
    """A hostile server: greeting (bytes, maybe huge), minimal EHLO, and
    on_rcpt as the raw reply to RCPT."""
    def handler(c):
        c.sendall(greeting)
        f = c.makefile("rb")
        while True:
            line = f.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                c.sendall(b"250 hostile\r\n")
            elif verb == b"RCPT" and on_rcpt is not None:
                c.sendall(on_rcpt)
            elif verb in (b"MAIL", b"RSET", b"RCPT"):
                c.sendall(b"250 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.2 no\r\n")
    return handler


def garbage_550():
    """A multi-line 550 of 40 lines of 990 bytes each (over RFC 5321's 512,
    under the worker's 1000) full of control and 8-bit bytes."""
    junk = bytes(range(1, 32)).replace(b"\r", b"").replace(b"\n", b"") + b"\x7f\x80\xc3\xa9\xff"
    lines = [b"550-5.1.1 \x1b[31mhostile " + junk]
    for i in range(40):
        ln = b"550-" + (junk + b"garbage %d " % i) * 40
        lines.append(ln[:988])
    lines.append(b"550 5.1.1 end")
    return b"".join(l + b"\r\n" for l in lines)


def test_hostile_mx_affects_only_its_worker_and_is_sanitized(tmp_path):
    huge = b"".join(b"220-%s\r\n" % (b"z" * 990) for _ in range(10 * 1024 * 1024 // 996))
    with dh.SmtpServer() as good, dh.SmtpServer() as back, \
            dh.SmtpServer(handler=scripted(on_rcpt=garbage_550())) as garbage, \
            dh.SmtpServer(handler=scripted(on_rcpt=huge)) as flood, \
            dh.SmtpServer(handler=scripted(greeting=b"220 " + b"L" * 5000)) as longline:
        routes = ["dest.test " + relay(good), "localhost " + relay(back),
                  "garbage.test " + relay(garbage), "flood.test " + relay(flood),
                  "long.test " + relay(longline)]
        with h.Instance(tmp_path, routes) as inst:
            queued = inst.pids("postern-queued")
            qflood = inst.send(["x@flood.test"], h.message(b"tok-flood"))
            qlong = inst.send(["x@long.test"], h.message(b"tok-long"))
            qgarb = inst.send(["x@garbage.test"], h.message(b"tok-garbage"))
            toks = [b"tok-good-%d" % i for i in range(8)]
            inst.send_many([(["g%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
            inst.wait_until(lambda: all(h.delivered(good, t) for t in toks), 40,
                         "the good destination keeps getting mail")
            reps = inst.wait_until(lambda: h.reports_in(back, b"tok-garbage"), 30,
                                "a report for the garbage 550")
            rep = h.Report(reps[0]["data"])
            r = rep.recipient("x@garbage.test")
            assert r["action"].lower() == "failed" and r["status"] == "5.1.1", r
            diag = r["diagnostic-code"]
            assert h.printable_ascii(diag), repr(diag)
            assert "hostile" in diag and "\x1b" not in diag
            assert len(diag) <= 600, len(diag)
            assert all(b < 0x80 for b in reps[0]["data"])
            inst.wait_log(r"event=bounced .*id=%s" % qgarb)
            # Both protocol breakers were deferred (4.5.0 after a 10 MB RCPT
            # reply, 4.4.2 after a 5000-byte greeting line) and their worker
            # recycled, not bounced; queued never restarted.
            inst.wait_log(r"event=deferred .*id=%s.*status=4\.5\.0" % qflood, timeout=30)
            inst.wait_log(r"event=deferred .*id=%s.*status=4\.4\.2" % qlong, timeout=30)
            inst.wait_log(r"role=deliver .*event=stop reason=peer-misbehaved", timeout=30)
            assert flood.connections >= 1 and longline.connections >= 1
            assert inst.pids("postern-queued") == queued
            assert "event=daemon-exit role=queued" not in inst.log()
            assert h.reports_in(back, b"tok-flood") == [] and h.reports_in(back, b"tok-long") == []
            # The report itself leaves the queue once queued has its result.
            inst.wait_until(lambda: inst.queue()["env"] == sorted([qflood, qlong]), 20,
                         "only the two deferred messages left")
            inst.assert_clean()


def test_tarpit_mx_holds_only_one_worker(tmp_path):
    """An MX that accepts the connection and never says a word keeps one
    worker waiting for its greeting; the other worker goes on delivering
    to a good destination."""
    stop = threading.Event()

    def tarpit(c):
        stop.wait(60)
    with dh.SmtpServer() as good, dh.SmtpServer() as back, \
            dh.SmtpServer(handler=tarpit) as pit:
        routes = ["dest.test " + relay(good), "pit.test " + relay(pit),
                  "localhost " + relay(back)]
        try:
            with h.Instance(tmp_path, routes) as inst:
                inst.send(["x@pit.test"], h.message(b"tok-pit"))
                inst.wait_until(lambda: pit.connections >= 1, 20, "the tarpit connection")
                toks = [b"tok-pitgood-%d" % i for i in range(5)]
                inst.send_many([(["p%d@dest.test" % i], h.message(t)) for i, t in enumerate(toks)])
                inst.wait_until(lambda: all(h.delivered(good, t) for t in toks), 30,
                                "the good destination while one worker waits")
                assert pit.connections == 1
                assert len(inst.queue()["env"]) == 1
                inst.assert_clean()
        finally:
            stop.set()


# ---------------------------------------------------------------- make run


def test_local_instance_from_setup_delivers_to_outbox(tmp_path):
    """What `make run` does: postern-setup --outbox DIR, then postern -c DIR
    with nothing edited; mail to any address lands in the local outbox
    maildir DIR/outbox (route "* maildir:DIR/outbox", owner postern-outbox)."""
    os.chmod(str(tmp_path), 0o755)
    d = str(tmp_path / "run")
    port = free_port()
    p = subprocess.run([os.path.join(public_bin(), "postern-setup"), "--libexec", public_bin(),
                        "--hostname", h.HOSTNAME, "--port", str(port), "--outbox", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode()
    outbox = os.path.join(d, "outbox")
    owner = os.stat(outbox).st_uid
    assert owner >= 1000, owner
    inst = h.Instance(tmp_path, [], base=[], name="run")
    inst.port = port
    with inst:
        body = h.message(b"tok-local", msgid=False)
        qid = inst.send(["someone@example.net", "other@example.org"], body)
        files = inst.wait_until(lambda: h.maildir_files(outbox), 30, "a file in " + outbox)
        inst.wait_queue_empty()
        assert len(files) == 1, files
        with open(files[0], "rb") as f:
            check_delivered_copy(f.read(), body, qid, ids=True)
        assert os.stat(files[0]).st_uid == owner
        p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--auth", "PLAIN",
                            "--auth-user", h.LOGIN, "--auth-password", h.PASSWORD,
                            "--from", h.LOGIN, "--to", "x@example.net",
                            "--header", "Subject: tok-swaks"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        assert p.returncode == 0, p.stdout.decode()
        inst.wait_until(lambda: len(h.maildir_files(outbox)) == 2, 30, "the swaks message")
        inst.wait_queue_empty()
        with open([f for f in h.maildir_files(outbox) if f not in files][0], "rb") as f:
            assert b"Subject: tok-swaks" in f.read()
        inst.assert_clean()
