"""Helpers for postern-deliver's integration tests: play postern-queued
(a SOCK_SEQPACKET job channel on the worker's fd 3, `job` frames with the
message as a descriptor), run small recording SMTP servers on loopback,
a dnsmasq on a free port, and a throw-away CA.

Every wait is bounded; servers and workers are stopped when their `with`
block ends.  Root: the worker runs as postern-deliver (created by
postern-setup; else nobody) in an empty chroot.
"""
import os
import pwd
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from conftest import prog
from queue_harness import frame, parse_frame


def deliver_ids():
    for name in ("postern-deliver", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise RuntimeError("no user for postern-deliver")


# ---------------------------------------------------------------- SMTP server

class SmtpServer:
    """A recording SMTP server on (host, port), one thread per connection.

    ehlo: the extension lines it announces; rcpt(addr) -> reply line;
    mail_reply, data_reply, final_reply: reply lines; tls: an SSLContext
    for STARTTLS; auth: (login, password) it accepts; handler(conn) replaces
    the whole dialogue (hostile servers)."""

    def __init__(self, host="127.0.0.1", port=0, ehlo=None, tls=None, auth=None,
                 rcpt=None, mail_reply="250 2.1.0 ok", data_reply="354 go on",
                 final_reply="250 2.0.0 queued as X", greeting="220 sink ESMTP",
                 handler=None, size=None):
        self.host = host
        self.ehlo = ehlo if ehlo is not None else ["PIPELINING", "8BITMIME", "SMTPUTF8", "DSN"]
        if size is not None:
            self.ehlo = self.ehlo + ["SIZE %d" % size]
        if tls is not None:
            self.ehlo = self.ehlo + ["STARTTLS"]
        if auth is not None:
            self.ehlo = self.ehlo + ["AUTH PLAIN LOGIN"]
        self.tls, self.auth = tls, auth
        self.rcpt = rcpt or (lambda a: "250 2.1.5 ok")
        self.mail_reply, self.data_reply = mail_reply, data_reply
        self.final_reply, self.greeting = final_reply, greeting
        self.handler = handler
        self.transactions = []
        self.lines = []
        self.connections = 0
        self.peers = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            self.peers.append(c.getpeername()[0])
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(20)
        try:
            if self.handler is not None:
                self.handler(c)
            else:
                self._dialogue(c)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _dialogue(self, c):
        f = c.makefile("rb")
        conn = c

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        send(self.greeting)
        t = None
        tls_on = False
        authed = False
        while True:
            line = f.readline(4096)
            if not line:
                return
            self.lines.append(line)
            cmd = line.rstrip(b"\r\n")
            verb = cmd.split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                if verb == b"HELO" or not self.ehlo and False:
                    send("250 sink")
                    continue
                caps = [e for e in self.ehlo if not (tls_on and e == "STARTTLS")]
                out = ["250-sink"] + ["250-" + e for e in caps]
                out[-1] = "250 " + out[-1][4:]
                conn.sendall("".join(x + "\r\n" for x in out).encode())
            elif verb == b"STARTTLS" and self.tls is not None and not tls_on:
                send("220 2.0.0 go ahead")
                conn = self.tls.wrap_socket(c, server_side=True)
                f = conn.makefile("rb")
                tls_on = True
            elif verb == b"AUTH" and self.auth is not None:
                authed = self._auth(cmd, f, send)
                if t is None:
                    t = {}
                t["auth"] = authed
            elif verb == b"MAIL":
                t = {"mail": cmd, "rcpts": [], "tls": tls_on, "auth": authed}
                send(self.mail_reply)
            elif verb == b"RCPT":
                addr = cmd.split(b"<", 1)[1].split(b">", 1)[0].decode("utf-8", "replace")
                r = self.rcpt(addr)
                if r.startswith("2"):
                    t["rcpts"].append(cmd)
                send(r)
            elif verb == b"DATA":
                send(self.data_reply)
                if not self.data_reply.startswith("354"):
                    continue
                raw = b""
                while True:
                    ln = f.readline(100000)
                    if not ln:
                        return
                    if ln == b".\r\n":
                        break
                    raw += ln
                t["raw"] = raw
                t["data"] = b"".join(l[1:] if l.startswith(b".") else l
                                     for l in raw.splitlines(keepends=True))
                self.transactions.append(t)
                send(self.final_reply)
            elif verb == b"QUIT":
                send("221 bye")
                return
            elif verb == b"RSET":
                send("250 ok")
            else:
                send("502 5.5.2 unknown")

    def _auth(self, cmd, f, send):
        import base64
        parts = cmd.split(b" ")
        if parts[1].upper() == b"PLAIN" and len(parts) == 3:
            got = base64.b64decode(parts[2]).split(b"\0")
            ok = got[1:] == [self.auth[0].encode(), self.auth[1].encode()]
        elif parts[1].upper() == b"LOGIN":
            send("334 VXNlcm5hbWU6")
            u = base64.b64decode(f.readline().strip())
            send("334 UGFzc3dvcmQ6")
            p = base64.b64decode(f.readline().strip())
            ok = (u.decode(), p.decode()) == tuple(self.auth)
        else:
            ok = False
        send("235 2.7.0 ok" if ok else "535 5.7.8 bad credentials")
        return ok


# ---------------------------------------------------------------- the worker

class PipeLog:
    """The lines a child process writes to its stderr pipe f.  A thread
    keeps the pipe from filling while nobody asks; text() and lines()
    also read what the pipe holds at the call.  A worker writes a log
    line before it sends the frames that follow it, so a test that has
    read a frame sees the lines logged before it, whatever the thread's
    timing."""

    def __init__(self, f):
        self.f = f
        self._lines = []
        self._lock = threading.Lock()
        self._partial, self._eof = b"", False
        os.set_blocking(f.fileno(), False)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _drain(self):
        """Move what the pipe holds now into the lines (lock held)."""
        while not self._eof:
            try:
                chunk = os.read(self.f.fileno(), 65536)
            except BlockingIOError:
                return
            except (OSError, ValueError):
                chunk = b""     # the pipe was closed under us
            if not chunk:
                self._eof = True
                chunk = b"\n" if self._partial else b""
            *full, self._partial = (self._partial + chunk).split(b"\n")
            self._lines.extend(l.decode("utf-8", "replace") for l in full)

    def _read(self):
        while not self._eof:
            try:
                select.select([self.f.fileno()], [], [])
            except (OSError, ValueError):
                return
            with self._lock:
                self._drain()

    def lines(self):
        """Every line written before this call."""
        with self._lock:
            self._drain()
            return list(self._lines)

    def text(self):
        return "\n".join(self.lines())


class Deliver:
    """postern-deliver with a fake queued on fd 3."""

    def __init__(self, args=(), binary=None, secrets=None, chroot=None):
        self.binary = binary or prog("postern-deliver")
        self.args = list(args)
        self.secrets = secrets
        self.chroot = chroot or tempfile.mkdtemp(prefix="deliver-root-")
        os.chmod(self.chroot, 0o755)
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *a):
        self.kill()
        shutil.rmtree(self.chroot, ignore_errors=True)

    def argv(self):
        uid, gid = deliver_ids()
        return [self.binary, "-u", str(uid), "-g", str(gid), "-r", self.chroot,
                "-H", "out.test.example"] + \
            ([] if "-t" in self.args else ["-t", "5"]) + self.args

    def start(self, wrap=None):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        hi_chan = os.dup2(theirs.fileno(), 50)
        fds = [hi_chan]
        hi_sec = None
        if self.secrets is not None:
            sfd = os.open(self.secrets, os.O_RDONLY)
            hi_sec = os.dup2(sfd, 51)
            os.close(sfd)
            fds.append(hi_sec)

        argv = self.argv()
        if wrap:
            argv = wrap + argv
        # bash (multi-digit fds) moves the channel to 3 and the secrets to 4.
        redir = "exec 3<&50 50<&-" + ("; exec 4<&51 51<&-" if hi_sec is not None else "")
        argv = ["/bin/bash", "-c", redir + '; exec "$@"', "sh"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=fds)
        for fd in fds:
            os.close(fd)
        theirs.close()
        self.chan = mine
        self.chan.settimeout(30)
        self._log = PipeLog(self.proc.stderr)
        self._reader = self._log.thread

    @property
    def lines(self):
        return self._log.lines() if self.proc is not None else []

    def log(self):
        """Every line the worker wrote before this call (PipeLog)."""
        return self._log.text() if self.proc is not None else ""

    def send_job(self, job_id, rcpts, message, route=b"mx", domain=b"dest.test",
                 sender=b"alice@src.test", header=b"Received: by test\r\n",
                 ret=b"", envid=b"", helo=b""):
        fields = ["job", job_id, route, domain, helo, sender, ret, envid, header, len(rcpts)]
        for r in rcpts:
            if isinstance(r, tuple):
                fields += list(r)
            else:
                fields += [r, b"", b""]
        with tempfile.TemporaryFile() as f:
            f.write(message)
            f.flush()
            fd = os.open("/proc/self/fd/%d" % f.fileno(), os.O_RDONLY)
            try:
                socket.send_fds(self.chan, [frame(*fields)], [fd])
            finally:
                os.close(fd)

    def results(self, job_id, n, timeout=30):
        """The n `rcpt` frames of job_id (by index) and the `done`."""
        out = {}
        end = time.time() + timeout
        while time.time() < end:
            pkt = self.chan.recv(70000)
            if not pkt:
                raise AssertionError("channel closed; log:\n" + self.log())
            f = parse_frame(pkt)
            if f[0] == b"rcpt":
                assert int(f[1]) == job_id
                out[int(f[2])] = {"class": f[3].decode(), "code": int(f[4]),
                                  "status": f[5].decode(), "text": f[6]}
            elif f[0] == b"done":
                assert int(f[1]) == job_id
                assert sorted(out) == list(range(n)), out
                return out
            else:
                raise AssertionError("unexpected frame %r" % f)
        raise AssertionError("no done")

    def recv_frame(self):
        pkt = self.chan.recv(70000)
        return parse_frame(pkt) if pkt else None

    def wait(self, timeout=10):
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


