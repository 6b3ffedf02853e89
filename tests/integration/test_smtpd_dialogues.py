"""Runs every SMTP dialogue script in tests/dialogues/*.dlg against
postern-smtpd started by smtpd_harness (one script per edge case).

Script lines (blank lines and lines starting with '#' are skipped):
  ARGS: -t 1 -n 2          command-line overrides (before anything else)
  AUTHPEER: dead           the auth peer is gone from the start
  QUEUEPEER: dead          the queue peer is gone from the start
  GREET                    expect the 220 greeting
  LOGIN                    GREET, EHLO, and a successful AUTH PLAIN
  C: text                  client sends text + CRLF
  C+: escaped              client sends raw bytes (\\r \\n \\x00 \\\\ escapes)
  C*: N escaped            client sends the escaped bytes N times
  TRICKLE: SEC N escaped   client sends the escaped bytes N times, one
                           byte every SEC seconds, and stops early once
                           the server has sent something or closed
  S: line                  the next reply line is exactly this
  S~ regex                 the next reply line matches (re.match)
  CLOSED                   the server closes the connection next
  A: ok TICKET | no CODE TEXT | close
                           next answer of the scripted authd
  Q: reply CODE TEXT | close
                           next answer of the scripted queued
  QV: verb verb ...        verbs queued got (abort as abort:REASON)
  QV~ regex                the verbs joined by spaces match (re.fullmatch)
  QF: N f1|f2|...          fields of the N-th frame queued got (0-based)
  QD: escaped              bytes of all chunk frames, concatenated
  HANGUP                   client shuts its sending side (EOF to smtpd)
  AF: f1|f2|...            fields of the last frame authd got
  LOG~ regex               some log line matches (hangs up, waits for the exit)
  EXIT: n                  smtpd exits with n
"""
import codecs
import glob
import os
import re
import time

import pytest

from smtpd_harness import Smtpd, frame

HERE = os.path.dirname(os.path.abspath(__file__))
DLG_DIR = os.path.join(os.path.dirname(HERE), "dialogues")
SCRIPTS = sorted(glob.glob(os.path.join(DLG_DIR, "*.dlg")))


def unescape(s):
    return codecs.decode(s, "unicode_escape").encode("latin-1")


def peer_frame(spec):
    """A scripted answer: 'ok T', 'no CODE TEXT', 'reply CODE TEXT', 'close'."""
    verb, _, rest = spec.partition(" ")
    if verb == "close":
        return b"CLOSE"
    if verb == "raw":
        return unescape(rest)
    if verb == "ok":
        return frame("ok", rest)
    code, _, text = rest.partition(" ")
    return frame(verb, int(code), text)


def eventually(fn, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.02)
    return fn()


def trickle(s, interval, data):
    """Send data one byte at a time, interval seconds apart.  The wait
    between bytes is a select on the client socket, so the trickle ends
    as soon as the server answers or closes (what it sent stays unread
    for the next S: or CLOSED line)."""
    import select
    for i in range(len(data)):
        if s.buf:
            return
        if select.select([s.client], [], [], interval)[0]:
            return
        try:
            s.client.sendall(data[i:i + 1])
        except OSError:             # the server closed meanwhile
            return


def parse(path):
    steps, opts = [], {"args": {}, "auth_dead": False, "queue_dead": False}
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("ARGS:"):
                toks = line[5:].split()
                opts["args"].update(dict(zip(toks[::2], toks[1::2])))
            elif line == "AUTHPEER: dead":
                opts["auth_dead"] = True
            elif line == "QUEUEPEER: dead":
                opts["queue_dead"] = True
            else:
                steps.append((n, line))
    return opts, steps


