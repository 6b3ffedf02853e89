"""Helpers for the end-to-end delivery tests: a postern instance made by
postern-setup and run by the real master (master_harness.Master), with a
routes table and the delivery keys (INSTALL.md "Delivery", configuration
keys) appended to its postern.conf; submission with smtplib (AUTH PLAIN over the
plain loopback listener, the demo login postern-setup creates); the
recording SMTP servers and dnsmasq of deliver_harness; a maildir owned by a
throw-away user; and a reader for RFC 3464 reports.

Every wait is a poll with a deadline; the master (and with it queued and
the workers) is killed when its `with` block ends.
"""
import email
import email.policy
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import time

from conftest import proc_table, prog, public_bin, wait_until
from master_harness import Master

LOGIN, PASSWORD = "demo@localhost", "demo"
HOSTNAME = "mx.e2e.test"
QUEUE_SUBDIRS = ("tmp", "new", "cur", "env", "state")

# The smallest retry schedule the configuration allows (sched.md §2), and
# no delay notices, so the tests see only the reports they provoke.
BASE_CONF = [
    "deliver_workers = 2",
    "helo_name = out.e2e.test",
    "queue_retry_min = 1s",
    "queue_retry_max = 2s",
    "queue_delay_notice = 0",
]


def proc_children(ppid, comm):
    """pids of the live processes named comm whose parent is ppid."""
    return sorted(pid for pid, (name, state, parent) in proc_table().items()
                  if name == comm and parent == ppid and state != "Z")


