"""Helpers for the master's integration tests: write a postern.conf, run
`postern -c DIR` in the foreground with its stderr collected line by line,
wait for log events, and talk a little SMTP.

Every wait is bounded in time; a Master left running is killed when its
`with` block ends.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time

from conftest import BIN, prog

HOSTNAME = "mx.test.example"


def write_conf(confdir, setup_dir, port, extra=None, libexec=None, listen=None):
    """Write confdir/postern.conf using setup_dir's empty/queue/tls dirs.

    extra: list of "key = value" lines appended at the end."""
    os.makedirs(confdir, exist_ok=True)
    lines = [
        "# written by master_harness.py",
        "hostname = %s" % HOSTNAME,
        listen or "listen = 127.0.0.1:%d plain" % port,
        "empty_dir = %s" % os.path.join(str(setup_dir), "empty"),
        "queue_dir = %s" % os.path.join(str(setup_dir), "queue"),
        "tls_cert = %s" % os.path.join(str(setup_dir), "tls", "cert.pem"),
        "tls_key = %s" % os.path.join(str(setup_dir), "tls", "key.pem"),
        "libexec_dir = %s" % (libexec or BIN),
    ]
    lines += list(extra or [])
    path = os.path.join(str(confdir), "postern.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_check(confdir, *args):
    """Run `postern -c confdir [args]`; returns (returncode, stderr)."""
    p = subprocess.run([prog("postern"), "-c", str(confdir)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    return p.returncode, p.stderr.decode("utf-8", "replace")


class Master:
    """A running `postern -c DIR` whose stderr is collected."""

    def __init__(self, confdir, env=None):
        self.confdir = str(confdir)
        self.env = env
        self.proc = None
        self._lines = []
        self._cond = threading.Condition()
        self._reader = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self, wait_listening=True):
        env = dict(os.environ) if self.env is None else self.env
        self.proc = subprocess.Popen([prog("postern"), "-c", self.confdir],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_listening:
            self.wait_for(r"event=start ")

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def log(self):
        return "\n".join(self.lines())

    def wait_for(self, pattern, timeout=10.0, start=0):
        """The first match of pattern in a log line (from index start)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no log line matching %r within %.1fs; log:\n%s"
                                         % (pattern, timeout, "\n".join(self._lines)))
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError("master exited (%s) before %r; log:\n%s"
                                         % (self.proc.returncode, pattern,
                                            "\n".join(self._lines)))
                self._cond.wait(min(left, 0.2))

    def mark(self):
        """Index of the next log line (for wait_for(start=...))."""
        with self._cond:
            return len(self._lines)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Wait for the master to exit; its status."""
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_reply(sock, timeout=10.0):
    """One SMTP reply (all its lines) as text; '' on EOF.  Unbuffered:
    send one command at a time (bytes after the reply would be lost)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        lines = buf.split(b"\r\n")
        for i, line in enumerate(lines[:-1]):
            if len(line) >= 4 and line[3:4] == b" ":
                return b"\r\n".join(lines[:i + 1]).decode("ascii", "replace") + "\r\n"
        if time.monotonic() > deadline:
            raise AssertionError("no complete reply within %.1fs: %r" % (timeout, buf))
        chunk = sock.recv(4096)
        if not chunk:
            return buf.decode("ascii", "replace")
        buf += chunk


def session_of(master, start=0, timeout=10.0):
    """(session id, pid) from the next event=connect line."""
    m = master.wait_for(r"event=connect session=([a-z2-7]+) .* pid=(\d+)",
                        timeout=timeout, start=start)
    return m.group(1), int(m.group(2))


def proc_status(pid):
    """/proc/PID/status as a dict of strings."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out
