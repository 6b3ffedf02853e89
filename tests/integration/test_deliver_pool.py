"""The master's pool of delivery workers (master/workers.h; INSTALL.md "The
workers") under a real master with a routes table:

- the postern-deliver workers run as the deliver user, Seccomp 2, one
  filter more than the master, chrooted in the empty dir;
- a postern-maildir runs per maildir route as the maildir's owner (a test
  user, uid >= 1000), chrooted in the maildir;
- maildirs owned by root, by a uid below maildir_uid_min, or reached
  through a symlink are refused and logged, and get no worker;
- a killed worker is respawned; a removed maildir route's worker is
  stopped and a new one started (routes.cdb re-derived);
- without a routes table no worker runs;
- a -DSANDBOX_PROBE=open build of postern-deliver dies of SIGSYS and is
  logged as a sandbox violation.
Root only (users, chroot)."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, BUILD, free_port, prog
import delivery_e2e_harness
from delivery_e2e_harness import MaildirUser, proc_children
from master_harness import Master, proc_status, run_check, write_conf

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

POOL_CONF = ["deliver_workers = 2", "maildir_uid_min = 1000"]


def write_routes(confdir, lines):
    src = os.path.join(str(confdir), "routes")
    with open(src, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    p = subprocess.run([prog("postern-table"), "build", src], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout.decode()


_master = None


def wait_until(pred, timeout, what):
    """delivery_e2e_harness.wait_until, with the master's log on failure."""
    try:
        return delivery_e2e_harness.wait_until(pred, timeout, what)
    except AssertionError as e:
        raise AssertionError("%s; log:\n%s" % (e, _master.log() if _master else "")) from None


def workers(m, comm):
    return proc_children(m.proc.pid, comm)


def sandboxed(pid, uid):
    """The status of pid once it runs as uid (after its sandbox_enter)."""
    def ready():
        try:
            st = proc_status(pid)
        except OSError:
            return None
        return st if st["Uid"].split()[0] == str(uid) else None
    return wait_until(ready, 10, "pid %d running as uid %d" % (pid, uid))


def root_of(pid):
    return os.readlink("/proc/%d/root" % pid)


def start(tmp_path, setup_dir, routes, extra=(), libexec=None):
    conf = tmp_path / "conf"
    write_conf(conf, setup_dir, free_port(), extra=POOL_CONF + list(extra), libexec=libexec)
    if routes is not None:
        write_routes(conf, routes)
    global _master
    _master = Master(conf)
    return _master, conf          # started by its `with`


def test_workers_sandboxed_and_maildir_owner(tmp_path, setup_dir):
    deliver = pwd.getpwnam("postern-deliver")
    with MaildirUser("postern-pooltest") as user:
        box = user.maildir(tmp_path / "mail" / "box")
        m, _ = start(tmp_path, setup_dir, ["* mx", "local.test maildir:" + box])
        with m:
            m.wait_for(r"event=daemon-ready role=queued", timeout=20)
            pids = wait_until(lambda: len(workers(m, "postern-deliver")) == 2 and
                              workers(m, "postern-deliver"), 20, "two postern-deliver")
            mine = proc_status(m.proc.pid)
            for pid in pids:
                st = sandboxed(pid, deliver.pw_uid)
                assert st["Gid"].split()[0] == str(deliver.pw_gid)
                assert st["Seccomp"] == "2"
                assert int(st["Seccomp_filters"]) == int(mine.get("Seccomp_filters", "0")) + 1
                assert root_of(pid) == os.path.join(str(setup_dir), "empty")
            md = wait_until(lambda: workers(m, "postern-maildir"), 20, "postern-maildir")
            assert len(md) == 1, m.log()
            st = sandboxed(md[0], user.uid)
            assert st["Gid"].split()[0] == str(user.gid)
            assert st["Seccomp"] == "2"
            assert root_of(md[0]) == box
            m.wait_for(r"event=worker-start role=maildir pid=%d route=maildir:%s"
                       % (md[0], re.escape(box)))
            # queued got the channels
            m.wait_for(r"role=queued .*event=worker kind=maildir", timeout=10)
            assert "sandbox-violation" not in m.log()
            assert "maildir-refused" not in m.log()


