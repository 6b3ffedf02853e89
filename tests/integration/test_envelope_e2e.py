"""The one envelope grammar end to end: whatever postern-smtpd accepts is
delivered or answered per recipient, and never stops a delivery worker.
The real master, smtpd, queued and postern-deliver; submission over the
plain loopback listener with raw SMTP commands (smtplib would rewrite the
addresses); recording sinks and dnsmasq from deliver_harness.

Shown: a recipient at an IPv4 address literal is delivered to that
address, with a quoted local part with a space, and ENVID of 300 raw
octets (100 decoded), NOTIFY and ORCPT passed on as the client wrote
them; one at an IPv6 literal nobody listens on is deferred; a mailbox of
the longest allowed length (a 252-octet domain) is accepted and delivered
through a relay, one octet more is refused at RCPT; a general address
literal is refused at RCPT; a U-label domain under SMTPUTF8 is looked up
by its A-labels and delivered with SMTPUTF8, and bounced with 5.6.7 when
the next hop lacks SMTPUTF8.  In every test no worker exits but by
recycling (no `worker-restart`, no `event=fatal`).  Root only."""
import os

import pytest

import deliver_harness as dh
import delivery_e2e_harness as h
from conftest import free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

needs_dnsmasq = pytest.mark.skipif(not h.have_dnsmasq(),
                                   reason="dnsmasq-base not installed (build-aux/deps.sh)")


relay = h.relay


def transaction(inst, mail_arg, rcpt_args, body):
    """One raw transaction; the replies to MAIL and each RCPT, and the queue
    id (None if DATA was not reached)."""
    with inst.session() as s:
        replies = [s.docmd("MAIL FROM:" + mail_arg)]
        replies += [s.docmd("RCPT TO:" + r) for r in rcpt_args]
        if any(code != 250 for code, _ in replies):
            s.rset()
            return replies, None
        code, text = s.data(body)
        assert code == 250, (code, text)
        return replies, text.decode().rsplit(" ", 1)[1]


def assert_workers_never_failed(inst):
    log = inst.log()
    assert "event=worker-restart" not in log, log
    assert "event=fatal" not in log, log
    assert "reason=job-channel" not in log, log
    inst.assert_clean()


def sink_transaction(sink, token):
    got = h.delivered(sink, token)
    assert len(got) == 1, got
    return got[0]


def test_literals_quoted_local_part_and_dsn_values_deliver(tmp_path):
    port = free_port()
    envid = "+41" * 100
    with dh.SmtpServer(port=port) as sink, dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["* mx", "localhost " + relay(back)],
                        conf=["deliver_mx_port = %d" % port]) as inst:
            # Before: 250 at RCPT, then every attempt ended the worker
            # (event=fatal reason=job-channel) and the slot's backoff.
            _, q6 = transaction(inst, "<demo@localhost>", ["<d@[IPv6:::1]>"],
                                h.message(b"tok-v6"))
            _, q4 = transaction(inst, "<demo@localhost>", ["<c@[127.0.0.1]>"],
                                h.message(b"tok-v4"))
            inst.wait_until(lambda: h.delivered(sink, b"tok-v4"), 30, "the IPv4 literal")
            assert sink_transaction(sink, b"tok-v4")["rcpts"] == [b"RCPT TO:<c@[127.0.0.1]>"]
            inst.wait_log(r"event=deferred .*id=%s" % q6, timeout=30)
            # Before: 451 4.3.0 at RCPT (queued closed the session).
            rcpt = '<"a b"@[127.0.0.1]> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+20b@example.net'
            replies, qid = transaction(inst, "<demo@localhost> RET=HDRS ENVID=" + envid,
                                       [rcpt], h.message(b"tok-quoted"))
            assert all(code == 250 for code, _ in replies), replies
            inst.wait_until(lambda: h.delivered(sink, b"tok-quoted"), 30, "the quoted one")
            t = sink_transaction(sink, b"tok-quoted")
            assert t["mail"].startswith(b"MAIL FROM:<demo@localhost> "), t["mail"]
            assert t["mail"].endswith(b" RET=HDRS ENVID=" + envid.encode()), t["mail"]
            assert t["rcpts"] == [b"RCPT TO:" + rcpt.encode()], t
            inst.wait_until(lambda: inst.queue()["env"] == [q6], 20, "only the IPv6 one left")
            assert q4 != qid
            assert_workers_never_failed(inst)


