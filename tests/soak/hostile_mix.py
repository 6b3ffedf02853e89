#!/usr/bin/python3
"""Soak: ordinary mail keeps flowing while hostile recipients are mixed
in and postern-queued and the delivery workers are killed with SIGKILL.

One postern instance under the real master (delivery_e2e_harness.Instance)
with recording sinks (deliver_harness.SmtpServer) and, when dnsmasq
is installed, a private DNS server:

  dest.test  relay:  -> the ordinary sink
  localhost  relay:  -> the bounce sink (reports to demo@localhost)
  *          mx      -> deliver_mx_port: the mx sink on 127.0.0.1 (address
                        literals, and the MX of the U-label and 252-octet
                        domains), an mx sink without SMTPUTF8 on 127.0.0.2

Phase 1 (baseline): N/2 ordinary messages over S parallel sessions; the
rate is messages from the first submission until the last one reached
the sink.  Phase 2: N messages, one in four with a hostile recipient (half
of those also with an ordinary co-recipient), over S sessions, while two
killers (each bounded to K kills) SIGKILL postern-queued and a random
postern-deliver at points spread over the run (by the share of ordinary
mail delivered, so every kill lands while mail is flowing).  Sessions cut
by a kill are reopened and the message submitted again under a new token:
only a message answered 250 counts as accepted.

At the end: a table of messages per class (submitted, accepted, delivered,
bounced, deferred, lost, duplicated), both rates, the worker exits grouped
by status and reason from the master's log, and the checks:
  - no `event=fatal` from a delivery worker;
  - every `worker-restart` follows a SIGKILL the soak made (one each), and
    every other worker exit is a clean one (exit 0: recycled after
    deliver_batch jobs, or queued gone; or SIGTERM from the master after
    queued was killed);
  - every accepted ordinary message delivered, none lost across the kills;
    a second copy only for a message whose first copy arrived within 5 s
    of a kill (RFC 5321 §6.1: its result was not recorded);
  - every hostile recipient accepted and then delivered, bounced or
    deferred as its kind says;
  - every planned kill made, queued back after each;
  - phase 2's ordinary rate, less the time queued was down after its
    kills (the master's restart backoff), at least --min-ratio of phase 1's.
Exit status 0 when all hold, 1 otherwise.  Every wait is bounded; the
run stops by itself.  Root (the instance's role users and chroots).

Usage: hostile_mix.py [--messages N] [--kills K] [--sessions S] [--workers W]
                      [--batch B] [--min-ratio R] [--timeout T] [--log FILE]
                      [--seed N]
Environment: POSTERN_BIN (programs, default bin/ of this checkout).
"""
import argparse
import collections
import os
import pathlib
import queue
import random
import re
import shutil
import signal
import smtplib
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("POSTERN_BIN", os.path.join(TOP, "bin"))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import deliver_harness as dh  # noqa: E402
import delivery_e2e_harness as h  # noqa: E402
from conftest import free_port  # noqa: E402

ORDINARY_DOMAIN = "dest.test"
MX_NAME = "mx.soak.test"
MX_ASCII_NAME = "mx-ascii.soak.test"
# A 252-octet domain (the longest a 254-octet path allows with "a@"),
# labels of at most 63 octets, under .test so dnsmasq answers for it.
LONG_DOMAIN = ".".join(["d" * 62] * 3 + ["d" * 58, "test"])
assert len(LONG_DOMAIN) == 252
ENVID_MAX = "+41" * 100                        # 300 raw octets, 100 decoded
ORCPT_MAX = "rfc822;" + "o" * 486 + "@x.test"  # 500 octets
assert len(ORCPT_MAX) == 500
# A kill explains a second copy when the first arrived this shortly
# before it (delivered, the result not yet recorded) or after it (a
# worker finishing a transaction whose result can no longer be sent).
DUP_WINDOW_S = 5.0