def test_bad_maildirs_refused(tmp_path, setup_dir):
    with MaildirUser("postern-pooltest") as user:
        good = user.maildir(tmp_path / "mail" / "good")
        rootbox = tmp_path / "mail" / "rootbox"
        os.makedirs(str(rootbox))                       # owned by root
        low = tmp_path / "mail" / "low"
        os.makedirs(str(low))
        os.chown(str(low), 500, 500)                    # below maildir_uid_min
        link = tmp_path / "mail" / "link"
        os.symlink(good, str(link))                     # a symlink to a good one
        routes = ["* mx", "a.test maildir:%s" % rootbox, "b.test maildir:%s" % low,
                  "c.test maildir:%s" % link]
        m, _ = start(tmp_path, setup_dir, routes)
        with m:
            m.wait_for(r"event=daemon-ready role=queued", timeout=20)
            m.wait_for(r"event=maildir-refused path=%s reason=owner-is-root" %
                       re.escape(str(rootbox)), timeout=10)
            m.wait_for(r"event=maildir-refused path=%s reason=owner-below-maildir_uid_min uid=500"
                       % re.escape(str(low)), timeout=10)
            m.wait_for(r"event=maildir-refused path=%s reason=symlink-or-not-a-directory"
                       % re.escape(str(link)), timeout=10)
            wait_until(lambda: len(workers(m, "postern-deliver")) == 2, 20, "deliver workers")
            assert workers(m, "postern-maildir") == [], m.log()
            assert "event=worker-start role=maildir" not in m.log()
            assert m.proc.poll() is None
            # The operator repairs one (the user's now, complete) and
            # sends SIGHUP: its worker starts without waiting the backoff.
            for p in [str(rootbox)] + [os.path.join(str(rootbox), d) for d in ("tmp", "new", "cur")]:
                if not os.path.isdir(p):
                    os.mkdir(p)
                os.chmod(p, 0o700)
                os.chown(p, user.uid, user.gid)
            mark = m.mark()
            m.signal(signal.SIGHUP)
            m.wait_for(r"event=worker-start role=maildir pid=\d+ route=maildir:%s$"
                       % re.escape(str(rootbox)), start=mark, timeout=10)
            md = wait_until(lambda: workers(m, "postern-maildir"), 10, "the repaired maildir's worker")
            sandboxed(md[0], user.uid)
            assert root_of(md[0]) == str(rootbox)


def test_killed_worker_respawned_and_routes_rederived(tmp_path, setup_dir):
    with MaildirUser("postern-pooltest") as user:
        box1 = user.maildir(tmp_path / "mail" / "one")
        box2 = user.maildir(tmp_path / "mail" / "two")
        m, conf = start(tmp_path, setup_dir, ["* mx", "one.test maildir:" + box1])
        with m:
            m.wait_for(r"event=daemon-ready role=queued", timeout=20)
            old = wait_until(lambda: len(workers(m, "postern-deliver")) == 2 and
                             workers(m, "postern-deliver"), 20, "two postern-deliver")
            mark = m.mark()
            os.kill(old[0], signal.SIGKILL)
            m.wait_for(r"event=worker-exit role=deliver pid=%d signal=SIGKILL" % old[0],
                       start=mark)
            m.wait_for(r"event=worker-start role=deliver pid=(?!%d\b)\d+" % old[0],
                       start=mark, timeout=10)
            now = wait_until(lambda: len(workers(m, "postern-deliver")) == 2 and
                             workers(m, "postern-deliver"), 20, "the pool back at two")
            assert old[0] not in now and old[1] in now
            md1 = wait_until(lambda: workers(m, "postern-maildir"), 20, "maildir worker")
            # Route one replaced by route two: one's worker stops, two's starts.
            mark = m.mark()
            write_routes(conf, ["* mx", "two.test maildir:" + box2])
            m.wait_for(r"event=maildir-route-removed route=maildir:%s" % re.escape(box1),
                       start=mark, timeout=15)
            m.wait_for(r"event=worker-exit role=maildir pid=%d" % md1[0], start=mark)
            m.wait_for(r"event=worker-start role=maildir pid=\d+ route=maildir:%s"
                       % re.escape(box2), start=mark, timeout=10)
            md2 = wait_until(lambda: [p for p in workers(m, "postern-maildir")
                                      if p != md1[0]], 10, "the new maildir worker")
            sandboxed(md2[0], user.uid)
            assert root_of(md2[0]) == box2
            assert "sandbox-violation" not in m.log()


def test_no_routes_table_no_workers(tmp_path, setup_dir):
    m, _ = start(tmp_path, setup_dir, None)
    with m:
        m.wait_for(r"event=daemon-ready role=queued", timeout=20)
        m.wait_for(r"event=daemon-ready role=authd", timeout=20)
        # Ready is when workers would be bound; give the loop a few ticks
        # (a marker: the periodic table stat runs every 2 s).
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert workers(m, "postern-deliver") == [], m.log()
            time.sleep(0.1)
        assert "worker-start" not in m.log()