# ---------------------------------------------------------------- TLS, DNS

def make_ca(d, name="Test CA"):
    """A CA and a server certificate for mx1.test / 127.0.0.1 signed by it:
    returns (ca_pem, cert_pem, key_pem)."""
    d = str(d)
    run = lambda *a: subprocess.run(a, check=True, cwd=d, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=" + name, "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mx1.test",
        "-keyout", "srv.key", "-out", "srv.csr")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:mx1.test,DNS:relay.test,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "srv.pem")
    return [os.path.join(d, x) for x in ("ca.pem", "srv.pem", "srv.key")]


def server_tls(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_tcp_port():
    """A port free on 127.0.0.1 for both UDP and TCP: dnsmasq binds both."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            try:
                t.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no port free for both UDP and TCP")


class Dnsmasq:
    """dnsmasq on 127.0.0.1:PORT, answering only from its arguments.

    The port is chosen free for UDP and TCP, but another test may take it
    before dnsmasq binds: a dnsmasq that exits at start is tried again on
    a new port (a bounded number of times), and the last error is shown."""

    def __init__(self, records):
        err = b""
        for _ in range(5):
            self.port = free_udp_tcp_port()
            exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
            argv = [exe, "-k", "--conf-file=/dev/null", "--port=%d" % self.port,
                    "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                    "--no-hosts", "--pid-file=", "--local=/test/", "--log-facility=-",
                    "--user=nobody"] + records
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            end = time.time() + 10
            while time.time() < end and self.proc.poll() is None:
                if self._answers():
                    return
                time.sleep(0.05)
            self.close()
            err = self.proc.stderr.read() if self.proc.stderr else b""
        raise RuntimeError("dnsmasq did not start: %r" % err[-500:])

    def _answers(self):
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x06\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return len(s.recv(512)) > 0
            except OSError:
                return False

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
