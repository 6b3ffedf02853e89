"""Invariant 1 (DESIGN §3), atomicity and recovery: a kill -9 loop over
postern-queued AND postern-smtpd during a bounded load under the real
master.  Four smtplib senders submit messages of random size (1 KiB to
256 KiB, so kills land in the middle of DATA too) for 10 rounds; each
round, at a random moment, one live postern-smtpd is killed with SIGKILL,
and in rounds 1, 4 and 7 postern-queued as well (the restart backoff
doubles: 1 + 2 + 4 s).

Checked all along, by a watcher that scans new/ and cur/ every 20 ms: no
partial message is ever visible — each file there is byte for byte one of
the bodies a client sent, and its envelope is already in env/.  Checked at
the end: every id acknowledged with 250 is in new/ with exactly its body;
`postern-queue list` (queued's envelope reader) reads every envelope, with
the size of its message; `postern-queue show` works for acknowledged ids;
env/ and new/ hold the same ids and tmp/ is empty.  Root only."""
import hashlib
import os
import random
import re
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import BIN, free_port, prog
from master_harness import Master

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LOGIN, PASSWORD = "demo@localhost", "demo"
ROUNDS, SENDERS, QUEUED_ROUNDS = 10, 4, (1, 4, 7)


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Load:
    """Senders, what they sent and what got 250, and the watcher."""

    def __init__(self, port, qdir):
        self.port, self.qdir = port, qdir
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = set()        # hashes of every body handed to smtplib
        self.acked = {}          # queue id -> hash
        self.seen = set()        # ids the watcher has verified
        self.bad = []            # what the watcher saw that it must not
        self.errors = 0

    def body(self, who, n):
        size = random.choices([1024, 8 * 1024, 64 * 1024, 256 * 1024], [4, 3, 2, 1])[0]
        line = b"sender %d message %d filler 0123456789abcdef\r\n" % (who, n)
        b = (b"From: demo@localhost\r\nTo: x@example.net\r\nSubject: kill9 %d %d\r\n\r\n"
             % (who, n)) + line * (size // len(line))
        with self.lock:
            self.sent.add(sha(b))
        return b

    def sender(self, who):
        n = 0
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
                    s.login(LOGIN, PASSWORD)
                    while not self.stop.is_set():
                        n += 1
                        b = self.body(who, n)
                        if s.mail(LOGIN)[0] != 250 or s.rcpt("x@example.net")[0] != 250:
                            break
                        code, text = s.data(b)
                        if code != 250:
                            break
                        with self.lock:
                            self.acked[text.decode().rsplit(" ", 1)[1]] = sha(b)
            except (smtplib.SMTPException, OSError):
                with self.lock:
                    self.errors += 1
            time.sleep(0.05)

    def watch(self):
        while not self.stop.is_set():
            self.scan()
            time.sleep(0.02)
        self.scan()

    def scan(self):
        for sub in ("new", "cur"):
            for qid in os.listdir(os.path.join(self.qdir, sub)):
                if qid in self.seen:
                    continue
                # The envelope is renamed in before the message: it must be there.
                if not os.path.exists(os.path.join(self.qdir, "env", qid)):
                    self.bad.append("%s/%s without env/%s" % (sub, qid, qid))
                with open(os.path.join(self.qdir, sub, qid), "rb") as f:
                    h = sha(f.read())
                with self.lock:
                    if h not in self.sent:
                        self.bad.append("%s/%s is not a body that was sent" % (sub, qid))
                self.seen.add(qid)


def live_smtpds(m):
    pids = [int(x) for x in re.findall(r"event=connect session=\S+ .*pid=(\d+)", m.log())]
    out = []
    for p in pids:
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().strip() == "postern-smtpd":
                    out.append(p)
        except OSError:
            pass
    return out


def queued_pid(m):
    return int(re.findall(r"event=daemon-start role=queued pid=(\d+)", m.log())[-1])


def test_kill9_loop_over_queued_and_smtpd(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    d = tmp_path / "postern"
    port = free_port()
    subprocess.run([prog("postern-setup"), "--libexec", BIN, "--port", str(port), str(d)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # No quota: the built-in 200 messages an hour would end the load early.
    with open(str(d / "quotas"), "w") as f:
        f.write("* messages_per_hour=0 messages_per_day=0 "
                "recipients_per_hour=0 recipients_per_day=0\n")
    subprocess.run([prog("postern-table"), "build", str(d / "quotas")], check=True,
                   stdout=subprocess.PIPE)
    qdir = str(d / "queue")
    t0 = time.monotonic()
    with Master(d) as m:
        m.wait_for(r"event=daemon-ready role=queued")
        m.wait_for(r"event=daemon-ready role=authd")
        load = Load(port, qdir)
        threads = [threading.Thread(target=load.sender, args=(i,)) for i in range(SENDERS)]
        threads.append(threading.Thread(target=load.watch))
        for t in threads:
            t.start()
        smtpd_kills = queued_kills = 0
        try:
            for r in range(ROUNDS):
                time.sleep(random.uniform(0.3, 1.2))
                pids = live_smtpds(m)
                if pids:
                    try:
                        os.kill(random.choice(pids), signal.SIGKILL)
                        smtpd_kills += 1
                    except ProcessLookupError:
                        pass
                if r in QUEUED_ROUNDS:
                    mark = m.mark()
                    os.kill(queued_pid(m), signal.SIGKILL)
                    queued_kills += 1
                    m.wait_for(r"event=daemon-exit role=queued .*signal=SIGKILL", start=mark)
                    m.wait_for(r"event=daemon-ready role=queued", start=mark, timeout=20)
            time.sleep(0.5)
        finally:
            load.stop.set()
            for t in threads:
                t.join(30)
        assert not any(t.is_alive() for t in threads)
        load.scan()         # what was committed while the senders stopped
        # Sessions killed mid-DATA are reset by queued; give it a moment.
        deadline = time.monotonic() + 10
        while os.listdir(os.path.join(qdir, "tmp")) and time.monotonic() < deadline:
            time.sleep(0.1)

        assert load.bad == [], load.bad
        assert queued_kills == 3 and smtpd_kills >= 5, (queued_kills, smtpd_kills)
        assert len(load.acked) >= 20, (len(load.acked), load.errors)
        new = set(os.listdir(os.path.join(qdir, "new")))
        for qid, h in load.acked.items():
            assert qid in new, "acknowledged %s lost" % qid
            with open(os.path.join(qdir, "new", qid), "rb") as f:
                assert sha(f.read()) == h, "acknowledged %s changed" % qid
        assert set(os.listdir(os.path.join(qdir, "env"))) == new
        assert os.listdir(os.path.join(qdir, "tmp")) == []
        assert os.listdir(os.path.join(qdir, "cur")) == []

        lst = subprocess.run([prog("postern-queue"), "-c", str(d), "list"],
                             stdout=subprocess.PIPE, check=True, timeout=30).stdout.decode()
        listed = {}
        for line in lst.splitlines():
            f = line.split()
            assert len(f) >= 3 and f[2].startswith("size="), line
            listed[f[0]] = int(f[2][5:])
        assert set(listed) == new
        for qid in new:
            assert listed[qid] == os.path.getsize(os.path.join(qdir, "new", qid)), qid
        for qid in random.sample(sorted(load.acked), 3):
            out = subprocess.run([prog("postern-queue"), "-c", str(d), "show", qid],
                                 stdout=subprocess.PIPE, check=True, timeout=30).stdout
            assert b"id: %s\n" % qid.encode() in out and b"Subject: kill9 " in out
        m.wait_for(r"event=recovered", timeout=1)
        assert load.seen == new
        print("kill9: acked=%d in-new=%d seen-by-watcher=%d smtpd-kills=%d queued-kills=%d "
              "recover-removed=%d client-errors=%d"
              % (len(load.acked), len(new), len(load.seen), smtpd_kills, queued_kills,
                 m.log().count("event=recover-removed"), load.errors))
    assert time.monotonic() - t0 < 60
    # Thousands of messages: do not leave them to pytest's kept tmp dirs.
    for sub in ("new", "env"):
        for name in os.listdir(os.path.join(qdir, sub)):
            os.unlink(os.path.join(qdir, sub, name))
