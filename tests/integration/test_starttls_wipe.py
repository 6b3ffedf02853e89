"""STARTTLS leaves no plaintext behind in postern-smtpd: bytes the client
pipelined after STARTTLS are discarded (never executed, test_tlsd.py),
and postern-smtpd also wipes its whole input buffer before it reads the
post-TLS pair, so a pipelined AUTH line is not left in memory until
later input happens to overwrite it.  Scanned in /proc/PID/mem (root)."""
import secrets

import pytest

from conftest import process_memory
from test_tlsd import certs, raw_starttls, read_replies  # noqa: F401
from tlsd_harness import ROOT, TlsSession


@pytest.mark.skipif(not ROOT, reason="needs root for /proc/PID/mem of other uids")
def test_pipelined_bytes_after_starttls_not_left_in_smtpd_memory(certs):  # noqa: F811
    marker = secrets.token_hex(40).encode()      # 80 bytes, in no binary
    with TlsSession("starttls", [certs["ecdsa"]]) as t:
        s = raw_starttls(t.port, b"AUTH PLAIN " + marker + b"\r\n")
        s.sendall(b"NOOP\r\n")       # overwrites only the buffer's first bytes
        assert read_replies(s) == b"250 2.0.0 Ok\r\n"
        discarded_by_smtpd = t.smtpd_log(r"discarded=[1-9]")
        mem = process_memory(t.smtpd_pid)
        assert len(mem) > 100000
        assert marker not in mem
        s.sendall(b"QUIT\r\n")
        read_replies(s)
        s.close()
    # The test means something only if the bytes reached smtpd's buffer.
    assert discarded_by_smtpd, "tlsd discarded them; smtpd's buffer never saw them"