def run_step(s, line):
    if line == "GREET":
        assert s.read_line().startswith("220 mx.example.org ESMTP postern ")
    elif line == "LOGIN":
        run_step(s, "GREET")
        s.ehlo()
        s.auth.push(frame("ok", "TICKET-1"))
        s.cmd("AUTH PLAIN AHVzZXIAcGFzcw==")
        assert s.read_line() == "235 2.7.0 Authentication successful"
    elif line.startswith("C: ") or line == "C:":
        s.cmd(line[3:])
    elif line.startswith("C+: "):
        s.send(unescape(line[4:]))
    elif line.startswith("C*: "):
        count, _, data = line[4:].partition(" ")
        s.send(unescape(data) * int(count))
    elif line.startswith("TRICKLE: "):
        interval, count, data = line[9:].split(" ", 2)
        trickle(s, float(interval), unescape(data) * int(count))
    elif line.startswith("S: "):
        got = s.read_line()
        assert got == line[3:], "expected %r, got %r" % (line[3:], got)
    elif line.startswith("S~ "):
        got = s.read_line()
        assert got is not None and re.match(line[3:], got), \
            "expected /%s/, got %r" % (line[3:], got)
    elif line == "CLOSED":
        assert s.closed(), "connection still open"
        # Nothing may come before the close that the script did not expect
        # (e.g. a reply to a smuggled or supposedly ignored command).
        assert s.buf == b"", "unexpected bytes before close: %r" % s.buf
    elif line.startswith("A: "):
        s.auth.push(peer_frame(line[3:]))
    elif line.startswith("Q: "):
        s.queue.push(peer_frame(line[3:]))
    elif line.startswith("QV:"):
        want = line[3:].split()
        assert eventually(lambda: s.queue.verbs() == want), s.queue.verbs()
    elif line.startswith("QV~ "):
        pat = line[4:]
        assert eventually(lambda: re.fullmatch(pat, " ".join(s.queue.verbs()))), \
            s.queue.verbs()
    elif line.startswith("QF: "):
        idx, _, rest = line[4:].partition(" ")
        want = [x.encode() for x in rest.split("|")]
        i = int(idx)
        assert eventually(lambda: len(s.queue.frames) > i and s.queue.frames[i] == want), \
            s.queue.frames
    elif line == "HANGUP":
        import socket
        s.client.shutdown(socket.SHUT_WR)
    elif line.startswith("QD: "):
        want = unescape(line[4:])
        assert eventually(lambda: s.queue.data() == want), s.queue.data()
    elif line.startswith("AF: "):
        want = [x.encode() for x in line[4:].split("|")]
        assert eventually(lambda: s.auth.frames and s.auth.frames[-1] == want), s.auth.frames
    elif line.startswith("LOG~ "):
        s.client.close()
        s.wait()
        assert s.log_has(line[5:]), s.log_lines
    elif line.startswith("EXIT: "):
        assert s.wait() == int(line[6:]), s.log_lines
    else:
        raise ValueError("unknown dialogue line %r" % line)


def assert_no_unread_reply(s):
    """Every reply line the server sent was matched by an S: line (a
    script cannot pass while the server answers something extra)."""
    import socket
    pending = s.buf
    try:
        s.client.settimeout(0)      # a peek at what already arrived
        pending += s.client.recv(65536)
    except OSError:                 # nothing there, or already closed
        pass
    assert pending == b"", "unexpected reply bytes: %r" % pending


@pytest.mark.parametrize("path", SCRIPTS, ids=[os.path.basename(p)[:-4] for p in SCRIPTS])
def test_dialogue(path):
    opts, steps = parse(path)
    with Smtpd(args=opts["args"], auth_dead=opts["auth_dead"],
               queue_dead=opts["queue_dead"]) as s:
        for n, line in steps:
            try:
                run_step(s, line)
            except AssertionError as e:
                raise AssertionError("%s:%d: %s\nlog: %s" % (
                    os.path.basename(path), n, e, s.log_lines)) from None
        assert_no_unread_reply(s)
        rc = s.close()
        assert rc == 0, (rc, s.log_lines)
        assert not s.queue.errors and not s.auth.errors
        assert any("event=session-end" in l for l in s.log_lines), s.log_lines


def test_there_are_dialogues():
    assert len(SCRIPTS) >= 30
