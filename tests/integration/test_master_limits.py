"""Connection limits: over connections_per_ip_max or connections_max the
client gets "421 4.7.0 HOSTNAME Too many connections" and the master logs
event=refused; a freed slot is usable again."""
import pytest

from conftest import free_port
from master_harness import (HOSTNAME, Master, connect, read_reply, session_of,
                            write_conf)


@pytest.mark.parametrize("key,limit", [("connections_per_ip_max", 2),
                                       ("connections_max", 3)])
def test_limit_gives_421(tmp_path, setup_dir, key, limit):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=["%s = %d" % (key, limit)])
    clients = []
    with Master(tmp_path) as m:
        try:
            sids = []
            for _ in range(limit):
                mark = m.mark()
                s = connect(port)
                clients.append(s)
                assert read_reply(s).startswith("220 ")
                sids.append(session_of(m, start=mark)[0])
            mark = m.mark()
            with connect(port) as extra:
                reply = read_reply(extra)
                assert reply == ("421 4.7.0 %s Too many connections, try again later\r\n"
                                 % HOSTNAME)
                assert extra.recv(100) == b""
            m.wait_for(r"event=refused reason=%s ip=127\.0\.0\.1 " % key, start=mark)
            # No session was started for it (the children's own lines may
            # still arrive after mark: only the master's event=connect counts).
            assert not [l for l in m.lines()[mark:] if l.startswith("postern: event=connect ")]
            # Free one slot: the next client is served again.
            clients[0].sendall(b"QUIT\r\n")
            assert read_reply(clients[0]).startswith("221 ")
            m.wait_for(r"event=session-end session=%s " % sids[0], start=mark)
            mark = m.mark()
            with connect(port) as again:
                assert read_reply(again).startswith("220 ")
            session_of(m, start=mark)
        finally:
            for s in clients:
                s.close()
