"""Authentication end to end: a real master on loopback with postern-authd,
users made with postern-user, driven by Python's smtplib and swaks.

Covers AUTH PLAIN (with and without initial response) and LOGIN, good and
bad credentials, '*' cancel, bad base64, authzid, unknown logins, MAIL
without AUTH, a password change picked up without restart, authd's
sandbox (own uid, its own seccomp filter above the master's), the probe
build dying of SIGSYS, an authd crash (restart, bound sessions ended), and
the failure limits (brute force from 127.0.0.2 slowed then refused while
logins from 127.0.0.1 go through promptly).

Hashes use the cheapest argon2id cost (--ops 1 --mem 8192) to keep the
suite fast; the cost lives in each hash, authd needs no setting.
"""
import base64
import os
import pwd
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, BUILD, free_port, prog
from master_harness import Master, connect, proc_status, read_reply, write_conf

CHEAP = ["--ops", "1", "--mem", "8192"]
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (role users, chroot)")


def add_user(confdir, login, password, cmd="add"):
    p = subprocess.run([prog("postern-user"), "-c", str(confdir), "--password-stdin"]
                       + CHEAP + [cmd, login], input=(password + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout


def start_master(tmp_path, setup_dir, extra=None, libexec=None):
    port = free_port()
    write_conf(tmp_path, setup_dir, port, extra=extra, libexec=libexec)
    m = Master(tmp_path)
    m.start()
    m.port = port
    return m


@pytest.fixture
def master(tmp_path, setup_dir):
    add_user(tmp_path, "alice@example.org", "alice-pw")
    add_user(tmp_path, "bob@example.org", "bob pw with spaces")
    m = start_master(tmp_path, setup_dir)
    try:
        m.wait_for(r"event=daemon-ready role=authd")
        yield m
    finally:
        m.kill()


def smtp(port, source="127.0.0.1"):
    s = smtplib.SMTP(timeout=20, source_address=(source, 0))
    s.connect("127.0.0.1", port)
    s.ehlo("client.example")
    return s


def auth_plain(port, login, password, authzid="", source="127.0.0.1"):
    """(code, text, seconds) of one AUTH PLAIN with initial response."""
    s = smtp(port, source)
    try:
        resp = base64.b64encode(("%s\0%s\0%s" % (authzid, login, password)).encode()).decode()
        t0 = time.monotonic()
        code, text = s.docmd("AUTH", "PLAIN " + resp)
        return code, text.decode(), time.monotonic() - t0
    finally:
        s.close()


def test_smtplib_plain_and_login_good_and_bad(master):
    for mech in ("PLAIN", "LOGIN"):
        s = smtp(master.port)
        s.user, s.password = "alice@example.org", "alice-pw"
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()))
        assert code == 235
        s.quit()
        s = smtp(master.port)
        s.user, s.password = "alice@example.org", "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.auth(mech, getattr(s, "auth_" + mech.lower()))
        assert e.value.smtp_code == 535
        s.close()
    master.wait_for(r"role=authd postern-authd: event=auth result=ok .*mech=login "
                    r"login=alice@example.org")
    assert "alice-pw" not in master.log() and "wrong" not in master.log()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks(master, mech):
    def run(password):
        return subprocess.run(["swaks", "--server", "127.0.0.1:%d" % master.port,
                               "--auth", mech, "--auth-user", "bob@example.org",
                               "--auth-password", password, "--quit-after", "AUTH"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=30).stdout.decode()
    assert "235 2.7.0" in run("bob pw with spaces")
    assert "535 5.7.8" in run("bob pw")


def test_edge_cases(master):
    s = smtp(master.port)
    # MAIL before AUTH: 530 even from loopback.
    assert s.docmd("MAIL", "FROM:<alice@example.org>")[0] == 530
    # PLAIN without initial response: 334 then the response.
    assert s.docmd("AUTH", "PLAIN")[0] == 334
    assert s.docmd("*")[0] == 501                      # cancelled
    assert s.docmd("AUTH", "PLAIN !!!notbase64")[0] == 501
    assert s.docmd("AUTH", "LOGIN")[0] == 334
    assert s.docmd("%%%")[0] == 501                    # bad base64
    resp = base64.b64encode(b"bob@example.org\0alice@example.org\0alice-pw").decode()
    code, text = s.docmd("AUTH", "PLAIN " + resp)       # acting as someone else
    assert code == 535 and b"Authorization identity" in text
    resp = base64.b64encode(b"\0nobody@example.org\0alice-pw").decode()
    assert s.docmd("AUTH", "PLAIN " + resp)[0] == 535  # unknown login
    assert s.docmd("AUTH", "PLAIN")[0] == 334
    # authzid equal to the login (domains compare case-insensitively).
    resp = base64.b64encode(b"alice@Example.ORG\0alice@EXAMPLE.org\0alice-pw").decode()
    assert s.docmd(resp)[0] == 235
    s.close()
    # The local part is case-sensitive: another authzid.
    assert auth_plain(master.port, "alice@example.org", "alice-pw",
                      authzid="ALICE@example.org")[0] == 535


def test_password_change_without_restart(master, tmp_path):
    assert auth_plain(master.port, "alice@example.org", "alice-pw")[0] == 235
    add_user(tmp_path, "alice@example.org", "new-pw", cmd="passwd")
    master.wait_for(r"postern-authd: event=table table=users", timeout=10)
    deadline = time.monotonic() + 10
    while auth_plain(master.port, "alice@example.org", "new-pw")[0] != 235:
        assert time.monotonic() < deadline, master.log()
        time.sleep(0.5)
    # The old password is gone, also from the success cache.
    assert auth_plain(master.port, "alice@example.org", "alice-pw")[0] == 535


def authd_pid(master, start=0):
    m = master.wait_for(r"event=daemon-start role=authd pid=(\d+)", start=start)
    return int(m.group(1))


def test_authd_sandbox_facts(master):
    pid = authd_pid(master)
    st = proc_status(pid)
    mine = proc_status(master.proc.pid)
    uid = pwd.getpwnam("postern-auth").pw_uid
    assert st["Uid"].split() == [str(uid)] * 4
    assert st["Seccomp"] == "2"
    assert int(st["Seccomp_filters"]) > int(mine.get("Seccomp_filters", "0"))
    assert st["NoNewPrivs"] == "1"
    assert os.readlink("/proc/%d/root" % pid) != "/"
    env = open("/proc/%d/environ" % pid, "rb").read()
    assert env == b""


def test_authd_probe_dies_of_sigsys(tmp_path, setup_dir):
    probe = os.path.join(BUILD, "probe-open", "bin")
    if not os.path.exists(os.path.join(probe, "postern-authd")):
        pytest.skip("no probe build (make probes)")
    m = start_master(tmp_path, setup_dir, libexec=probe)
    try:
        m.wait_for(r"event=sandbox-violation role=authd signal=SIGSYS")
        m.wait_for(r"event=daemon-restart role=authd")
    finally:
        m.kill()


def test_authd_crash_restarts_and_ends_bound_sessions(master):
    pid = authd_pid(master)
    with connect(master.port) as s:
        read_reply(s)
        s.sendall(b"EHLO x\r\n")
        read_reply(s)
        mark = master.mark()
        # SIGABRT, not SIGSEGV: the ASan build (make asan) catches SEGV
        # itself and exits with a status instead of dying of the signal.
        os.kill(pid, signal.SIGABRT)
        master.wait_for(r"event=daemon-exit role=authd pid=%d signal=SIGABRT" % pid, start=mark)
        master.wait_for(r"event=sessions-ended role=authd sessions=1", start=mark)
        s.settimeout(10)
        data = b""
        while True:                       # the bound session is ended
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    master.wait_for(r"event=daemon-ready role=authd", start=mark)
    assert auth_plain(master.port, "alice@example.org", "alice-pw")[0] == 235


def test_hostile_channel_closes_only_that_session(tmp_path, setup_dir):
    """A fake postern-smtpd sends garbage on its auth channel; authd closes
    that channel and keeps serving the next session."""
    add_user(tmp_path, "alice@example.org", "alice-pw")
    # The default (slow) cost: the second frame surely arrives while the
    # first is being verified.
    p = subprocess.run([prog("postern-user"), "-c", str(tmp_path), "--password-stdin",
                        "add", "slow@example.org"], input=b"slow-pw\n", timeout=20)
    assert p.returncode == 0
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    os.symlink(prog("postern-authd"), str(libexec / "postern-authd"))
    fake = libexec / "postern-smtpd"
    fake.write_text(FAKE_SMTPD)
    fake.chmod(0o755)
    m = start_master(tmp_path, setup_dir, libexec=str(libexec))
    try:
        m.wait_for(r"event=daemon-ready role=authd")
        pid = authd_pid(m)
        for cmd, want in ((b"garbage", b"closed"), (b"pending", b"closed"),
                          (b"good", b"ok"), (b"bad", b"no 535")):
            with connect(m.port) as s:
                s.sendall(cmd + b"\n")
                got = s.recv(200)
            assert got.startswith(want), (cmd, got, m.log())
        m.wait_for(r"event=session-closed session=\S+ reason=malformed-frame")
        m.wait_for(r"event=session-closed session=\S+ reason=frame-while-pending")
        assert authd_pid(m) == pid and "daemon-exit role=authd" not in m.log()
    finally:
        m.kill()


FAKE_SMTPD = r'''#!/usr/bin/python3
# Stand-in for postern-smtpd: fd 0 client, fd 4 auth channel (SEQPACKET).
import os, select, socket, sys
def ns(b): return str(len(b)).encode() + b":" + b + b","
def frame(*f): return ns(b"".join(ns(x) for x in f))
os.set_blocking(0, True)
auth = socket.socket(fileno=4)
cmd = b""
while not cmd.endswith(b"\n"):
    c = os.read(0, 100)
    if not c: sys.exit(0)
    cmd += c
cmd = cmd.strip()
good = frame(b"auth", b"plain", b"", b"alice@example.org", b"alice-pw")
bad = frame(b"auth", b"plain", b"", b"alice@example.org", b"nope")
if cmd == b"garbage":
    auth.send(b"this is not a netstring")
elif cmd == b"pending":
    slow = frame(b"auth", b"plain", b"", b"slow@example.org", b"nope")
    auth.send(slow)
    auth.send(slow)
else:
    auth.send(good if cmd == b"good" else bad)
r, _, _ = select.select([auth], [], [], 10)
data = auth.recv(4096) if r else b"timeout"
if cmd in (b"garbage", b"pending"):
    while data and data != b"timeout":   # a reply may come before the close
        data = auth.recv(4096)
    out = b"closed" if data == b"" else b"open"
else:
    out = b"ok" if b"2:ok" in data else b"no " + data.split(b"3:")[1][:3] if b"2:no" in data else data
os.write(0, out)
'''


def test_brute_force_slowed_then_refused(tmp_path, setup_dir):
    add_user(tmp_path, "victim@example.org", "victim-pw")
    add_user(tmp_path, "carol@example.org", "carol-pw")
    extra = ["auth_ip_delay_after = 2", "auth_ip_refuse_after = 6",
             "auth_login_delay_after = 2", "auth_delay_max = 1s"]
    m = start_master(tmp_path, setup_dir, extra=extra)
    try:
        m.wait_for(r"event=daemon-ready role=authd")
        results = []
        other = {}

        def other_ip_login():
            other["carol"] = auth_plain(m.port, "carol@example.org", "carol-pw")

        for i in range(50):
            if i == 4:            # in the middle of the slowed phase
                t = threading.Thread(target=other_ip_login)
                t.start()
            results.append(auth_plain(m.port, "victim@example.org", "guess%d" % i,
                                      source="127.0.0.2"))
        t.join(20)
        codes = [r[0] for r in results]
        times = [r[2] for r in results]
        assert codes[:2] == [535, 535] and max(times[:2]) < 0.9, results[:3]
        assert codes[2:6] == [535] * 4, codes
        assert min(times[2:6]) >= 0.9, times[2:6]      # slowed
        assert codes[6:] == [454] * 44, codes          # then refused
        assert max(times[6:]) < 0.9, times[6:]
        assert "4.7.0 Too many failed" in results[-1][1]
        # Another user from another address went through promptly...
        assert other["carol"][0] == 235 and other["carol"][2] < 0.9, other
        # ...and so does the victim from his own address.
        code, _, secs = auth_plain(m.port, "victim@example.org", "victim-pw")
        assert code == 235 and secs < 0.9
        m.wait_for(r"event=auth result=refused session=\S+ ip=127.0.0.2 ")
    finally:
        m.kill()
