"""Delivery to a third-party SMTP server: Debian's python3-aiosmtpd, not our
own recording sink, so the client is checked against an implementation we
did not write.

A real master, smtpd, queued and postern-deliver; a `relay:` route to an
aiosmtpd Controller on a free loopback port.  Three recipients of one
message arrive in one transaction, the body arrives byte-exact (aiosmtpd
un-dot-stuffs, so lines starting with '.' test the client's stuffing)
with the trusted header block in front, an 8-bit body goes out with
BODY=8BITMIME (aiosmtpd offers it), and the queue is empty afterwards.
Root only (postern-setup)."""
import os
import threading

import pytest

import delivery_e2e_harness as h
from test_delivery_e2e import check_delivered_copy

aiosmtpd = pytest.importorskip("aiosmtpd.controller",
                               reason="python3-aiosmtpd not installed (build-aux/deps.sh)")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


class Recorder:
    """aiosmtpd handler: keeps every transaction's envelope and raw bytes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.got.append({"from": envelope.mail_from,
                             "rcpts": list(envelope.rcpt_tos),
                             "options": list(envelope.mail_options),
                             "data": bytes(envelope.original_content)})
        return "250 2.0.0 stored"

    def with_token(self, token):
        with self.lock:
            return [t for t in self.got if token in t["data"]]


def start_aiosmtpd(handler):
    from conftest import free_port
    ctl = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=free_port(),
                              decode_data=False, enable_SMTPUTF8=True)
    ctl.start()
    return ctl


def test_relay_to_aiosmtpd(tmp_path):
    rec = Recorder()
    ctl = start_aiosmtpd(rec)
    try:
        inst = h.Instance(tmp_path, ["* relay:127.0.0.1:%d" % ctl.port])
        with inst:
            body = h.message(b"tok-aio-1", extra=b"X-Test: aiosmtpd\r\n")
            body += b".\r\n..two dots\r\n.\r\n"          # dot-stuffing at every kind of line
            q1 = inst.send(["a@one.test", "b@one.test", "c@one.test"], body)
            eight = h.message(b"tok-aio-2").replace(b"body of", "bödy of".encode())
            q2 = inst.send(["d@one.test"], eight)
            inst.wait_until(lambda: rec.with_token(b"tok-aio-1") and rec.with_token(b"tok-aio-2"),
                            30, "both messages at aiosmtpd")
            inst.wait_queue_empty()
            t1 = rec.with_token(b"tok-aio-1")
            assert len(t1) == 1, t1
            assert t1[0]["from"] == "demo@localhost"
            assert t1[0]["rcpts"] == ["a@one.test", "b@one.test", "c@one.test"]
            check_delivered_copy(t1[0]["data"], body, q1, ids=False)
            t2 = rec.with_token(b"tok-aio-2")
            assert len(t2) == 1 and t2[0]["rcpts"] == ["d@one.test"], t2
            assert "BODY=8BITMIME" in t2[0]["options"], t2[0]["options"]
            check_delivered_copy(t2[0]["data"], eight, q2, ids=False)
            inst.wait_log(r"event=delivered .*id=%s" % q2)
            inst.assert_clean()
    finally:
        ctl.stop()