class Instance:
    """postern-setup DIR + routes + conf keys, run under the master."""

    def __init__(self, tmp_path, routes, conf=(), base=BASE_CONF, name="postern"):
        os.chmod(str(tmp_path), 0o755)
        self.dir = str(tmp_path / name)
        self.port = None
        self.routes = list(routes)
        # A key in conf replaces the same key of base (the master refuses
        # a key given twice).
        keys = {l.split("=")[0].strip(): l for l in list(base) + list(conf)}
        self.conf = list(keys.values())
        self.master = None

    def setup(self, port=None):
        from conftest import free_port
        self.port = port or free_port()
        p = subprocess.run([os.path.join(public_bin(), "postern-setup"), "--libexec", public_bin(),
                            "--hostname", HOSTNAME, "--port", str(self.port), self.dir],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert p.returncode == 0, p.stdout.decode()
        with open(os.path.join(self.dir, "postern.conf"), "a") as f:
            f.write("\n# delivery_e2e_harness\n" + "".join(l + "\n" for l in self.conf))
        if self.routes:
            self.write_routes(self.routes)

    def write_routes(self, lines):
        self.write_table("routes", lines)

    def write_table(self, name, lines, mode=0o644):
        """DIR/name from lines, compiled with postern-table (the .cdb takes
        the text file's mode when that is not world-readable)."""
        src = os.path.join(self.dir, name)
        fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        os.chmod(src, mode)
        p = subprocess.run([prog("postern-table"), "build", src], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        assert p.returncode == 0, p.stdout.decode()

    def __enter__(self):
        if self.port is None:
            self.setup()
        self.master = Master(self.dir)
        try:
            self.master.start()
            self.master.wait_for(r"event=daemon-ready role=queued", timeout=20)
            self.master.wait_for(r"event=daemon-ready role=authd", timeout=20)
        except BaseException:
            self.master.kill()
            raise
        return self

    def __exit__(self, *exc):
        # SIGTERM first: the master stops queued and the workers with it,
        # so no orphan keeps running as the maildir user (SIGKILL after 15 s).
        if self.master.proc is not None and self.master.proc.poll() is None:
            self.master.signal(signal.SIGTERM)
            try:
                self.master.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.master.kill()

    # -- submission

    def session(self, helo="client.test"):
        """An smtplib session, logged in, whose commands may carry UTF-8
        (SMTPUTF8 addresses) and are sent as written (docmd)."""
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        s.command_encoding = "utf-8"
        s.ehlo(helo)
        s.login(LOGIN, PASSWORD)
        return s

    def send(self, rcpts, body, sender=LOGIN):
        """Submit one message; its queue id (asserts every step's 250)."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.login(LOGIN, PASSWORD)
            return self._one(s, sender, rcpts, body)

    def send_many(self, items, sender=LOGIN):
        """Submit [(rcpts, body)] in one session; their queue ids."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.login(LOGIN, PASSWORD)
            return [self._one(s, sender, r, b) for r, b in items]

    @staticmethod
    def _one(s, sender, rcpts, body):
        code, text = s.mail(sender)
        assert code == 250, (code, text)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, code, text)
        code, text = s.data(body)
        text = text.decode()
        assert code == 250 and "queued as " in text, (code, text)
        return text.rsplit(" ", 1)[1]

    # -- the queue and the processes

    def queue(self):
        """{subdir: [names]} of the queue directory."""
        q = os.path.join(self.dir, "queue")
        return {s: sorted(os.listdir(os.path.join(q, s))) for s in QUEUE_SUBDIRS}

    def queue_empty(self):
        return not any(self.queue().values())

    def wait_until(self, pred, timeout, what):
        """wait_until, with the master's log and the queue in the failure."""
        try:
            return wait_until(pred, timeout, what)
        except AssertionError as e:
            raise AssertionError("%s; queue %r; log:\n%s" % (e, self.queue(), self.log()))

    def wait_queue_empty(self, timeout=30):
        try:
            wait_until(self.queue_empty, timeout, "an empty queue")
        except AssertionError:
            raise AssertionError("queue not empty: %r; log:\n%s" % (self.queue(), self.log()))

    def log(self):
        return self.master.log()

    def wait_log(self, pattern, timeout=30, start=0):
        return self.master.wait_for(pattern, timeout=timeout, start=start)

    def pids(self, comm):
        """Live children of the master named comm (postern-queued,
        postern-deliver, postern-maildir)."""
        return proc_children(self.master.proc.pid, comm)

    def assert_clean(self):
        """No sandbox violation, crash or sanitizer report in the log (the
        master relays every child's stderr)."""
        log = self.log()
        for bad in ("event=sandbox-violation", "AddressSanitizer", "runtime error:",
                    "signal=SIGSEGV", "signal=SIGABRT", "signal=SIGBUS", "signal=SIGSYS"):
            assert bad not in log, "%r in the log:\n%s" % (bad, log)


def relay(sink):
    """The routes value that relays to a recording sink on 127.0.0.1."""
    return "relay:127.0.0.1:%d" % sink.port


def message(token, extra=b"", msgid=True):
    """A message from the demo login carrying a unique token in Subject and
    body; with Date and Message-ID unless msgid is false."""
    head = b"From: demo@localhost\r\nTo: someone@dest.test\r\nSubject: " + token + b"\r\n"
    if msgid:
        head += (b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                 b"Message-ID: <" + token + b"@e2e.test>\r\n")
    return head + extra + b"\r\nbody of " + token + b"\r\n.a line with a dot\r\n" + b"x" * 70 + b"\r\n"


def delivered(sink, token):
    """Transactions of sink that carried token to at least one recipient."""
    return [t for t in sink.transactions if t["rcpts"] and token in t["data"]]


# ---------------------------------------------------------------- a maildir

class MaildirUser:
    """A throw-away user (uid >= 1000, created with useradd, removed with
    userdel at the end) and maildirs it owns."""

    def __init__(self, name="postern-e2e"):
        self.name = name
        self.created = False

    def __enter__(self):
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            r = subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", self.name],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            assert r.returncode == 0, r.stdout
            self.created = True
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        assert self.uid >= 1000, self.uid
        return self

    def __exit__(self, *exc):
        if not self.created:
            return
        # userdel refuses (8) while a process of the user still runs: a
        # worker that is just exiting.
        deadline = time.monotonic() + 15
        while True:
            r = subprocess.run(["userdel", self.name], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            if r.returncode != 8 or time.monotonic() > deadline:
                break
            time.sleep(0.2)

    def maildir(self, path):
        """path with tmp/ new/ cur/, all 0700 and owned by the user."""
        path = str(path)
        os.makedirs(path)
        for p in [path] + [os.path.join(path, d) for d in ("tmp", "new", "cur")]:
            if not os.path.isdir(p):
                os.mkdir(p)
            os.chmod(p, 0o700)
            os.chown(p, self.uid, self.gid)
        return path


def maildir_files(path, sub="new"):
    d = os.path.join(str(path), sub)
    return sorted(os.path.join(d, n) for n in os.listdir(d))


# ---------------------------------------------------------------- reports

def unfold(v):
    return re.sub(r"\r?\n(?=[ \t])", "", str(v))


class Report:
    """An RFC 3464 delivery status notification, parsed with `email`."""

    def __init__(self, data):
        self.raw = data
        self.msg = email.message_from_bytes(data, policy=email.policy.compat32)
        m = self.msg
        assert m.get_content_type() == "multipart/report", m.get_content_type()
        assert (m.get_param("report-type") or "").lower() == "delivery-status", m["Content-Type"]
        self.parts = m.get_payload()
        assert isinstance(self.parts, list) and len(self.parts) >= 2, self.parts
        assert self.parts[0].get_content_maintype() == "text", self.parts[0].get_content_type()
        ds = self.parts[1]
        assert ds.get_content_type() == "message/delivery-status", ds.get_content_type()
        blocks = ds.get_payload()
        assert isinstance(blocks, list) and len(blocks) >= 2, blocks
        self.per_message = {k.lower(): unfold(v) for k, v in blocks[0].items()}
        self.recipients = [{k.lower(): unfold(v) for k, v in b.items()} for b in blocks[1:]]
        self.original = self.parts[2] if len(self.parts) > 2 else None

    def recipient(self, addr):
        for r in self.recipients:
            fr = r.get("final-recipient", "")
            if fr.split(";", 1)[-1].strip().lower() == addr.lower():
                return r
        raise AssertionError("no per-recipient block for %s in %r" % (addr, self.recipients))

    def original_bytes(self):
        """The returned headers or message (text/rfc822-headers or
        message/rfc822) as bytes."""
        assert self.original is not None, "no third part"
        ct = self.original.get_content_type()
        assert ct in ("text/rfc822-headers", "message/rfc822"), ct
        p = self.original.get_payload()
        if isinstance(p, list):
            return p[0].as_bytes()
        return self.original.get_payload(decode=True) or p.encode()


def reports_in(sink, token=None):
    """Reports sink received (from <>), optionally only those mentioning token."""
    out = []
    for t in sink.transactions:
        if not t["mail"].upper().startswith(b"MAIL FROM:<>"):
            continue
        if token is not None and token not in t["data"]:
            continue
        out.append(t)
    return out


def printable_ascii(s):
    return all(0x20 <= ord(c) <= 0x7e for c in s)


def have_dnsmasq():
    return bool(shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq"))