def test_probe_deliver_is_a_sandbox_violation(tmp_path, setup_dir):
    probe = os.path.join(BUILD, "probe-open", "bin", "postern-deliver")
    assert os.path.exists(probe), "probe build missing: run `make probes` (B=%s)" % BUILD
    # Every program normal except postern-deliver.
    libexec = tempfile.mkdtemp(prefix="postern-pool-libexec-")
    try:
        for name in os.listdir(BIN):
            if os.path.isfile(os.path.join(BIN, name)):
                shutil.copy2(os.path.join(BIN, name), libexec)
        shutil.copy2(probe, os.path.join(libexec, "postern-deliver"))
        m, _ = start(tmp_path, setup_dir, ["* mx"], libexec=libexec)
        with m:
            m.wait_for(r"event=daemon-ready role=queued", timeout=20)
            m.wait_for(r"event=sandbox-violation role=deliver signal=SIGSYS pid=\d+", timeout=20)
            m.wait_for(r"event=worker-exit role=deliver pid=\d+ signal=SIGSYS")
            m.wait_for(r"event=worker-restart role=deliver in_ms=\d+")
            assert m.proc.poll() is None
    finally:
        shutil.rmtree(libexec, True)


@pytest.mark.parametrize("line,reason", [
    ("deliver_workers = 65", "out of range|range|between"),
    ("deliver_batch = 0", "out of range|range|between"),
    ("maildir_uid_min = 0", "out of range|range|between"),
    ("dns_resolver = 127.0.0.1", "IPv4:PORT"),
    ("dns_resolver = [::1]:53", "IPv4:PORT"),
    ("outbound_bind = mail.example.org", "IPv4 or IPv6"),
    ("helo_name = bad_name", "host name"),
    ("deliver_mx_port = 70000", "out of range|range|between"),
    ("queue_retry_min = 2d", "must not exceed"),
    ("queue_lifetime = 0", "out of range|range|between"),
])
def test_bad_delivery_keys_refused_with_file_line(tmp_path, setup_dir, line, reason):
    conf = write_conf(tmp_path, setup_dir, free_port(), extra=[line])
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1, err
    n = len(open(conf).read().splitlines())
    if "must not exceed" in reason:
        assert conf in err and re.search(reason, err), err
    else:
        assert "%s:%d:" % (conf, n) in err and re.search(reason, err), err


def test_delivery_keys_accepted(tmp_path, setup_dir):
    write_conf(tmp_path, setup_dir, free_port(), extra=[
        "deliver_workers = 0", "deliver_batch = 5", "helo_name = out.example.org",
        "outbound_bind = ::1", "dns_resolver = 127.0.0.1:5353", "tls_ca_file = none",
        "maildir_uid_min = 2000", "deliver_mx_port = 2525", "queue_retry_min = 1s",
        "queue_retry_max = 2s", "queue_lifetime = 3s", "queue_delay_notice = 0",
        "deliver_concurrency = 3", "deliver_destination_concurrency = 1"])
    rc, err = run_check(tmp_path, "-t")
    assert rc == 0, err


def test_queued_restart_gets_fresh_workers(tmp_path, setup_dir):
    m, _ = start(tmp_path, setup_dir, ["* mx"])
    with m:
        m.wait_for(r"event=daemon-ready role=queued", timeout=20)
        old = wait_until(lambda: len(workers(m, "postern-deliver")) == 2 and
                         workers(m, "postern-deliver"), 20, "two postern-deliver")
        queued = proc_children(m.proc.pid, "postern-queued")
        assert len(queued) == 1
        mark = m.mark()
        os.kill(queued[0], signal.SIGKILL)
        # The old instance's workers go; fresh ones are bound to the new one.
        for pid in old:
            m.wait_for(r"event=worker-exit role=deliver pid=%d " % pid, start=mark, timeout=10)
        m.wait_for(r"event=daemon-ready role=queued", start=mark, timeout=20)
        m.wait_for(r"event=worker-start role=deliver", start=mark, timeout=10)
        new = wait_until(lambda: len(workers(m, "postern-deliver")) == 2 and
                         workers(m, "postern-deliver"), 20, "two fresh postern-deliver")
        assert not set(new) & set(old)
        m.wait_for(r"role=queued .*event=worker kind=smtp", start=mark, timeout=10)
