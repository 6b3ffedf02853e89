"""Harness that runs postern-smtpd directly, without the master.

The test is the client (fd 0 is one end of a socketpair) and plays
postern-authd (fd 4) and postern-queued (fd 5) with scripted peers that
speak the channels' grammar (smtpd/auth_client.h, smtpd/queue_client.h:
netstring frames, one per SOCK_SEQPACKET packet).  fd 1 and 3 are /dev/null, fd 2 a pipe whose lines
the harness collects.  As root smtpd is sandboxed as uid/gid 65534 in an
empty root-owned directory; otherwise under the caller's ids.

Used by test_smtpd_*.py and the dialogue runner (tests/dialogues/*.dlg).
"""
import collections
import os
import socket
import tempfile
import threading
import time

from conftest import prog

# ---------------------------------------------------------------- frames


def ns(b):
    """One netstring."""
    return str(len(b)).encode() + b":" + b + b","


def frame(*fields):
    """A channel frame: a netstring of netstring fields."""
    out = b""
    for f in fields:
        if isinstance(f, int):
            f = str(f).encode()
        elif isinstance(f, str):
            f = f.encode()
        out += ns(f)
    return ns(out)


def parse_ns(buf, off):
    """Parse one netstring at buf[off:]; returns (payload, next offset)."""
    colon = buf.index(b":", off)
    n = int(buf[off:colon])
    start = colon + 1
    if buf[start + n:start + n + 1] != b",":
        raise ValueError("bad netstring")
    return buf[start:start + n], start + n + 1


def parse_frame(pkt):
    """A packet to its list of fields (bytes)."""
    payload, end = parse_ns(pkt, 0)
    if end != len(pkt):
        raise ValueError("trailing bytes after frame")
    fields, off = [], 0
    while off < len(payload):
        f, off = parse_ns(payload, off)
        fields.append(f)
    return fields


# ----------------------------------------------------------- scripted peers

QUEUE_DEFAULTS = {
    b"mail": (250, "2.1.0 Ok"),
    b"rcpt": (250, "2.1.5 Ok"),
    b"data": (354, "End data with <CR><LF>.<CR><LF>"),
    b"end": (250, "2.0.0 Ok: queued as TESTQUEUEID"),
    b"rset": (250, "2.0.0 Ok"),
}
AUTH_DEFAULT = frame("no", 535, "5.7.8 Authentication credentials invalid")