class Kind:
    """A hostile recipient: MAIL parameters, RCPT argument, and where it
    must end up: "mx" (the mx sink), "bounce" (a report on the bounce
    sink) or "defer" (deferred, still queued at the end)."""

    def __init__(self, name, rcpt, expect, mail_params="", dns=False):
        self.name, self.rcpt, self.expect = name, rcpt, expect
        self.mail_params, self.dns = mail_params, dns


KINDS = [
    Kind("ipv4-literal", "<h@[127.0.0.1]>", "mx"),
    Kind("ipv6-literal", "<h@[IPv6:::1]>", "defer"),
    Kind("quoted-local", '<"h b"@[127.0.0.1]>', "mx"),
    Kind("envid-300", "<e@[127.0.0.1]>", "mx", " RET=HDRS ENVID=" + ENVID_MAX),
    Kind("notify-orcpt-max", "<n@[127.0.0.1]> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" + ORCPT_MAX,
         "mx"),
    Kind("postmaster", "<postmaster>", "defer"),
    Kind("u-label", "<j\u00fcrgen@b\u00fccher.test>", "mx", " SMTPUTF8", dns=True),
    Kind("u-label-no-utf8-hop", "<x@caf\u00e9.test>", "bounce", " SMTPUTF8", dns=True),
    Kind("domain-252", "<a@%s>" % LONG_DOMAIN, "mx", dns=True),
]

DNS_RECORDS = [
    "--mx-host=xn--bcher-kva.test,%s,10" % MX_NAME,
    "--mx-host=xn--caf-dma.test,%s,10" % MX_ASCII_NAME,
    "--mx-host=%s,%s,10" % (LONG_DOMAIN, MX_NAME),
    "--host-record=%s,127.0.0.1" % MX_NAME,
    "--host-record=%s,127.0.0.2" % MX_ASCII_NAME,
]


class Stamped(list):
    """A sink's transaction list that notes when each arrived."""

    def append(self, t):
        t["at"] = time.monotonic()
        super().append(t)


def stamped_sink(**kw):
    s = dh.SmtpServer(**kw)
    s.transactions = Stamped()
    return s


class Item:
    """One message to submit: class ("ordinary" or a kind's name), MAIL
    argument, RCPT arguments; what came of it after submission."""

    def __init__(self, cls, mail, rcpts, kind=None, co=None):
        self.cls, self.mail, self.rcpts, self.kind, self.co = cls, mail, rcpts, kind, co
        self.token = None       # the accepted submission's token
        self.qid = None
        self.unacked = []       # tokens whose DATA got no reply (may arrive)
        self.refused = None     # a 5xx at MAIL/RCPT: (command, code, text)
        self.accepted_at = None
        self.tries = 0


