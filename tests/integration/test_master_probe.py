"""Invariant 3 through the master: with libexec_dir pointing at a probe
build of postern-smtpd (which tries open/socket/execve right after entering
its sandbox), each session dies at once by SIGSYS, the master logs
event=sandbox-violation for it, and keeps running and serving."""
import os

import pytest

from conftest import BUILD, BIN, free_port
from master_harness import Master, connect, read_reply, session_of, write_conf


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_probe_session_is_a_sandbox_violation(tmp_path, setup_dir, probe):
    libexec = os.path.join(BUILD, "probe-%s" % probe, "bin")
    assert os.path.exists(os.path.join(libexec, "postern-smtpd")), \
        "probe build missing: run `make probes` (B=%s)" % BUILD
    port = free_port()
    write_conf(tmp_path, setup_dir, port, libexec=libexec)
    with Master(tmp_path) as m:
        for _ in range(2):          # the master survives and serves again
            mark = m.mark()
            with connect(port) as s:
                reply = read_reply(s)
            assert not reply.startswith("220"), reply
            sid, _ = session_of(m, start=mark)
            m.wait_for(r"event=sandbox-violation session=%s role=smtpd signal=SIGSYS" % sid,
                       start=mark)
            m.wait_for(r"event=session-end session=%s signal=SIGSYS" % sid, start=mark)
            assert m.proc.poll() is None


def test_normal_master_still_serves(tmp_path, setup_dir):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, libexec=BIN)
    with Master(tmp_path) as m:
        with connect(port) as s:
            assert read_reply(s).startswith("220 ")
            s.sendall(b"QUIT\r\n")
            assert read_reply(s).startswith("221 ")
        assert "sandbox-violation" not in m.log()
