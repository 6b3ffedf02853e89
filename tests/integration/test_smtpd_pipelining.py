"""PIPELINING (RFC 2920 §3.1): replies to a pipelined group leave in one
write, flushed after a group-ending command (EHLO, DATA, VRFY, EXPN, QUIT,
NOOP, ...) or when no complete command is left in the input.  The client
socket here is SOCK_SEQPACKET, so each write(2) of smtpd is one packet."""
import socket

from smtpd_harness import Smtpd, frame


def packets(s, n):
    """The next n packets from smtpd, as lists of reply lines."""
    s.client.settimeout(5)
    out = []
    for _ in range(n):
        pkt = s.client.recv(65536)
        assert pkt, "connection closed"
        out.append(pkt.decode().split("\r\n")[:-1])
    return out


def start():
    s = Smtpd(client_type=socket.SOCK_SEQPACKET)
    assert packets(s, 1)[0][0].startswith("220 ")
    s.send(b"EHLO client.example.org\r\n")
    assert len(packets(s, 1)[0]) == 8           # the whole EHLO reply, one write
    s.auth.push(frame("ok", "T"))
    s.send(b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n")
    assert packets(s, 1) == [["235 2.7.0 Authentication successful"]]
    return s


def test_transaction_group_in_one_write():
    with start() as s:
        s.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
               b"RCPT TO:<c@example.net>\r\nDATA\r\n")
        assert packets(s, 1) == [["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                                  "354 End data with <CR><LF>.<CR><LF>"]]
        s.send(b"hi\r\n.\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n")
        # The end-of-data reply closes the DATA group: its own write.
        assert packets(s, 2) == [["250 2.0.0 Ok: queued as TESTQUEUEID"],
                                 ["250 2.0.0 Ok", "250 2.1.0 Ok", "221 2.0.0 Bye"]]


def test_group_enders_flush_at_once():
    with start() as s:
        s.send(b"NOOP\r\nVRFY x\r\nRSET\r\nHELP\r\n")
        got = packets(s, 3)
        assert got[0] == ["250 2.0.0 Ok"]
        assert got[1][0].startswith("252 ")
        assert got[2][0] == "250 2.0.0 Ok" and got[2][1].startswith("214 ")


def test_partial_command_flushes_what_is_done():
    with start() as s:
        s.send(b"RSET\r\nRSET\r\nNOO")
        assert packets(s, 1) == [["250 2.0.0 Ok", "250 2.0.0 Ok"]]
        s.send(b"P\r\n")
        assert packets(s, 1) == [["250 2.0.0 Ok"]]