def test_longest_mailbox_delivers_one_octet_more_is_refused(tmp_path):
    labels = ["d" * 62] * 4
    domain = ".".join(labels)[:252].rstrip(".")
    domain = domain + "e" * (252 - len(domain))
    assert len(domain) == 252
    with dh.SmtpServer() as sink:
        with h.Instance(tmp_path, ["* " + relay(sink)]) as inst:
            replies, qid = transaction(inst, "<demo@localhost>", ["<a@%s>" % domain],
                                       h.message(b"tok-long"))
            assert replies[-1][0] == 250, replies
            replies, none = transaction(inst, "<demo@localhost>", ["<ab@%s>" % domain],
                                        h.message(b"tok-longer"))
            assert replies[-1][0] == 501 and replies[-1][1].startswith(b"5.1.3"), replies
            assert none is None
            replies, none = transaction(inst, "<demo@localhost>", ["<a@[x-tag:abc]>"],
                                        h.message(b"tok-tag"))
            assert replies[-1][0] == 553 and replies[-1][1].startswith(b"5.1.2"), replies
            inst.wait_until(lambda: h.delivered(sink, b"tok-long"), 30, "the long mailbox")
            t = sink_transaction(sink, b"tok-long")
            assert t["rcpts"] == [("RCPT TO:<a@%s>" % domain).encode()], t
            inst.wait_queue_empty()
            assert_workers_never_failed(inst)


@needs_dnsmasq
def test_u_label_domain_delivers_with_smtputf8_or_bounces_5_6_7(tmp_path):
    port = free_port()
    recs = ["--mx-host=xn--bcher-kva.test,mx.utf8.test,10",
            "--host-record=mx.utf8.test,127.0.0.2",
            "--mx-host=xn--caf-dma.test,mx.ascii.test,10",
            "--host-record=mx.ascii.test,127.0.0.3"]
    with dh.Dnsmasq(recs) as dns, dh.SmtpServer("127.0.0.2", port) as utf8, \
            dh.SmtpServer("127.0.0.3", port, ehlo=["PIPELINING", "8BITMIME", "DSN"]) as ascii, \
            dh.SmtpServer() as back:
        with h.Instance(tmp_path, ["* mx", "localhost " + relay(back)],
                        conf=["dns_resolver = 127.0.0.1:%d" % dns.port,
                              "deliver_mx_port = %d" % port]) as inst:
            replies, _ = transaction(inst, "<demo@localhost> SMTPUTF8",
                                     ["<j\u00fcrgen@b\u00fccher.test>"], h.message(b"tok-idn"))
            assert all(code == 250 for code, _ in replies), replies
            replies, qcafe = transaction(inst, "<demo@localhost> SMTPUTF8",
                                         ["<x@caf\u00e9.test>"], h.message(b"tok-cafe"))
            assert all(code == 250 for code, _ in replies), replies
            inst.wait_until(lambda: h.delivered(utf8, b"tok-idn"), 30, "the U-label domain's MX")
            t = sink_transaction(utf8, b"tok-idn")
            assert b"SMTPUTF8" in t["mail"], t["mail"]
            assert t["rcpts"] == ["RCPT TO:<j\u00fcrgen@b\u00fccher.test>".encode()], t
            reps = inst.wait_until(lambda: h.reports_in(back, b"tok-cafe"), 30,
                                   "a report for the next hop without SMTPUTF8")
            rep = h.Report(reps[0]["data"])
            # RFC 6533 utf-8-addr-xtext in the report
            r = rep.recipient("x@caf\\x{E9}.test")
            assert r["action"].lower() == "failed" and r["status"] == "5.6.7", r
            assert ascii.transactions == []
            inst.wait_log(r"event=bounced .*id=%s" % qcafe)
            assert_workers_never_failed(inst)


def test_u_label_refused_by_idna_at_rcpt_and_routed_by_a_labels(tmp_path):
    # A U-label domain IDNA2008 refuses gets 553 5.1.2 at RCPT (before:
    # 250, then a bounce); a routes key in A-labels takes mail written
    # with U-labels in any case (before: it fell through to `*`).
    with dh.SmtpServer() as idn, dh.SmtpServer() as other:
        routes = ["xn--bcher-kva.test " + relay(idn), "* " + relay(other)]
        with h.Instance(tmp_path, routes) as inst:
            replies, none = transaction(inst, "<demo@localhost> SMTPUTF8",
                                        ["<u@\u2603.test>"], h.message(b"tok-snow"))
            assert replies[-1][0] == 553 and replies[-1][1].startswith(b"5.1.2"), replies
            assert none is None
            inst.wait_log(r"event=refused .*reason=idna")
            replies, qid = transaction(inst, "<demo@localhost> SMTPUTF8",
                                       ["<j\u00fcrgen@B\u00fcCHER.test>", "<x@b\u00fccher.test>"],
                                       h.message(b"tok-alabel"))
            assert all(code == 250 for code, _ in replies), replies
            inst.wait_until(lambda: h.delivered(idn, b"tok-alabel"), 30, "the A-label route")
            t = sink_transaction(idn, b"tok-alabel")
            assert len(t["rcpts"]) == 2, t   # one destination, one transaction
            assert other.transactions == []
            inst.wait_queue_empty()
            assert_workers_never_failed(inst)
