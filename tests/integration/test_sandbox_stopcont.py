"""A stopped and continued role survives its sandbox (lib/sandbox_common.c:
restart_syscall).

After SIGSTOP + SIGCONT the kernel resumes a poll() that had a timeout
through restart_syscall; a role whose filter lacked it died of SIGSYS
(seen when attaching strace -p to postern-queued).  A real master with a
routes table and an open SMTP session: every role (authd, queued, the
delivery workers, smtpd) is stopped for a moment while it sleeps in poll
and continued, twice; each must still be alive, the session must still
answer, and the master must log no sandbox violation.  Root only."""
import os
import signal
import time

import pytest

from conftest import free_port
from master_harness import Master, connect, read_reply, write_conf
from test_master_orphans import ROLES, descendants, stat_of, wait_until, write_routes, _seccomp

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def test_stop_and_continue_every_role(tmp_path, setup_dir):
    port = free_port()
    conf = tmp_path / "conf"
    write_conf(conf, setup_dir, port, extra=["deliver_workers = 2"])
    write_routes(conf)
    with Master(conf) as m:
        m.wait_for(r"event=daemon-ready role=queued", timeout=20)
        m.wait_for(r"event=daemon-ready role=authd", timeout=20)
        with connect(port) as sock:
            assert read_reply(sock).startswith("220 "), m.log()

            def all_up():
                d = descendants(m.proc.pid)
                names = sorted(d.values())
                if names.count("postern-deliver") == 2 and all(r in names for r in ROLES):
                    return d
                return None
            roles = wait_until(all_up, 30, "authd, queued, 2 workers and smtpd", m.log())
            for pid in roles:
                wait_until(lambda: _seccomp(pid) == "2", 20, "pid %d sandboxed" % pid, m.log())
            time.sleep(0.3)             # let each settle into its poll()
            for _ in range(2):
                for pid in roles:
                    os.kill(pid, signal.SIGSTOP)
                time.sleep(0.2)
                for pid in roles:
                    os.kill(pid, signal.SIGCONT)
                time.sleep(0.3)
            dead = {p: c for p, c in roles.items() if stat_of(p) is None}
            assert dead == {}, "died after SIGSTOP/SIGCONT: %r\n%s" % (dead, m.log())
            assert "sandbox-violation" not in m.log(), m.log()
            sock.sendall(b"NOOP\r\n")
            assert read_reply(sock).startswith("250"), m.log()
