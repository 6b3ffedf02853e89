"""Bounce reports (queue/bounce.c) parsed by an independent MIME reader.

The unit test binary build/tests/test_queue_bounce, run with
POSTERN_BOUNCE_OUT=DIR, commits originals into throw-away queue
directories, calls bounce_queue for a set of scenarios and writes each
report (the new queue message) to DIR/NAME.eml and its envelope to
DIR/NAME.env.  Here Python's `email` package parses them: RFC 3464 /
RFC 6522 structure, per-recipient fields, returned headers vs. the full
message, ENVID/ORCPT, hostile reply text, NOTIFY semantics, sender <>.
"""
import email
import email.policy
import email.utils
import os
import re
import subprocess

import pytest

from conftest import BUILD

DRIVER = os.path.join(BUILD, "tests", "test_queue_bounce")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    # `make check` builds the unit tests first; a missing driver is a
    # failure, not a skip, so the report checks cannot silently vanish.
    assert os.access(DRIVER, os.X_OK), "unit test binary not built: %s" % DRIVER
    d = tmp_path_factory.mktemp("bounces")
    env = dict(os.environ, POSTERN_BOUNCE_OUT=str(d))
    r = subprocess.run([DRIVER], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return d


def unfold(v):
    return re.sub(r"\r?\n(?=[ \t])", "", str(v))


def load(out, name):
    raw = (out / (name + ".eml")).read_bytes()
    env = dict(line.split("=", 1) for line in (out / (name + ".env")).read_text().splitlines())
    return raw, email.message_from_bytes(raw, policy=email.policy.compat32), env


def wire_safe(raw):
    """7-bit, CRLF only, lines of at most 998 octets."""
    assert all(0 < b < 0x80 for b in raw), "not 7-bit"
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    for ln in lines:
        assert b"\r" not in ln and b"\n" not in ln, ln[:80]
        assert len(ln) <= 998, len(ln)


def parts(msg):
    assert msg.is_multipart()
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    p = msg.get_payload()
    assert len(p) == 3, [x.get_content_type() for x in p]
    assert p[0].get_content_type() == "text/plain"
    assert p[1].get_content_type() == "message/delivery-status"
    blocks = p[1].get_payload()
    per_msg = {k.lower(): unfold(v) for k, v in blocks[0].items()}
    rcpts = [{k.lower(): unfold(v) for k, v in b.items()} for b in blocks[1:]]
    return p, per_msg, rcpts


def check_envelope(env):
    assert env["sender"] == ""
    assert env["rcpt"] == "alice@example.org"
    assert env["nrcpt"] == "1"
    assert env["notify"] == "NEVER"


def test_failed_headers_only(out):
    raw, m, env = load(out, "failed_hdrs")
    wire_safe(raw)
    check_envelope(env)
    assert m["From"] == "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    assert m["To"] == "<alice@example.org>"
    assert m["Subject"] == "Undelivered Mail Returned to Sender"
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["MIME-Version"] == "1.0"
    assert email.utils.parsedate_tz(m["Date"]) is not None
    assert re.fullmatch(r"<[a-z2-7]{20}\.\d+@mx\.example\.org>", m["Message-ID"])
    p, per_msg, rcpts = parts(m)
    assert per_msg["reporting-mta"] == "dns; mx.example.org"
    assert "arrival-date" in per_msg and "original-envelope-id" not in per_msg
    assert [r["final-recipient"] for r in rcpts] == ["rfc822;bad@dest.test",
                                                      "rfc822;other@dest.test"]
    assert all(r["action"] == "failed" for r in rcpts)
    assert [r["status"] for r in rcpts] == ["5.1.1", "5.2.2"]
    assert rcpts[0]["diagnostic-code"] == "smtp; 550 5.1.1 no such user"
    assert rcpts[0]["remote-mta"] == "dns; mx.dest.test"
    assert "original-recipient" not in rcpts[0]
    assert rcpts[1]["original-recipient"] == "rfc822;Other+x@dest.test"
    assert "will-retry-until" not in rcpts[0]
    text = p[0].get_payload()
    assert "bad@dest.test" in text and "5.1.1" in text and "no such user" in text
    assert p[2].get_content_type() == "text/rfc822-headers"
    hdrs = p[2].get_payload()
    assert "Subject: hello original" in hdrs
    assert "Received: by mx.example.org (postern)" in hdrs
    assert "body line one" not in hdrs
    # The boundary occurs only as a delimiter.
    b = m.get_boundary()
    assert b and raw.count(b.encode()) == 5


def test_full_returns_message(out):
    raw, m, env = load(out, "failed_full")
    wire_safe(raw)
    check_envelope(env)
    p, _, rcpts = parts(m)
    assert len(rcpts) == 1
    assert p[2].get_content_type() == "message/rfc822"
    inner = p[2].get_payload()[0]
    assert inner["Subject"] == "hello original"
    assert "body line one" in inner.get_payload()


def test_hdrs_with_envid(out):
    raw, m, env = load(out, "envid_hdrs")
    wire_safe(raw)
    p, per_msg, rcpts = parts(m)
    assert per_msg["original-envelope-id"] == "QQ+314159"
    assert p[2].get_content_type() == "text/rfc822-headers"
    assert "body line one" not in p[2].get_payload()


def test_delayed(out):
    raw, m, env = load(out, "delayed")
    wire_safe(raw)
    check_envelope(env)
    assert m["Subject"] == "Delayed Mail (still being retried)"
    _, _, rcpts = parts(m)
    r = rcpts[0]
    assert r["action"] == "delayed" and r["status"] == "4.4.1"
    assert r["diagnostic-code"] == "smtp; 451 4.4.1 try later"
    # Arrival 1700000000 (the driver's original), default lifetime 5 days.
    when = lambda v: email.utils.parsedate_to_datetime(v).timestamp()
    assert when(r["will-retry-until"]) == 1700000000 + 432000
    assert when(r["last-attempt-date"]) == 1700000100
    assert when(parts(m)[1]["arrival-date"]) == 1700000000


def test_delivered(out):
    raw, m, env = load(out, "delivered")
    wire_safe(raw)
    assert m["Subject"] == "Successful Mail Delivery Report"
    _, _, rcpts = parts(m)
    assert rcpts[0]["action"] == "delivered" and rcpts[0]["status"] == "2.0.0"
    assert "will-retry-until" not in rcpts[0]


def test_hostile_text_sanitized_and_capped(out):
    raw, m, env = load(out, "hostile")
    wire_safe(raw)
    assert b"\r\nX-Injected" not in raw
    _, _, rcpts = parts(m)
    diag = rcpts[0]["diagnostic-code"]
    assert diag.startswith("smtp; 550 5.1.1 x??X-Injected: 1????BBB"), diag[:60]
    assert len(diag) == len("smtp; 550 ") + 512
    assert all(0x20 <= ord(c) < 0x7f for c in diag)


def test_null_sender_commits_nothing(out):
    assert not (out / "null_sender.eml").exists()
    # Only the original is in new/.
    assert (out / "null_sender.none").read_text().strip() == "new=1"


def test_notify_semantics(out):
    t = dict(line.split("=", 1) for line in (out / "notify.txt").read_text().splitlines())
    # failed, delayed, delivered
    assert t[""] == "110"
    assert t["NEVER"] == "000" and t["never"] == "000"
    assert t["SUCCESS"] == "001"
    assert t["FAILURE,DELAY"] == "110"
    assert t["success,failure,delay"] == "111"
    assert t["DELAY"] == "010"