class Peer(threading.Thread):
    """A scripted authd or queued on our end of a SEQPACKET pair.

    It records every frame it gets (self.frames, lists of bytes fields)
    and answers requests from self.script (raw packets, in order) or with
    the defaults.  dead=True closes the socket at once."""

    def __init__(self, sock, kind, dead=False):
        super().__init__(daemon=True)
        self.sock, self.kind, self.dead = sock, kind, dead
        self.frames = []
        self.script = collections.deque()
        self.errors = []
        if dead:
            sock.close()

    def push(self, pkt):
        self.script.append(pkt)

    def answer(self, fields):
        if self.script:
            return self.script.popleft()
        if self.kind == "auth":
            return AUTH_DEFAULT
        if fields[0] in QUEUE_DEFAULTS:
            code, text = QUEUE_DEFAULTS[fields[0]]
            return frame("reply", code, text)
        return None

    def run(self):
        if self.dead:
            return
        self.sock.settimeout(0.2)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                pkt = self.sock.recv(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            if not pkt:
                return
            try:
                fields = parse_frame(pkt)
            except ValueError as e:
                self.errors.append(str(e))
                return
            self.frames.append(fields)
            if fields[0] in (b"chunk", b"abort"):
                continue
            reply = self.answer(fields)
            if reply == b"CLOSE":
                self.sock.close()
                return
            if reply is not None:
                try:
                    self.sock.send(reply)
                except OSError:
                    return

    def verbs(self):
        """The verbs received; abort frames as abort:REASON."""
        out = []
        for f in self.frames:
            v = f[0].decode()
            if v == "abort":
                v += ":" + f[1].decode()
            out.append(v)
        return out

    def data(self):
        """The concatenated bytes of all chunk frames."""
        return b"".join(f[1] for f in self.frames if f[0] == b"chunk")


# ------------------------------------------------------------- the process

_EMPTY_ROOT = None


def empty_root():
    """An empty directory owned by root, mode 0755, for the chroot."""
    global _EMPTY_ROOT
    if _EMPTY_ROOT is None:
        _EMPTY_ROOT = tempfile.mkdtemp(prefix="postern-smtpd-root-")
        os.chmod(_EMPTY_ROOT, 0o755)
    return _EMPTY_ROOT


def default_args():
    if os.geteuid() == 0:
        uid = gid = "65534"
    else:
        uid, gid = str(os.getuid()), str(os.getgid())
    return {
        "-s": "test-session", "-m": "plain", "-h": "mx.example.org",
        "-a": "127.0.0.1", "-p": "40000", "-z": "10000", "-n": "100",
        "-t": "10", "-T": "60", "-c": "10", "-P": "60",
        "-u": uid, "-g": gid, "-r": empty_root(),
    }


def _high(fd):
    """A close-on-exec duplicate numbered >= 10, so dup2 actions in the
    child never overwrite a source."""
    import fcntl
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


class Smtpd:
    """One postern-smtpd process with its client socket and peers."""

    def __init__(self, args=None, auth_dead=False, queue_dead=False,
                 binary=None, argv=None, timeout=5.0, client_type=socket.SOCK_STREAM, env=None):
        a = default_args()
        a.update(args or {})
        self.argv = argv if argv is not None else \
            [x for k, v in a.items() for x in (k, v)]
        self.timeout = timeout
        # client_type=SOCK_SEQPACKET makes every write(2) of smtpd one
        # packet, so tests can see how replies were grouped into writes.
        self.client, server = socket.socketpair(socket.AF_UNIX, client_type)
        auth_ours, auth_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        queue_ours, queue_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        logr, logw = os.pipe()
        devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        srcs = [_high(x) for x in (server.fileno(), devnull, logw, devnull,
                                   auth_theirs.fileno(), queue_theirs.fileno())]
        actions = [(os.POSIX_SPAWN_DUP2, s, i) for i, s in enumerate(srcs)]
        path = binary or prog("postern-smtpd")
        self.pid = os.posix_spawn(path, [path] + self.argv, env or {}, file_actions=actions)
        for fd in srcs + [devnull, logw]:
            os.close(fd)
        server.close()
        auth_theirs.close()
        queue_theirs.close()
        self.auth = Peer(auth_ours, "auth", dead=auth_dead)
        self.queue = Peer(queue_ours, "queue", dead=queue_dead)
        self.auth.start()
        self.queue.start()
        self.log_lines = []
        self._logr = os.fdopen(logr, "rb")
        self._log_thread = threading.Thread(target=self._read_log, daemon=True)
        self._log_thread.start()
        self.client.settimeout(timeout)
        self.buf = b""
        self.returncode = None

    def _read_log(self):
        for line in self._logr:
            self.log_lines.append(line.decode("latin-1").rstrip("\n"))

    # ---- client side
    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.client.sendall(data)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n" if isinstance(line, str) else line + b"\r\n")

    def read_line(self, timeout=None):
        """One reply line without CRLF (str); None at EOF."""
        self.client.settimeout(timeout or self.timeout)
        while b"\r\n" not in self.buf:
            chunk = self.client.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self, timeout=None):
        """A whole (multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            line = self.read_line(timeout)
            if line is None:
                raise EOFError("connection closed; got %r" % lines)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def expect(self, code, timeout=None):
        c, lines = self.reply(timeout)
        assert c == code, lines
        return lines

    def closed(self, timeout=None):
        """True if the server closed the connection (after any buffered
        lines, which are discarded)."""
        self.client.settimeout(timeout or self.timeout)
        try:
            while True:
                chunk = self.client.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def greet(self):
        return self.expect(220)

    def ehlo(self, name="client.example.org"):
        self.cmd("EHLO " + name)
        return self.expect(250)

    def login(self, ticket="TICKET-1"):
        """EHLO and a successful AUTH PLAIN."""
        self.greet()
        self.ehlo()
        self.auth.push(frame("ok", ticket))
        self.cmd("AUTH PLAIN AHVzZXIAcGFzcw==")
        self.expect(235)

    # ---- the process
    def wait(self, timeout=None):
        """Wait for exit; returns the returncode (-N for signal N)."""
        if self.returncode is not None:
            return self.returncode
        deadline = time.time() + (timeout or self.timeout)
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                self._log_thread.join(2)
                return self.returncode
            time.sleep(0.01)
        raise TimeoutError("postern-smtpd did not exit")

    def close(self):
        """Hang up and reap the process (killed if it lingers)."""
        try:
            self.client.close()
        except OSError:
            pass
        try:
            return self.wait()
        except TimeoutError:
            os.kill(self.pid, 9)
            return self.wait()

    def log_has(self, pattern):
        import re
        return any(re.search(pattern, line) for line in self.log_lines)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
