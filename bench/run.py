#!/usr/bin/python3
"""postern benchmarks (bench/README.md), driven by `make bench` through
bench/run.sh.
Prints numbers, never a verdict; never part of `make check`.

Sets up a private instance with postern-setup in a temporary directory
under /var/tmp (the disk a real queue would be on), free loopback ports
(starttls + tls listeners), a login `bench@localhost` whose password is
hashed at postern-user's default (argon2id INTERACTIVE) limits, no quotas,
connection limits raised to 1000; starts the master; then, ROUNDS times,
runs the scenarios one after the other (so drift hits all of them alike):

  S1  1 session x 2000 messages x 4 KiB, STARTTLS, pipelined
  S2  20 sessions x 100 messages x 4 KiB, STARTTLS, pipelined
  S3  one new TCP+STARTTLS+AUTH session per message, 8 at a time,
      200 messages (25 per worker)
  M   200 idle authenticated STARTTLS sessions: PSS and RSS summed over
      every process of the instance (/proc/PID/smaps_rollup), minus the
      same sum with no session, per session; and by program
  D   time to deliver D_MESSAGES (5000) queued 4 KiB messages to a local
      SMTP sink (bench/sink.c): a fresh instance each round, the messages
      submitted (20 sessions, STARTTLS, pipelined) while delivery is off
      (postern: no routes table, so the scheduler is idle; Postfix: every
      message held), then delivery switched on (postern: routes table
      `* relay:127.0.0.1:SINK` built and SIGHUP; Postfix: postsuper -H ALL
      + postqueue -f) and timed until the sink has acknowledged them all

and measures the machine's limits: durable 4 KiB commits/s (commitprobe),
OpenSSL full TLS handshakes/s on loopback (`openssl s_server` +
`openssl s_time -new`), one argon2id INTERACTIVE verification (argon2probe).

Root (role users, chroot).  Environment: POSTERN_BIN (programs),
BENCH_BUILD (loadclient, sink and probes), ROUNDS (default 5), MEM_ROUNDS
(default 3), SCENARIOS (default S1,S2,S3,M,D), BENCH_DIR (default
/var/tmp), D_MESSAGES (default 5000), D_ROUNDS (default 1), D_TIMEOUT
(seconds a delivery may take, default 600), D_SERVERS (default
postern,postfix), D_CONF (postern.conf lines of D's postern instance,
";"-separated, default none: postern's defaults, 8 workers and 8 per
destination; README.md "Scenario D").
With SCENARIOS=D alone, only the commit probe runs besides D.
Every wait is bounded; the instance is killed and removed at the end.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# Instance directories to remove at exit, not between rounds (see close()).
TRASH = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in TRASH])

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postfix  # noqa: E402  (bench/postfix.py)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("POSTERN_BIN", os.path.join(TOP, "bin"))
BB = os.environ.get("BENCH_BUILD", os.path.join(TOP, "build", "bench"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
MEM_ROUNDS = int(os.environ.get("MEM_ROUNDS", "3"))
SCENARIOS = os.environ.get("SCENARIOS", "S1,S2,S3,M,D").split(",")
BASE = os.environ.get("BENCH_DIR", "/var/tmp")
# BENCH_FS=ext4: BASE becomes a file system of its own for this run (see
# own_filesystem()); its size in GiB
BENCH_FS = os.environ.get("BENCH_FS", "")
BENCH_FS_GIB = int(os.environ.get("BENCH_FS_GIB", "4"))
# POSTERN_SYNCFS=0 leaves out the second postern instance, the one with
# queue_sync = syncfs (S1, S2, S3 only)
WANT_SYNCFS = os.environ.get("POSTERN_SYNCFS", "1") != "0"
# POSTFIX=0 skips the comparison; by default it runs when Debian's postfix
# is installed (`make bench-deps`)
WANT_POSTFIX = os.environ.get("POSTFIX", "1") != "0"
LOGIN, PASSWORD = "bench@localhost", "bench password 7"
IDLE = 200
D_MESSAGES = int(os.environ.get("D_MESSAGES", "5000"))
D_ROUNDS = int(os.environ.get("D_ROUNDS", "1"))
D_TIMEOUT = float(os.environ.get("D_TIMEOUT", "600"))
D_SERVERS = os.environ.get("D_SERVERS", "postern,postfix").split(",")
D_SESSIONS = 20 if D_MESSAGES % 20 == 0 and D_MESSAGES >= 20 else 1
# postern.conf lines of D's postern instance ("key = value" separated by
# ";"): see "Scenario D" in README.md for the defaults and why
D_CONF_DEFAULT = ""
D_CONF = "".join(kv.strip() + "\n" for kv in
                 os.environ.get("D_CONF", D_CONF_DEFAULT).split(";") if kv.strip())

SPECS = {
    "S1": ("1 session x 2000 x 4 KiB", ["--sessions", "1", "--messages", "2000"]),
    "S2": ("20 sessions x 100 x 4 KiB", ["--sessions", "20", "--messages", "100"]),
    "S3": ("new TLS+AUTH session per msg, 8 at a time (200)",
           ["--sessions", "8", "--messages", "25", "--new-session"]),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def result(text):
    """The key=value pairs of the RESULT line of a probe or the client."""
    for line in text.splitlines():
        if line.startswith("RESULT "):
            out = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
            return out
    raise RuntimeError("no RESULT line in:\n" + text)


def run(args, timeout=300, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, **kw)
    text = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s" % (args[0], p.returncode, text))
    return text


class Instance:
    """A private postern: postern-setup'd directory, master running."""

    def __init__(self, extra_conf=""):
        self.dir = tempfile.mkdtemp(prefix="postern-bench.", dir=BASE)
        os.chmod(self.dir, 0o755)
        self.starttls, self.tls, plain = free_port(), free_port(), free_port()
        run([os.path.join(BIN, "postern-setup"), "--libexec", BIN, "--port", str(plain),
             "--tls-port", str(self.starttls), self.dir])
        run([os.path.join(BIN, "postern-user"), "-c", self.dir, "--password-stdin",
             "add", LOGIN], input=(PASSWORD + "\n").encode())
        with open(os.path.join(self.dir, "quotas"), "w") as f:
            f.write("* messages_per_hour=0,messages_per_day=0,"
                    "recipients_per_hour=0,recipients_per_day=0\n")
        run([os.path.join(BIN, "postern-table"), "build", os.path.join(self.dir, "quotas")])
        with open(os.path.join(self.dir, "postern.conf"), "a") as f:
            f.write("listen = 127.0.0.1:%d tls\nconnections_max = 1000\n"
                    "connections_per_ip_max = 1000\n%s" % (self.tls, extra_conf))
        # no routes table: the scheduler stays idle and every message stays
        # in queue/new (INSTALL.md "Delivery scheduling"), whatever
        # postern-setup wrote
        for name in ("routes", "routes.cdb"):
            if os.path.exists(os.path.join(self.dir, name)):
                os.unlink(os.path.join(self.dir, name))
        self.log = open(os.path.join(self.dir, "master.log"), "w+")
        self.proc = subprocess.Popen([os.path.join(BIN, "postern"), "-c", self.dir],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.wait_log(r"event=daemon-ready role=queued")
        self.wait_log(r"event=daemon-ready role=authd")
        self.wait_log(r"event=table table=quotas")

    def wait_log(self, pattern, timeout=20):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with open(self.log.name) as f:
                if rx.search(f.read()):
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(self.log.name) as f:
            raise RuntimeError("no %r in the master's log:\n%s" % (pattern, f.read()[-4000:]))

    def route_all(self, value):
        """Install the routes table `* value` and make the master read it
        now (SIGHUP; it would also notice within its 2 s stat)."""
        src = os.path.join(self.dir, "routes")
        with open(src, "w") as f:
            f.write("* %s\n" % value)
        run([os.path.join(BIN, "postern-table"), "build", src])
        self.proc.send_signal(signal.SIGHUP)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        # Not now: on a journal-less ext4 (this VM's) a mass delete slows
        # every file creation for minutes (the inode allocator skips
        # recently freed inodes), which would be measured against the
        # next round.  Every instance is removed when the run ends.
        TRASH.append(self.dir)


def client(port, extra, mode="starttls", timeout=150):
    args = [os.path.join(BB, "loadclient"), "--port", str(port), "--mode", mode,
            "--user", LOGIN, "--password", PASSWORD, "--size", "4096",
            "--pipelining", "--max-seconds", "120", "--quiet"] + extra
    return result(run(args, timeout=timeout))


def descendants(root):
    """Pids of root and every process below it."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def memory(root):
    """{program: [count, pss_kB, rss_kB]} over the instance's processes."""
    by = {}
    for pid in descendants(root):
        try:
            prog = os.path.basename(os.readlink("/proc/%d/exe" % pid))
            with open("/proc/%d/smaps_rollup" % pid) as f:
                text = f.read()
        except OSError:
            continue
        pss = int(re.search(r"^Pss:\s+(\d+)", text, re.M).group(1))
        rss = int(re.search(r"^Rss:\s+(\d+)", text, re.M).group(1))
        e = by.setdefault(prog, [0, 0, 0])
        e[0] += 1
        e[1] += pss
        e[2] += rss
    return by


def total(by):
    return sum(v[1] for v in by.values()), sum(v[2] for v in by.values())


def mem_round(root, port, scratch):
    """Per idle session PSS/RSS (KiB) and the per-program breakdown, over
    root (a master pid) and its descendants."""
    time.sleep(1)
    base = memory(root)
    ready = os.path.join(scratch, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    hold = 60
    args = [os.path.join(BB, "loadclient"), "--port", str(port), "--mode",
            "starttls", "--user", LOGIN, "--password", PASSWORD, "--sessions", str(IDLE),
            "--hold", str(hold), "--ready-file", ready, "--quiet"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = time.monotonic() + hold
    while not os.path.exists(ready) and time.monotonic() < end:
        time.sleep(0.1)
    got = os.path.exists(ready)
    time.sleep(1)
    loaded = memory(root) if got else None
    if got:
        os.unlink(ready)    # releases the sessions (loadclient --ready-file)
    out = p.communicate(timeout=hold + 60)[0].decode()
    r = result(out)
    if not got or r.get("errors", 0):
        raise RuntimeError("idle sessions not all authenticated:\n" + out)
    (bp, br), (lp, lr) = total(base), total(loaded)
    return (lp - bp) / IDLE, (lr - br) / IDLE, base, loaded, r


def tls_limit(inst):
    """OpenSSL full handshakes/s on loopback (s_server + s_time -new, 4 s)."""
    port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", "127.0.0.1:%d" % port,
                            "-cert", os.path.join(inst.dir, "tls", "cert.pem"),
                            "-key", os.path.join(inst.dir, "tls", "key.pem")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        out = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % port,
                              "-new", "-time", "4"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30).stdout.decode()
    finally:
        srv.kill()
        srv.wait()
    m = re.search(r"(\d+) connections in (\d+) real seconds", out)
    return int(m.group(1)) / int(m.group(2)) if m else float("nan")


class Sink:
    """bench/sink.c on a free loopback port, expecting n messages."""

    def __init__(self, n, timeout):
        self.proc = subprocess.Popen([os.path.join(BB, "sink"), "--port", "0", "--expect",
                                      str(n), "--max-seconds", str(timeout)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("sink did not start: %r" % line)
        self.port = int(line.split()[1])
        self.timeout = timeout

    def wait(self):
        """The sink's RESULT once it has all messages or timed out."""
        try:
            out = self.proc.communicate(timeout=self.timeout + 30)[0].decode()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out = self.proc.communicate()[0].decode()
        return result(out)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def submit_held(port):
    """D_MESSAGES x 4 KiB through port; fails unless every one got 250."""
    r = client(port, ["--sessions", str(D_SESSIONS), "--messages",
                      str(D_MESSAGES // D_SESSIONS)], timeout=max(150, D_MESSAGES / 20))
    if r["msgs"] != D_MESSAGES or r["errors"]:
        raise RuntimeError("D: only %d of %d messages submitted (%d errors)" % (
            r["msgs"], D_MESSAGES, r["errors"]))
    return r


def delivery_result(name, sink, t0, held):
    """Messages/s from switching delivery on to the sink's last message."""
    r = sink.wait()
    got = int(r["msgs"])
    secs = (r["last"] - t0) if got else float("nan")
    out = {"rate": got / secs if got and secs > 0 else 0.0, "secs": secs, "msgs": got,
           "errors": D_MESSAGES - got, "first": (r["first"] - t0) if got else float("nan"),
           "sessions": r["sessions"], "submit": held["rate"]}
    return out


def why_stuck(inst):
    """After an incomplete D round: where the rest is, and queued's
    reasons for deferring (from the master's log)."""
    q = os.path.join(inst.dir, "queue")
    counts = {d: len(os.listdir(os.path.join(q, d))) for d in ("new", "cur")}
    reasons = {}
    with open(inst.log.name) as f:
        for line in f:
            if "event=deferred" in line:
                m = re.search(r"status=(\S+) .*text=(\S+)", line)
                key = "%s %s" % (m.group(1), m.group(2)) if m else "?"
                reasons[key] = reasons.get(key, 0) + 1
    print("D postern incomplete: queue/new %d, queue/cur %d; deferred: %s" % (
        counts["new"], counts["cur"],
        ", ".join("%d x %s" % (n, k) for k, n in sorted(reasons.items(),
                                                         key=lambda kv: -kv[1])) or "none logged"),
          flush=True)


def delivery_postern():
    """One round of D against a fresh postern instance."""
    inst = Instance(D_CONF)
    sink = Sink(D_MESSAGES, D_TIMEOUT)
    try:
        held = submit_held(inst.starttls)
        newdir = os.path.join(inst.dir, "queue", "new")
        if len(os.listdir(newdir)) != D_MESSAGES:
            raise RuntimeError("D: queue/new holds %d, not %d (delivery not off?)" % (
                len(os.listdir(newdir)), D_MESSAGES))
        t0 = time.monotonic()
        inst.route_all("relay:127.0.0.1:%d" % sink.port)
        r = delivery_result("postern", sink, t0, held)
        if r["errors"]:
            why_stuck(inst)
        return r
    finally:
        sink.close()
        inst.close()


def delivery_postfix():
    """One round of D against a fresh private Postfix (the postern instance
    only lends it a directory and the certificate)."""
    inst = Instance()
    sink = Sink(D_MESSAGES, D_TIMEOUT)
    pf = None
    try:
        pf = postfix.Postfix(inst.dir, free_port(), os.path.join(inst.dir, "tls", "cert.pem"),
                             os.path.join(inst.dir, "tls", "key.pem"), LOGIN, PASSWORD,
                             relay=sink.port)
        held = submit_held(pf.port)
        end = time.monotonic() + 60
        while pf.held() < D_MESSAGES and time.monotonic() < end:
            time.sleep(0.1)
        if pf.held() < D_MESSAGES:
            raise RuntimeError("D: Postfix holds %d, not %d" % (pf.held(), D_MESSAGES))
        t0 = time.monotonic()
        pf.release()
        return delivery_result("postfix", sink, t0, held)
    finally:
        sink.close()
        if pf:
            pf.close()
        inst.close()


def delivery(with_pf):
    """D_ROUNDS rounds of D, the first server alternating."""
    out = {"postern": [], "postfix": []}
    print("D: %d messages, %d round(s); postern.conf adds: %s" % (
        D_MESSAGES, D_ROUNDS, "; ".join(D_CONF.split("\n")[:-1]) or "nothing"), flush=True)
    for rnd in range(D_ROUNDS):
        names = [n for n in ["postern"] + (["postfix"] if with_pf else [])
                 if n in D_SERVERS]
        if rnd % 2:
            names.reverse()
        for name in names:
            try:
                r = delivery_postern() if name == "postern" else delivery_postfix()
            except RuntimeError as e:
                print("round %d D %s: FAILED: %s" % (rnd + 1, name, e), flush=True)
                continue
            out[name].append(r)
            print("round %d D %s: %d of %d delivered in %.2f s = %.0f msg/s (first after "
                  "%.2f s, %d sink sessions; submitted at %.0f msg/s)" % (
                      rnd + 1, name, r["msgs"], D_MESSAGES, r["secs"], r["rate"], r["first"],
                      r["sessions"], r["submit"]), flush=True)
    return out


def spread(xs):
    return "%.0f-%.0f" % (min(xs), max(xs)) if xs else "-"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def start_postfix(inst):
    """The private Postfix beside the instance, or None (not installed,
    POSTFIX=0)."""
    if not WANT_POSTFIX:
        print("postfix: skipped (POSTFIX=0)", flush=True)
        return None
    if not postfix.available():
        print("postfix: not installed (`make bench-deps`), postern alone", flush=True)
        return None
    pf = postfix.Postfix(inst.dir, free_port(), os.path.join(inst.dir, "tls", "cert.pem"),
                         os.path.join(inst.dir, "tls", "key.pem"), LOGIN, PASSWORD)
    print("postfix: %s, private instance in %s, submission 127.0.0.1:%d (STARTTLS "
          "required, Cyrus SASL sasldb, accepted mail held in its queue)" % (
              postfix.version(), pf.dir, pf.port), flush=True)
    return pf


def servers(inst, pf, rnd, inst_syncfs=None):
    """(name, port) in this round's order: the first server alternates
    (and with the syncfs instance, rotates)."""
    out = [("postern", inst.starttls)]
    if inst_syncfs:
        out.append(("postern-syncfs", inst_syncfs.starttls))
    if pf:
        out.append(("postfix", pf.port))
    k = rnd % len(out)
    return out[k:] + out[:k]


def own_filesystem():
    """BENCH_FS=ext4: a preallocated image under BASE (so on the same
    disk), made ext4 with mkfs's defaults (a journal), loop-mounted; BASE
    becomes its mount point for the rest of the run, so both servers'
    queues live on a file system nobody else writes to (the case
    queue_sync = syncfs is meant for) and no earlier mass delete on the
    root file system slows file creation (README, "Profile: S1, S2").
    Unmounted and removed at exit."""
    global BASE
    if BENCH_FS == "":
        return
    if BENCH_FS != "ext4":
        sys.exit("bench: BENCH_FS must be ext4 (or unset)")
    img = tempfile.mktemp(prefix="postern-bench-fs.", suffix=".img", dir=BASE)
    mnt = tempfile.mkdtemp(prefix="postern-bench-mnt.", dir=BASE)
    run(["fallocate", "-l", "%dG" % BENCH_FS_GIB, img])
    atexit.register(lambda: os.path.exists(img) and os.unlink(img))
    run(["mkfs.ext4", "-q", "-F", img])
    run(["mount", "-o", "loop", img, mnt])
    # registered after TRASH's cleanup, so it runs before it (atexit is
    # LIFO)... the instances must go first: remove them here, then unmount
    def unmount():
        for d in TRASH:
            shutil.rmtree(d, ignore_errors=True)
        subprocess.run(["umount", mnt], check=False)
        os.rmdir(mnt)
    atexit.register(unmount)
    os.chmod(mnt, 0o755)
    BASE = mnt


def main():
    if os.geteuid() != 0:
        sys.exit("bench: needs root (role users, chroot)")
    own_filesystem()
    print("postern bench: %s, %d cores, rounds=%d, dir=%s%s" %
          (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), ROUNDS, BASE,
           " (BENCH_FS=ext4: a %d GiB loop-mounted image of its own)" % BENCH_FS_GIB
           if BENCH_FS else ""), flush=True)
    print("load average before: %s" % open("/proc/loadavg").read().strip(), flush=True)
    limits = {}
    limits["commit"] = result(run([os.path.join(BB, "commitprobe"), BASE, "3"]))
    limits["argon2"] = result(run([os.path.join(BB, "argon2probe"), "7"]))
    if not set(SCENARIOS) & {"S1", "S2", "S3", "M"}:
        print("machine: durable 4 KiB commits %.0f/s (p50 %.2f ms, p99 %.2f ms)" % (
            limits["commit"]["rate"], limits["commit"]["p50"], limits["commit"]["p99"]),
            flush=True)
        with_pf = WANT_POSTFIX and postfix.available()
        dres = delivery(with_pf) if "D" in SCENARIOS else {"postern": [], "postfix": []}
        print("load average after: %s" % open("/proc/loadavg").read().strip(), flush=True)
        report({n: {s: [] for s in SPECS} for n in ("postern", "postern-syncfs", "postfix")},
               {"postern": [], "postfix": []}, limits, with_pf, dres, d_only=True)
        return
    inst = Instance()
    inst_syncfs = None
    pf = None
    try:
        if WANT_SYNCFS and any(s in SCENARIOS for s in SPECS):
            inst_syncfs = Instance("queue_sync = syncfs\n")
        pf = start_postfix(inst)
        limits["tls"] = tls_limit(inst)
        print("machine: durable 4 KiB commits %.0f/s (p50 %.2f ms, p99 %.2f ms); "
              "OpenSSL handshakes %.0f/s on loopback; argon2id INTERACTIVE verify %.1f ms"
              % (limits["commit"]["rate"], limits["commit"]["p50"], limits["commit"]["p99"],
                 limits["tls"], limits["argon2"]["p50"]), flush=True)
        res = {n: {s: [] for s in SPECS} for n in ("postern", "postern-syncfs", "postfix")}
        for rnd in range(ROUNDS):
            for s in SPECS:
                if s not in SCENARIOS:
                    continue
                for name, port in servers(inst, pf, rnd, inst_syncfs):
                    r = client(port, SPECS[s][1])
                    res[name][s].append(r)
                    print("round %d %s %s: %.0f msg/s, %d msgs, p50 %.2f p99 %.2f ms, "
                          "setup p50 %.2f ms, errors %d" % (
                              rnd + 1, s, name, r["rate"], r["msgs"], r["p50"], r["p99"],
                              r["setup_p50"], r["errors"]), flush=True)
        mems = {"postern": [], "postfix": []}
        if "M" in SCENARIOS:
            for rnd in range(MEM_ROUNDS):
                for name, _ in servers(inst, pf, rnd):
                    if name == "postern":
                        m = mem_round(inst.proc.pid, inst.starttls, inst.dir)
                    else:
                        # smtpd processes of earlier sessions wait up to
                        # max_idle for reuse: restart so the idle baseline is
                        # the bare instance and every session's smtpd is new
                        pf.restart()
                        m = mem_round(pf.master_pid(), pf.port, pf.dir)
                    mems[name].append(m)
                    print("round %d M %s: %.0f KiB PSS, %.0f KiB RSS per idle session; "
                          "setup p50 %.1f ms" % (rnd + 1, name, m[0], m[1],
                                                 m[4]["setup_p50"]), flush=True)
        print("load average after: %s" % open("/proc/loadavg").read().strip(), flush=True)
        if pf:
            print("postfix queue after the run: %d messages held, nothing delivered" %
                  pf.queued(), flush=True)
        with_pf = pf is not None
    finally:
        if pf:
            pf.close()
        if inst_syncfs:
            inst_syncfs.close()
        inst.close()
    dres = {"postern": [], "postfix": []}
    if "D" in SCENARIOS:
        dres = delivery(with_pf)
    report(res, mems, limits, with_pf, dres)


def ratio(a, b):
    return "%.2f" % (a / b) if b else "-"


def report(res, mems, limits, with_pf, dres, d_only=False):
    def col(rs, key):
        return med([r[key] for r in rs]) if rs else float("nan")

    print()
    print("| scenario | postern msg/s median (min-max) | Postfix msg/s median (min-max) | "
          "postern/Postfix | p50 / p99 ms postern | p50 / p99 ms Postfix | "
          "set-up p50 ms postern / Postfix | errors | rounds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s, name in [(s, n) for s in SPECS for n in ("postern", "postern-syncfs")]:
        a, b = res[name][s], res["postfix"][s]
        if not a:
            continue
        label = SPECS[s][0] + (", postern with queue_sync = syncfs" if name != "postern" else "")
        pfm = "%.0f (%s)" % (col(b, "rate"), spread([r["rate"] for r in b])) if b else "-"
        print("| %s %s | %.0f (%s) | %s | %s | %.2f / %.2f | %s | %.1f / %s | %d / %s | %d |" % (
            s, label, col(a, "rate"), spread([r["rate"] for r in a]), pfm,
            ratio(col(a, "rate"), col(b, "rate")) if b else "-",
            col(a, "p50"), col(a, "p99"),
            "%.2f / %.2f" % (col(b, "p50"), col(b, "p99")) if b else "-",
            col(a, "setup_p50"), "%.1f" % col(b, "setup_p50") if b else "-",
            sum(r["errors"] for r in a), "%d" % sum(r["errors"] for r in b) if b else "-",
            len(a)))
    a, b = dres["postern"], dres["postfix"]
    if a or b:
        def rate(rs):
            return "%.0f (%s)" % (col(rs, "rate"), spread([r["rate"] for r in rs])) \
                if rs else "-"

        def secs(rs):
            return "%.1f s total" % col(rs, "secs") if rs else "-"
        print("| D deliver %d queued x 4 KiB to a local sink | %s | %s | %s | %s | %s | | "
              "%s / %s | %d |" % (
                  D_MESSAGES, rate(a), rate(b),
                  ratio(col(a, "rate"), col(b, "rate")) if a and b else "-",
                  secs(a), secs(b), "%d" % sum(r["errors"] for r in a) if a else "-",
                  "%d" % sum(r["errors"] for r in b) if b else "-", max(len(a), len(b))))
    pm, fm = mems["postern"], mems["postfix"]
    if pm:
        pss = [m[0] for m in pm]
        fpss = [m[0] for m in fm]
        print("| M %d idle authenticated sessions, PSS KiB/session | %.0f (%s) | %s | %s "
              "| RSS %.0f | %s | | | %d |" % (
                  IDLE, med(pss), spread(pss),
                  "%.0f (%s)" % (med(fpss), spread(fpss)) if fm else "-",
                  ratio(med(pss), med(fpss)) if fm else "-",
                  med([m[1] for m in pm]),
                  "RSS %.0f" % med([m[1] for m in fm]) if fm else "-", len(pm)))
    for name, ms in (("postern", pm), ("postfix", fm)):
        if not ms:
            continue
        base, loaded = ms[-1][2], ms[-1][3]
        print()
        print("%s memory by program, last round (KiB; PSS and RSS summed):" % name)
        print("| program | idle: count, PSS, RSS | %d sessions: count, PSS, RSS | "
              "PSS per process |" % IDLE)
        print("|---|---|---|---|")
        for prog in sorted(set(base) | set(loaded)):
            b = base.get(prog, [0, 0, 0])
            l_ = loaded.get(prog, [0, 0, 0])
            print("| %s | %d, %d, %d | %d, %d, %d | %.0f |" % (
                prog, b[0], b[1], b[2], l_[0], l_[1], l_[2], l_[1] / max(l_[0], 1)))
    print()
    if d_only:
        print("machine limits: %.0f durable commits/s" % limits["commit"]["rate"])
        return
    c = limits["commit"]["rate"]
    h = limits["tls"]
    a = limits["argon2"]["p50"]
    print("machine limits: %.0f durable commits/s, %.0f TLS handshakes/s, argon2id %.1f ms "
          "(= %.0f verifications/s/core)" % (c, h, a, 1000.0 / a))
    for name in ("postern", "postern-syncfs", "postfix"):
        for s, rs in res[name].items():
            if rs:
                rate = med([r["rate"] for r in rs])
                extra = ""
                if s == "S3":
                    extra = ", %.0f%% of the handshake limit" % (100 * rate / h)
                print("  %s %s: %.0f msg/s = %.2f x one-at-a-time commit limit%s" % (
                    name, s, rate, rate / c, extra))
    if not with_pf:
        print("no Postfix in this run: no ratios (`make bench-deps`)")


if __name__ == "__main__":
    main()
