"""Development mode: the master started without root logs exactly one
not-root warning, and its children run as the same uid, without chroot,
but still under seccomp."""
import grp
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import free_port, public_bin
from master_harness import Master, connect, proc_status, read_reply, session_of, write_conf


class NobodyMaster(Master):
    """A Master started as nobody:nogroup through setpriv."""

    def start(self, wait_listening=True):
        import threading
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
             os.path.join(public_bin(), "postern"), "-c", self.confdir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_listening:
            self.wait_for(r"event=start ")


def test_master_without_root(is_root):
    if not is_root:
        pytest.skip("uses setpriv to become nobody")
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-master-nobody-"))
    try:
        os.chmod(base, 0o755)
        (base / "empty").mkdir()
        (base / "queue").mkdir()
        port = free_port()
        write_conf(base / "conf", base, port, libexec=public_bin())
        for p in [base, base / "empty", base / "queue", base / "conf"]:
            os.chown(p, nobody, nogroup)
        with NobodyMaster(base / "conf") as m:
            mark = m.mark()
            with connect(port) as s:
                assert read_reply(s).startswith("220 ")
                _, pid = session_of(m, start=mark)
                st = proc_status(pid)
                assert st["Uid"].split() == [str(nobody)] * 4
                assert st["Seccomp"] == "2"
                assert os.readlink("/proc/%d/root" % pid) == "/"
                s.sendall(b"QUIT\r\n")
                read_reply(s)
            # The master holds the auth MAC key and the ticket keys: no
            # core file, and not dumpable (its /proc files then belong to
            # root, so another process of its uid cannot read its memory).
            master = m.proc.pid
            assert os.stat("/proc/%d/mem" % master).st_uid == 0
            limits = pathlib.Path("/proc/%d/limits" % master).read_text()
            core = [l for l in limits.splitlines() if l.startswith("Max core file size")]
            assert core and core[0].split()[4:6] == ["0", "0"], core
            warnings = [l for l in m.lines() if "event=warning reason=not-root" in l]
            assert len(warnings) == 1, m.log()
            assert "uid=%d" % nobody in warnings[0]
            assert proc_status(m.proc.pid)["Uid"].split()[0] == str(nobody)
    finally:
        shutil.rmtree(base)
