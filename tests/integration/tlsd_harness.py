"""Harness that runs postern-tlsd in front of postern-smtpd, without the
master: the test plays the master's part for one connection.

It listens on a free 127.0.0.1 port; the first connection accepted gets
a tlsd (descriptors TLSD_FD_* of lib/fds.h) and an smtpd (SMTPD_FD_*)
joined by the pre-TLS pair, the post-TLS pair and the control
socketpair, as DESIGN section 2 and master/session.c describe.  The
facts socket's far end is ours: the `keys` frame is written into it
before tlsd starts, the `tls` frame tlsd sends is collected and answered
with `ack` (unless ack=False: then tlsd must give up).  authd
and queued are the scripted peers of smtpd_harness.  Any client (Python
smtplib/ssl, swaks, openssl s_client) connects to `port`.

As root, smtpd runs as 65534 and tlsd as TLSD_UID in an empty root-owned
directory; otherwise both under the caller's ids.
"""
import os
import socket
import subprocess
import threading
import time

from conftest import prog
from smtpd_harness import Peer, default_args, empty_root, frame, parse_frame, _high

TLSD_UID = 64990
ROOT = os.geteuid() == 0


def make_cert(d, kind, cn="mail.example.org"):
    """A self-signed certificate and key in d: kind 'rsa' or 'ecdsa'."""
    cert, key = os.path.join(d, kind + "-cert.pem"), os.path.join(d, kind + "-key.pem")
    alg = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", *alg, "-nodes", "-days", "2",
                    "-subj", "/CN=" + cn, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def ticket_key(seed):
    """An 80-byte ticket key (name, AES, HMAC) derived from seed."""
    return bytes((seed + i) % 256 for i in range(80))


def tlsd_args(mode, certs, handshake=10, minv="1.2"):
    uid = str(TLSD_UID) if ROOT else str(os.getuid())
    gid = str(TLSD_UID) if ROOT else str(os.getgid())
    a = ["-m", mode]
    for cert, key in certs:
        a += ["-c", cert, "-k", key]
    a += ["-V", minv, "-H", str(handshake), "-T", "60", "-u", uid, "-g", gid,
          "-r", empty_root()]
    return a


class LogReader(threading.Thread):
    def __init__(self, fd):
        super().__init__(daemon=True)
        self.f = os.fdopen(fd, "rb")
        self.lines = []
        self.start()

    def run(self):
        for line in self.f:
            self.lines.append(line.decode("latin-1").rstrip("\n"))


class TlsSession:
    """One listener, one connection, one tlsd+smtpd pair."""

    def __init__(self, mode, certs, keys=(), handshake=10, minv="1.2",
                 tlsd_binary=None, smtpd_args=None, tlsd_argv=None, ack=True):
        self.mode = mode
        self.ack = ack
        self.tlsd_argv = tlsd_argv or tlsd_args(mode, certs, handshake, minv)
        self.tlsd_binary = tlsd_binary or prog("postern-tlsd")
        self.smtpd_args = dict(smtpd_args or {})
        self.keys = list(keys)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.facts = []
        self.tlsd_pid = self.smtpd_pid = None
        self.tlsd_rc = self.smtpd_rc = None
        self.ready = threading.Event()
        self.closed = threading.Event()
        self.error = None
        auth_ours, self._auth_s = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        queue_ours, self._queue_s = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.auth = Peer(auth_ours, "auth")
        self.queue = Peer(queue_ours, "queue")
        self.auth.start()
        self.queue.start()
        self._t = threading.Thread(target=self._accept, daemon=True)
        self._t.start()

    def _accept(self):
        try:
            self.listener.settimeout(20)
            conn, _ = self.listener.accept()
            self._spawn(conn)
        except Exception as e:  # reported by wait_ready()
            self.error = e
        finally:
            self.ready.set()
        # tlsd and smtpd die with the thread that spawned them (sandbox_enter
        # arms PR_SET_PDEATHSIG, which follows the parent thread): keep this
        # thread until close() has reaped them.
        self.closed.wait(600)

    def _spawn(self, conn):
        devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        pre_t, pre_s = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        post_t, post_s = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl_t, ctl_s = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        facts_ours, facts_t = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        auth_s, queue_s = self._auth_s, self._queue_s
        tlog_r, tlog_w = os.pipe()
        slog_r, slog_w = os.pipe()
        facts_ours.send(frame("keys", *self.keys))
        implicit = self.mode == "tls"
        tsrc = [_high(x) for x in (conn.fileno(), devnull if implicit else pre_t.fileno(),
                                   tlog_w, post_t.fileno(), ctl_t.fileno(), facts_t.fileno())]
        ssrc = [_high(x) for x in (devnull if implicit else pre_s.fileno(), post_s.fileno(),
                                   slog_w, ctl_s.fileno(), auth_s.fileno(), queue_s.fileno())]
        a = default_args()
        a["-m"] = self.mode
        a.update(self.smtpd_args)
        sargv = [x for k, v in a.items() for x in (k, v)]
        self.tlsd_pid = os.posix_spawn(
            self.tlsd_binary, [self.tlsd_binary] + self.tlsd_argv, {},
            file_actions=[(os.POSIX_SPAWN_DUP2, s, i) for i, s in enumerate(tsrc)])
        spath = prog("postern-smtpd")
        self.smtpd_pid = os.posix_spawn(
            spath, [spath] + sargv, {},
            file_actions=[(os.POSIX_SPAWN_DUP2, s, i) for i, s in enumerate(ssrc)])
        for fd in tsrc + ssrc + [devnull, tlog_w, slog_w]:
            os.close(fd)
        for s in (conn, pre_t, pre_s, post_t, post_s, ctl_t, ctl_s, facts_t, auth_s, queue_s):
            s.close()
        self.tlog = LogReader(tlog_r)
        self.slog = LogReader(slog_r)
        self.facts_sock = facts_ours
        threading.Thread(target=self._read_facts, daemon=True).start()

    def _read_facts(self):
        self.facts_sock.settimeout(0.2)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                pkt = self.facts_sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not pkt:
                return
            self.facts.append(parse_frame(pkt))
            if self.ack and self.facts[-1][:1] == [b"tls"]:
                self.facts_sock.send(frame("ack"))

    def wait_ready(self, timeout=20):
        assert self.ready.wait(timeout), "no connection accepted"
        if self.error:
            raise self.error

    # ---- the processes
    def _reap(self, pid, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p, status = os.waitpid(pid, os.WNOHANG)
            if p:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        return None

    def wait(self, timeout=10):
        """Wait for both processes; (tlsd_rc, smtpd_rc), None if running."""
        self.wait_ready()
        if self.tlsd_rc is None:
            self.tlsd_rc = self._reap(self.tlsd_pid, timeout)
        if self.smtpd_rc is None:
            self.smtpd_rc = self._reap(self.smtpd_pid, timeout)
        time.sleep(0.05)
        return self.tlsd_rc, self.smtpd_rc

    def close(self):
        self.listener.close()
        if not self.ready.is_set() or self.tlsd_pid is None:
            self.closed.set()
            return
        rcs = self.wait(10)
        for pid, rc in ((self.tlsd_pid, rcs[0]), (self.smtpd_pid, rcs[1])):
            if rc is None:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        self.closed.set()

    def tlsd_log(self, pattern):
        import re
        return any(re.search(pattern, l) for l in self.tlog.lines)

    def smtpd_log(self, pattern):
        import re
        return any(re.search(pattern, l) for l in self.slog.lines)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