def make_items(n, phase, hostile, kinds):
    items = []
    for i in range(n):
        if hostile and i % 4 == 3:
            j = i // 4
            k = kinds[j % len(kinds)]
            co = "<c%d-%d@%s>" % (phase, i, ORDINARY_DOMAIN) if (j // len(kinds)) % 2 else None
            rcpts = [k.rcpt] + ([co] if co else [])
            items.append(Item(k.name, "<%s>%s" % (h.LOGIN, k.mail_params), rcpts, k, co))
        else:
            items.append(Item("ordinary", "<%s>" % h.LOGIN,
                              ["<o%d-%d@%s>" % (phase, i, ORDINARY_DOMAIN)]))
    return items


# ---------------------------------------------------------------- submission

class Submitter:
    """S threads taking items from one queue, each on its own session
    (reused across messages, reopened after any failure).  A 4xx or a cut
    session is tried again (a new token), bounded in tries and time."""

    TRIES = 40

    def __init__(self, inst, items, sessions, phase, deadline):
        self.inst, self.phase, self.deadline = inst, phase, deadline
        self.work = queue.Queue()
        for i, it in enumerate(items):
            self.work.put((i, it))
        self.accepted = 0
        self.retries = 0
        self.lock = threading.Lock()
        self.t0 = None
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(sessions)]

    def start(self):
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join(max(1.0, self.deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def _session(self):
        return self.inst.session("soak.test")

    def _run(self):
        s = None
        while time.monotonic() < self.deadline:
            try:
                i, it = self.work.get_nowait()
            except queue.Empty:
                break
            while it.token is None and it.refused is None and time.monotonic() < self.deadline:
                it.tries += 1
                if it.tries > self.TRIES:
                    break
                if it.tries > 1:
                    with self.lock:
                        self.retries += 1
                    # Queued is restarting (the master's backoff): a client
                    # would wait too.  Bounded by TRIES.
                    time.sleep(min(0.1 * it.tries, 1.0))
                token = b"soak-%d-%05d-%d" % (self.phase, i, it.tries)
                try:
                    if s is None:
                        s = self._session()
                    self._one(s, it, token)
                except (smtplib.SMTPException, OSError):
                    s = self._close(s)
                    continue
                if it.token is None and it.refused is None:
                    s = self._close(s)       # a 4xx: start afresh
                elif it.token is not None:
                    with self.lock:
                        self.accepted += 1
        self._close(s)

    @staticmethod
    def _close(s):
        if s is not None:
            try:
                s.close()
            except OSError:
                pass
        return None

    @staticmethod
    def _one(s, it, token):
        code, text = s.docmd("MAIL FROM:" + it.mail)
        if code != 250:
            if code >= 500:
                it.refused = ("MAIL", code, text.decode("utf-8", "replace"))
            s.rset()
            return
        for r in it.rcpts:
            code, text = s.docmd("RCPT TO:" + r)
            if code != 250:
                if code >= 500:
                    it.refused = ("RCPT " + r[:60], code, text.decode("utf-8", "replace"))
                s.rset()
                return
        body = h.message(token)
        it.unacked.append(token)
        code, text = s.data(body)
        if code == 250:
            it.unacked.pop()
            it.accepted_at = time.monotonic()
            it.token = token
            it.qid = text.decode().rsplit(" ", 1)[1]


# ---------------------------------------------------------------- kills

class Killer:
    """Kills at the given shares of ordinary mail delivered: ("queued",
    share) SIGKILLs postern-queued and waits until the master has it
    ready again; ("deliver", share) SIGKILLs one postern-deliver picked at
    random.  Bounded by the plan and the deadline."""

    def __init__(self, inst, plan, progress, deadline, rng):
        self.inst, self.plan, self.progress = inst, sorted(plan, key=lambda p: p[1]), progress
        self.deadline, self.rng = deadline, rng
        self.made = []          # (what, pid, monotonic time)
        self.notes = []
        self.queued_back_ms = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def join(self):
        self.thread.join(max(1.0, self.deadline - time.monotonic()))

    def _wait(self, pred):
        while time.monotonic() < self.deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        return None

    def _run(self):
        for what, share in self.plan:
            if self._wait(lambda: self.progress() >= share) is None:
                self.notes.append("%s kill at %.0f%%: deadline passed" % (what, share * 100))
                return
            if what == "queued":
                self._kill_queued()
            else:
                self._kill_worker()

    def _kill_queued(self):
        pids = self._wait(lambda: self.inst.pids("postern-queued"))
        if not pids:
            self.notes.append("no postern-queued to kill")
            return
        mark = self.inst.master.mark()
        t = time.monotonic()
        os.kill(pids[0], signal.SIGKILL)
        self.made.append(("queued", pids[0], t))
        try:
            self.inst.wait_log(r"event=daemon-ready role=queued",
                               timeout=max(1.0, self.deadline - time.monotonic()), start=mark)
            self.queued_back_ms.append(int((time.monotonic() - t) * 1000))
        except AssertionError:
            self.notes.append("queued not ready again after the kill")

    def _kill_worker(self):
        """A worker may end by itself (recycled) just before the signal:
        only a kill the master saw as SIGKILL counts; else another try."""
        for _ in range(5):
            pids = self._wait(lambda: self.inst.pids("postern-deliver"))
            if not pids:
                break
            pid = self.rng.choice(pids)
            mark = self.inst.master.mark()
            t = time.monotonic()
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            try:
                m = self.inst.wait_log(r"event=worker-exit role=deliver pid=%d (\S+)" % pid,
                                       timeout=10, start=mark)
            except AssertionError:
                self.notes.append("no worker-exit for postern-deliver %d" % pid)
                return
            if m.group(1) == "signal=SIGKILL":
                self.made.append(("deliver", pid, t))
                return
            self.notes.append("postern-deliver %d ended by itself (%s) before the kill" % (
                pid, m.group(1)))
        self.notes.append("no postern-deliver killed")


def kill_plan(kills):
    """Worker kills and queued kills interleaved over 0..1 (exclusive)."""
    plan = []
    for k in range(kills):
        plan.append(("deliver", (k + 0.5) / (kills + 1)))
        plan.append(("queued", (k + 1.0) / (kills + 1)))
    return plan


# ---------------------------------------------------------------- the log

EXIT_RX = re.compile(r"event=worker-exit role=(\w+) pid=(\d+) (status=\S+|signal=\S+)")
STOP_RX = re.compile(r"role=(deliver|maildir) postern-\w+: event=stop reason=(\S+)")
FATAL_RX = re.compile(r"role=(\w+) (postern-[\w-]+): event=fatal reason=(\S+)")
RESTART_RX = re.compile(r"event=worker-restart role=(\w+)")


def worker_exits(lines):
    """The worker exits of lines: [(role, pid, status)], stop reasons,
    fatal reasons by program, worker restarts by role."""
    exits, stops, fatals, restarts = [], collections.Counter(), collections.Counter(), \
        collections.Counter()
    for line in lines:
        m = EXIT_RX.search(line)
        if m:
            exits.append((m.group(1), int(m.group(2)), m.group(3).split("=", 1)[1]))
        m = STOP_RX.search(line)
        if m:
            stops["%s %s" % (m.group(1), m.group(2))] += 1
        m = FATAL_RX.search(line)
        if m:
            fatals["%s %s" % (m.group(2), m.group(3))] += 1
        elif "event=fatal" in line:
            fatals["(unparsed) " + line[-80:]] += 1
        m = RESTART_RX.search(line)
        if m:
            restarts[m.group(1)] += 1
    return exits, stops, fatals, restarts


# ---------------------------------------------------------------- a phase

class Sinks:
    def __init__(self, with_dns):
        self.mx_port = free_port()
        self.ordinary = stamped_sink()
        self.back = stamped_sink()
        self.mx = stamped_sink(port=self.mx_port)
        self.mx_ascii = (stamped_sink(host="127.0.0.2", port=self.mx_port,
                                      ehlo=["PIPELINING", "8BITMIME", "DSN"])
                         if with_dns else None)

    def close(self):
        for s in (self.ordinary, self.back, self.mx, self.mx_ascii):
            if s is not None:
                s.close()


def index_copies(sink):
    """{token: [arrival times]} of a sink's transactions (tokens are the
    Subject of h.message)."""
    out = collections.defaultdict(list)
    for t in list(sink.transactions):
        m = re.search(rb"Subject: (soak-\d+-\d+-\d+)", t["data"])
        if m and t["rcpts"] and not t["mail"].upper().startswith(b"MAIL FROM:<>"):
            out[m.group(1)].append(t["at"])
    return out


def reports_for(sink):
    """Tokens mentioned in the reports the bounce sink got."""
    out = collections.Counter()
    for t in list(sink.transactions):
        if t["mail"].upper().startswith(b"MAIL FROM:<>"):
            for tok in set(re.findall(rb"soak-\d+-\d+-\d+", t["data"])):
                out[tok] += 1
    return out


def run_phase(inst, sinks, items, sessions, phase, timeout, plan, rng):
    """Submit items, kill per plan, wait until everything expected has
    arrived (bounded).  Returns a dict of what happened."""
    deadline = time.monotonic() + timeout
    ordinary = [it for it in items if it.cls == "ordinary"]
    sub = Submitter(inst, items, sessions, phase, deadline)

    def ord_share():
        got = index_copies(sinks.ordinary)
        return sum(1 for it in ordinary if it.token in got) / max(1, len(ordinary))

    killer = Killer(inst, plan, ord_share, deadline, rng)
    sub.start()
    killer.start()
    done_submitting = sub.join()
    killer.join()

    def all_arrived():
        got, mx, reps = index_copies(sinks.ordinary), index_copies(sinks.mx), reports_for(sinks.back)
        for it in items:
            if it.token is None:
                continue
            if it.cls == "ordinary" or it.co:
                if it.token not in got:
                    return False
            if it.kind is not None:
                if it.kind.expect == "mx" and it.token not in mx:
                    return False
                if it.kind.expect == "bounce" and it.token not in reps:
                    return False
        return True

    def all_deferred():
        log = inst.log()
        return all(re.search(r"event=deferred .*id=%s" % it.qid, log) for it in items
                   if it.token is not None and it.kind is not None and it.kind.expect == "defer")

    while time.monotonic() < deadline and not all_arrived():
        time.sleep(0.05)
    arrived = all_arrived()
    t_all = time.monotonic()
    while arrived and time.monotonic() < deadline and not all_deferred():
        time.sleep(0.2)
    got = index_copies(sinks.ordinary)
    firsts = [min(got[it.token]) for it in ordinary if it.token in got]
    elapsed = max(1e-6, max(firsts, default=sub.t0) - sub.t0)
    all_elapsed = max(1e-6, t_all - sub.t0)
    # The time queued was down (kill to daemon-ready, the master's restart
    # backoff) is the kills' cost, not the hostile mail's: also shown
    # without it.
    down = sum(killer.queued_back_ms) / 1000.0
    latency = sorted(min(got[it.token]) - it.accepted_at for it in ordinary if it.token in got)
    return {"submitter": sub, "killer": killer, "done_submitting": done_submitting,
            "arrived": arrived, "ordinary": len(firsts), "elapsed": elapsed,
            "ordinary_rate": len(firsts) / elapsed,
            "ordinary_rate_up": len(firsts) / max(1e-6, elapsed - down),
            "all_rate": sub.accepted / all_elapsed,
            "all_rate_up": sub.accepted / max(1e-6, all_elapsed - down),
            "down": down, "latency": latency}


# ---------------------------------------------------------------- report

def tally(items, sinks, inst, kill_times, log):
    """Per class: submitted, accepted, refused, delivered, bounced,
    deferred, lost, duplicated (explained by a kill or not)."""
    got_ord, got_mx = index_copies(sinks.ordinary), index_copies(sinks.mx)
    reps = reports_for(sinks.back)
    queued_ids = set(inst.queue()["env"])
    rows = collections.OrderedDict()
    problems = []

    def row(cls):
        return rows.setdefault(cls, collections.Counter())

    for it in items:
        r = row(it.cls)
        r["submitted"] += 1
        if it.refused:
            r["refused"] += 1
            problems.append("%s refused: %r" % (it.cls, it.refused))
            continue
        if it.token is None:
            r["not accepted"] += 1
            problems.append("%s never accepted after %d tries" % (it.cls, it.tries))
            continue
        r["accepted"] += 1
        r["unacked"] += len(it.unacked)
        sinks_of = []
        if it.cls == "ordinary" or it.co:
            sinks_of.append(("ordinary", got_ord.get(it.token, [])))
        if it.kind is not None and it.kind.expect == "mx":
            sinks_of.append(("mx", got_mx.get(it.token, [])))
        for name, times in sinks_of:
            if not times:
                r["lost"] += 1
                problems.append("%s %s (%s): not at the %s sink" % (it.cls, it.token.decode(),
                                                                     it.qid, name))
            elif len(times) > 1:
                first = min(times)
                near = min((k - first for k in kill_times), key=abs, default=None)
                if near is not None and abs(near) <= DUP_WINDOW_S:
                    r["dup (kill)"] += 1
                else:
                    r["dup"] += 1
                    problems.append("%s %s: %d copies, the nearest kill %s s from the first" % (
                        it.cls, it.token.decode(), len(times),
                        "none" if near is None else "%+.1f" % near))
        ok = all(times for _, times in sinks_of)
        if it.kind is None:
            r["delivered"] += ok
        elif it.kind.expect == "mx":
            r["delivered"] += ok
        elif it.kind.expect == "bounce":
            if reps.get(it.token):
                r["bounced"] += 1
            else:
                problems.append("%s %s (%s): no report" % (it.cls, it.token.decode(), it.qid))
        elif it.kind.expect == "defer":
            if it.qid in queued_ids and re.search(r"event=deferred .*id=%s" % it.qid, log):
                r["deferred"] += 1
            else:
                problems.append("%s %s (%s): not deferred and still queued" % (
                    it.cls, it.token.decode(), it.qid))
        if it.kind is not None and it.kind.expect != "mx" and got_mx.get(it.token):
            problems.append("%s %s: at the mx sink" % (it.cls, it.token.decode()))
    return rows, problems


COLS = ["submitted", "accepted", "delivered", "bounced", "deferred", "lost",
        "dup (kill)", "dup", "refused", "unacked"]


def print_table(title, rows):
    print("\n" + title)
    w = max([len(c) for c in rows] + [len("class")])
    print("  %-*s " % (w, "class") + " ".join("%10s" % c for c in COLS))
    total = collections.Counter()
    for cls, r in rows.items():
        total.update(r)
        print("  %-*s " % (w, cls) + " ".join("%10d" % r[c] for c in COLS))
    print("  %-*s " % (w, "total") + " ".join("%10d" % total[c] for c in COLS))


def check_exits(lines, killed_workers, queued_kills):
    """Worker exits of the run (before shutdown) grouped, and what is wrong."""
    exits, stops, fatals, restarts = worker_exits(lines)
    problems = []
    by_status = collections.Counter("%s %s" % (role, st) for role, _, st in exits)
    killed = set(killed_workers)
    unexpected = collections.Counter()
    for role, pid, st in exits:
        if st == "SIGKILL" and pid in killed:
            continue
        if st == "exit:0":
            continue
        if st == "SIGTERM" and queued_kills:
            continue
        unexpected["role=%s %s" % (role, st)] += 1
    for k, n in sorted(unexpected.items()):
        problems.append("%d worker exits not made by the soak: %s" % (n, k))
    sigkilled = {pid for role, pid, st in exits if st == "SIGKILL"}
    if killed - sigkilled:
        problems.append("killed workers without their worker-exit: %r" % sorted(killed - sigkilled))
    n_restart = sum(restarts.values())
    if n_restart != len(killed_workers):
        problems.append("%d worker-restart lines for %d worker kills" % (
            n_restart, len(killed_workers)))
    for k, n in fatals.items():
        if k.startswith(("postern-deliver", "postern-maildir")):
            problems.insert(0, "worker fatal: %s (%d)" % (k, n))
    return by_status, stops, fatals, restarts, exits, problems


def print_exits(title, by_status, stops, fatals, restarts):
    print("\n" + title)
    print("  worker-exit by status:  " + (", ".join("%s: %d" % kv for kv in sorted(by_status.items()))
                                           or "none"))
    print("  event=stop by reason:   " + (", ".join("%s: %d" % kv for kv in sorted(stops.items()))
                                           or "none"))
    print("  event=fatal:            " + (", ".join("%s: %d" % kv for kv in sorted(fatals.items()))
                                           or "none"))
    print("  worker-restart:         " + (", ".join("%s: %d" % kv for kv in sorted(restarts.items()))
                                           or "none"))


# ---------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=int(os.environ.get("SOAK_MESSAGES", 1000)))
    p.add_argument("--kills", type=int, default=int(os.environ.get("SOAK_KILLS", 5)))
    p.add_argument("--sessions", type=int, default=int(os.environ.get("SOAK_SESSIONS", 4)))
    p.add_argument("--workers", type=int, default=8, help="deliver_workers (postern's default)")
    p.add_argument("--batch", type=int, default=25,
                   help="deliver_batch (postern's default is 100; lower, so workers are "
                        "recycled during the run too)")
    p.add_argument("--min-ratio", type=float, default=float(os.environ.get("SOAK_MIN_RATIO", 0.5)))
    p.add_argument("--timeout", type=float, default=0, help="seconds per phase (0: 30 + 0.15 N)")
    p.add_argument("--log", help="write the master's whole log here")
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    if not 4 <= a.messages <= 100000 or not 0 <= a.kills <= 100 or not 1 <= a.sessions <= 16 \
            or not 1 <= a.batch <= 100000 or not 1 <= a.workers <= 64:
        p.error("--messages 4..100000, --kills 0..100, --sessions 1..16, --batch 1..100000, "
                "--workers 1..64")
    return a


def start_instance(base, sinks, dns, workers, batch):
    routes = ["%s relay:127.0.0.1:%d" % (ORDINARY_DOMAIN, sinks.ordinary.port),
              "localhost relay:127.0.0.1:%d" % sinks.back.port, "* mx"]
    conf = ["deliver_workers = %d" % workers, "deliver_batch = %d" % batch,
            "deliver_mx_port = %d" % sinks.mx_port,
            "connections_per_ip_max = 100"]
    if dns is not None:
        conf.append("dns_resolver = 127.0.0.1:%d" % dns.port)
    inst = h.Instance(pathlib.Path(base), routes, conf=conf)
    inst.setup()
    # The built-in quota (200 messages an hour) would stop the run.
    inst.write_table("quotas", ["* messages_per_hour=0,messages_per_day=0,"
                                "recipients_per_hour=0,recipients_per_day=0"])
    return inst


def main(argv):
    a = parse_args(argv)
    if os.geteuid() != 0:
        print("hostile_mix: needs root (the instance's role users and chroots)")
        return 2
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    timeout = a.timeout or 30 + 0.15 * a.messages
    with_dns = h.have_dnsmasq()
    kinds = [k for k in KINDS if with_dns or not k.dns]
    base = tempfile.mkdtemp(prefix="postern-soak-")
    sinks = Sinks(with_dns)
    dns = dh.Dnsmasq(DNS_RECORDS) if with_dns else None
    t_start = time.monotonic()
    try:
        inst = start_instance(base, sinks, dns, a.workers, a.batch)
        with inst:
            inst.wait_log(r"event=worker-start role=deliver", timeout=20)
            p1_items = make_items(a.messages // 2, 1, False, kinds)
            p1 = run_phase(inst, sinks, p1_items, a.sessions, 1, timeout, [], rng)
            p2_items = make_items(a.messages, 2, True, kinds)
            p2 = run_phase(inst, sinks, p2_items, a.sessions, 2, timeout,
                           kill_plan(a.kills), rng)
            mark = inst.master.mark()
            lines = inst.master.lines()[:mark]
            log = "\n".join(lines)
            made = p2["killer"].made
            rows1, prob1 = tally(p1_items, sinks, inst, [], log)
            rows2, prob2 = tally(p2_items, sinks, inst, [t for _, _, t in made], log)
            try:
                inst.assert_clean()
            except AssertionError as e:
                prob2.append(str(e).split("\n", 1)[0])
        full = inst.master.lines()
    finally:
        sinks.close()
        if dns is not None:
            dns.close()
    if a.log:
        with open(a.log, "w") as f:
            f.write("\n".join(full) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return report(a, seed, kinds, with_dns, p1, p2, rows1, rows2, prob1 + prob2, made,
                  lines, full[len(lines):], time.monotonic() - t_start)


def report(a, seed, kinds, with_dns, p1, p2, rows1, rows2, problems, made, lines, after,
           took):
    killed_workers = [pid for what, pid, _ in made if what == "deliver"]
    queued_kills = sum(1 for what, _, _ in made if what == "queued")
    by_status, stops, fatals, restarts, exits, exit_problems = check_exits(
        lines, killed_workers, queued_kills)
    problems = exit_problems + list(problems)
    print("hostile_mix: %d messages (phase 1: %d ordinary; phase 2: %d, one in four hostile), "
          "%d sessions, %d workers recycled every %d jobs, seed %d, %s" % (
              a.messages, a.messages // 2, a.messages, a.sessions, a.workers, a.batch, seed,
              "dnsmasq" if with_dns else "no dnsmasq: U-label and 252-octet kinds left out"))
    print("hostile kinds: " + ", ".join(k.name for k in kinds))
    print_table("phase 1 (baseline, no kills)", rows1)
    print_table("phase 2 (hostile mix, kills)", rows2)
    base = max(1e-6, p1["ordinary_rate"])
    ratio = p2["ordinary_rate_up"] / base
    print("\nrates (first submission to last arrival; 'up': less the %.1f s queued was "
          "down after its kills)" % p2["down"])
    print("  %-8s %9s %9s %9s %9s %9s   %s" % ("", "ordinary", "msg/s", "up msg/s", "all msg/s",
                                            "up all", "ordinary latency p50/p90/max s"))
    for name, p in (("phase 1", p1), ("phase 2", p2)):
        lat = p["latency"] or [0.0]
        print("  %-8s %9d %9.1f %9.1f %9.1f %9.1f   %.2f / %.2f / %.2f" % (
            name, p["ordinary"], p["ordinary_rate"], p["ordinary_rate_up"], p["all_rate"],
            p["all_rate_up"], lat[len(lat) // 2], lat[int(len(lat) * 0.9)], lat[-1]))
    print("  phase 2 / phase 1, ordinary mail: %.2fx, %.2fx up (a quarter of phase 2's "
          "messages are hostile: 0.75x is par for a submission-bound run); all mail: %.2fx up"
          % (p2["ordinary_rate"] / base, ratio, p2["all_rate_up"] / max(1e-6, p1["all_rate"])))
    k = p2["killer"]
    print("\nkills (SIGKILL): postern-queued %d (back ready after %s ms), postern-deliver %d; "
          "client retries %d" % (queued_kills, k.queued_back_ms, len(killed_workers),
                                 p2["submitter"].retries + p1["submitter"].retries))
    for note in k.notes:
        print("  note: " + note)
    print_exits("worker exits during the run (master log)", by_status, stops, fatals, restarts)
    for role, pid, st in exits[:80]:
        mine = " (killed by the soak)" if pid in killed_workers and st == "SIGKILL" else ""
        print("    worker-exit role=%s pid=%d %s%s" % (role, pid, st, mine))
    if len(exits) > 80:
        print("    ... %d more" % (len(exits) - 80))
    sd = worker_exits(after)
    print_exits("worker exits at shutdown (SIGTERM to the master)",
                collections.Counter("%s %s" % (r, s) for r, _, s in sd[0]), sd[1], sd[2], sd[3])
    planned = 2 * a.kills
    if len(made) != planned:
        problems.append("%d of %d planned kills made: %s" % (len(made), planned, k.notes))
    if len(k.queued_back_ms) != queued_kills:
        problems.append("queued not back after every kill: %s" % k.notes)
    for name, p in (("phase 1", p1), ("phase 2", p2)):
        if not p["done_submitting"]:
            problems.append("%s: submission did not finish in time" % name)
        if not p["arrived"]:
            problems.append("%s: not everything expected arrived in time" % name)
    if ratio < a.min_ratio:
        problems.append("phase 2 ordinary rate (queued up) %.2fx phase 1's, under %.2f" % (
            ratio, a.min_ratio))
    print("\nchecks (%.0f s in all):" % took)
    if problems:
        for p in problems[:40]:
            print("  FAIL " + p)
        if len(problems) > 40:
            print("  ... %d more" % (len(problems) - 40))
        return 1
    print("  ok: no worker fatal; every worker-restart is one of the %d worker kills; "
          "no ordinary message lost; hostile recipients delivered, bounced or deferred "
          "as their kind says" % len(killed_workers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
