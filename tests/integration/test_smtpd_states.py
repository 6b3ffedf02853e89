"""Every verb in every session state (RFC 5321 §4.1.4 ordering): the
expected first reply code, and that the session goes on afterwards."""
import pytest

from smtpd_harness import Smtpd

STATES = ["greeted", "ready-noauth", "ready", "mail", "rcpt"]

# verb line -> expected code per state, in STATES order
VERBS = {
    "EHLO client.example.org": [250, 250, 250, 250, 250],
    "HELO client.example.org": [250, 250, 250, 250, 250],
    "MAIL FROM:<a@example.org>": [503, 530, 250, 503, 503],
    "RCPT TO:<b@example.net>": [503, 503, 503, 250, 250],
    "DATA": [503, 503, 503, 503, 354],
    "RSET": [250, 250, 250, 250, 250],
    "NOOP": [250, 250, 250, 250, 250],
    "QUIT": [221, 221, 221, 221, 221],
    "VRFY postmaster": [252, 252, 252, 252, 252],
    "HELP": [214, 214, 214, 214, 214],
    "STARTTLS": [502, 502, 502, 502, 502],
    "AUTH PLAIN AHVzZXIAcGFzcw==": [503, 535, 503, 503, 503],
    "EXPN staff": [502, 502, 502, 502, 502],
    "BDAT 1 LAST": [502, 502, 502, 502, 502],
    "XYZZY": [500, 500, 500, 500, 500],
}


def enter(s, state):
    s.greet()
    if state == "greeted":
        return
    if state == "ready-noauth":
        s.ehlo()
        return
    s.ehlo()
    from smtpd_harness import frame
    s.auth.push(frame("ok", "T"))
    s.cmd("AUTH PLAIN AHVzZXIAcGFzcw==")
    s.expect(235)
    if state in ("mail", "rcpt"):
        s.cmd("MAIL FROM:<a@example.org>")
        s.expect(250)
    if state == "rcpt":
        s.cmd("RCPT TO:<b@example.net>")
        s.expect(250)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("verb", list(VERBS))
def test_verb_in_state(state, verb):
    want = VERBS[verb][STATES.index(state)]
    with Smtpd() as s:
        enter(s, state)
        s.cmd(verb)
        code, lines = s.reply()
        assert code == want, lines
        # Enhanced codes on every status reply but the EHLO/HELO answer
        # (RFC 2034 §4); 354 is not a status reply.
        if code != 354 and not verb.startswith(("EHLO", "HELO")):
            for line in lines:
                assert line[4] == str(code)[0] and line[5] == ".", line
        if code == 221:
            assert s.closed()
            return
        if code == 354:
            s.send(b"hello\r\n.\r\n")
            assert s.expect(250)
        s.cmd("NOOP")
        assert s.reply() == (250, ["250 2.0.0 Ok"])
