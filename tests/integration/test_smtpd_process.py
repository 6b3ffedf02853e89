"""postern-smtpd as a process: its command line, its descriptors, its
sandbox (invariant 3: /proc facts and the probe builds dying of SIGSYS),
and limits that are clearer in Python than in a dialogue script."""
import os
import re
import signal
import time

import pytest

from conftest import prog
from smtpd_harness import Smtpd, default_args, empty_root, frame

ROOT = os.geteuid() == 0


def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def own_filters():
    return int(status_of(os.getpid()).get("Seccomp_filters", "0"))


# ---------------------------------------------------------------- sandbox

@pytest.mark.skipif(not ROOT, reason="needs root for the uid change and chroot")
def test_sandbox_facts_in_proc():
    with Smtpd() as s:
        s.greet()                      # the greeting is sent after sandbox_enter
        st = status_of(s.pid)
        assert st["Uid"].split() == ["65534"] * 4
        assert st["Gid"].split() == ["65534"] * 4
        assert st["Groups"].strip() == ""
        assert st["Seccomp"].strip() == "2"
        assert int(st["Seccomp_filters"]) == own_filters() + 1
        assert st["NoNewPrivs"].strip() == "1"
        assert os.readlink("/proc/%d/root" % s.pid) == empty_root()
        s.cmd("QUIT")
        s.expect(221)
    assert s.returncode == 0


def test_sandbox_without_root_keeps_seccomp():
    # Whoever runs us, the filter is on once the greeting is out.
    with Smtpd() as s:
        s.greet()
        st = status_of(s.pid)
        assert st["Seccomp"].strip() == "2"
        assert st["NoNewPrivs"].strip() == "1"


@pytest.mark.parametrize("probe", ["open", "socket", "execve"])
def test_probe_build_dies_of_sigsys(probe):
    binary = prog("postern-smtpd", build="probe-" + probe)
    assert os.path.exists(binary), "run `make probes` first: " + binary
    s = Smtpd(binary=binary)
    try:
        assert s.wait() == -signal.SIGSYS
        assert not any("sandbox-probe-survived" in l for l in s.log_lines)
    finally:
        s.close()


# -------------------------------------------------------------- arguments

def run_with_argv(argv):
    s = Smtpd(argv=argv)
    rc = s.wait()
    s.close()
    return rc, s.log_lines


def argv_of(**over):
    a = default_args()
    for k, v in over.items():
        key = "-" + k
        if v is None:
            a.pop(key)
        else:
            a[key] = v
    return [x for k, v in a.items() for x in (k, v)]


def test_good_arguments_greet():
    with Smtpd() as s:
        assert re.match(r"220 mx\.example\.org ESMTP postern "
                        r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$",
                        s.read_line())


@pytest.mark.parametrize("opt", list("smhapznTtcPurg"))
def test_missing_option_exits_111(opt):
    rc, log = run_with_argv(argv_of(**{opt: None}))
    assert rc == 111
    assert any("event=fatal" in l for l in log), log


@pytest.mark.parametrize("opt,value", [
    ("m", "smtps"), ("h", "bad host"), ("h", "a..b"), ("h", "x\r\n250 ok"),
    ("a", "256.1.1.1"), ("a", "localhost"), ("p", "70000"), ("p", "-1"),
    ("z", "0"), ("z", "12abc"), ("n", "0"), ("t", "0"), ("T", "007"),
    ("c", "0"), ("c", "86401"), ("P", "0"), ("P", "1m"),
    ("u", "x"), ("g", ""), ("r", "relative/dir"), ("s", "has space"),
])
def test_invalid_option_exits_111(opt, value):
    rc, log = run_with_argv(argv_of(**{opt: value}))
    assert rc == 111
    assert any("event=fatal" in l for l in log), log


def test_unknown_and_repeated_options_exit_111():
    assert run_with_argv(argv_of() + ["-x", "1"])[0] == 111
    assert run_with_argv(argv_of() + ["-t", "5"])[0] == 111
    assert run_with_argv(argv_of() + ["stray"])[0] == 111


def test_closed_descriptor_exits_111():
    """A missing descriptor of lib/fds.h is fatal before anything else."""
    path = prog("postern-smtpd")
    r, w = os.pipe()
    devnull = os.open("/dev/null", os.O_RDWR)
    import fcntl
    hi = [fcntl.fcntl(x, fcntl.F_DUPFD_CLOEXEC, 10) for x in (devnull, w)]
    actions = [(os.POSIX_SPAWN_DUP2, hi[0], 0), (os.POSIX_SPAWN_DUP2, hi[0], 1),
               (os.POSIX_SPAWN_DUP2, hi[1], 2), (os.POSIX_SPAWN_DUP2, hi[0], 3),
               (os.POSIX_SPAWN_DUP2, hi[0], 4)]
    pid = os.posix_spawn(path, [path] + argv_of(), {}, file_actions=actions)
    for x in hi + [devnull, w]:
        os.close(x)
    _, status = os.waitpid(pid, 0)
    out = os.read(r, 4096).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 111
    assert "descriptor 5 is not open" in out


# ----------------------------------------------------------------- limits

def test_101_recipients_get_452():
    with Smtpd() as s:
        s.login()
        s.cmd("MAIL FROM:<a@example.org>")
        s.expect(250)
        s.send(b"".join(b"RCPT TO:<r%d@example.net>\r\n" % i for i in range(101)))
        for i in range(100):
            assert s.reply() == (250, ["250 2.1.5 Ok"]), i
        assert s.reply() == (452, ["452 4.5.3 Too many recipients"])
        assert sum(1 for f in s.queue.frames if f[0] == b"rcpt") == 100


def test_password_never_logged():
    with Smtpd() as s:
        s.greet()
        s.ehlo()
        s.cmd("AUTH PLAIN AHZpY3RpbQBodW50ZXIy")       # victim / hunter2
        s.expect(535)
        s.cmd("AUTH LOGIN dmljdGlt")
        s.expect(334)
        s.cmd("aHVudGVyMg==")
        s.expect(535)
    text = "\n".join(s.log_lines)
    assert "login=victim" in text
    assert "hunter2" not in text and "aHVudGVyMg" not in text


def test_ticket_sent_with_every_mail():
    with Smtpd() as s:
        s.login(ticket="\x01binary\xfeticket")
        for _ in range(2):
            s.cmd("MAIL FROM:<a@example.org>")
            s.expect(250)
            s.cmd("RSET")
            s.expect(250)
        mails = [f for f in s.queue.frames if f[0] == b"mail"]
        assert len(mails) == 2
        assert all(f[1] == "\x01binary\xfeticket".encode() for f in mails)


def test_chunks_are_at_most_32768_and_exact():
    body = b"".join(b"line %06d " % i + b"x" * 60 + b"\r\n" for i in range(8000))
    with Smtpd(args={"-z": str(10 * len(body))}) as s:
        s.login()
        s.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        s.expect(250)
        s.expect(250)
        s.expect(354)
        s.send(body + b".\r\n")
        s.expect(250, timeout=10)
        chunks = [f[1] for f in s.queue.frames if f[0] == b"chunk"]
        assert all(0 < len(c) <= 32768 for c in chunks)
        assert b"".join(chunks) == body
        assert s.queue.verbs()[-1] == "end"


def test_session_end_counts():
    with Smtpd() as s:
        s.login()
        s.cmd("BOGUS")
        s.expect(500)
        s.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        s.expect(250)
        s.expect(250)
        s.expect(354)
        s.send(b"hi\r\n.\r\nQUIT\r\n")
        s.expect(250)
        s.expect(221)
    end = [l for l in s.log_lines if "event=session-end" in l]
    assert end == ["postern-smtpd: event=session-end commands=7 errors=1 messages=1 result=quit"]


def test_slow_reader_does_not_hang_session():
    """A client that never reads its replies is cut off at the idle
    deadline instead of blocking smtpd for ever."""
    with Smtpd(args={"-t": "1", "-T": "30"}) as s:
        s.client.setsockopt(__import__("socket").SOL_SOCKET,
                            __import__("socket").SO_RCVBUF, 4096)
        start = time.time()
        try:
            s.send(b"HELP\r\n" * 40000)
        except OSError:
            pass
        assert s.wait(timeout=15) == 0
        assert time.time() - start < 15
        assert any("result=write-error" in l or "timeout" in l for l in s.log_lines), s.log_lines


@pytest.mark.parametrize("tz,offset", [("Asia/Kolkata", "+0530"), ("EST5", "-0500")])
def test_greeting_local_time_zone(tz, offset):
    """The zone file is read by tzset() before the sandbox: formatting the
    date inside it opens nothing (an open would be killed)."""
    if "/" in tz and not os.path.exists("/usr/share/zoneinfo/" + tz):
        pytest.skip("no zoneinfo for " + tz)
    with Smtpd(env={"TZ": tz}) as s:
        line = s.read_line()
        assert line is not None and line.endswith(" " + offset), line
        s.cmd("QUIT")
        s.expect(221)
    assert s.returncode == 0


# ------------------------------------------------------------ descriptors

def test_inherited_extra_descriptor_is_closed():
    """Whatever else the parent leaked (here an inheritable pipe end above
    the layout, which posix_spawn passes on), the sandboxed process holds
    exactly the descriptors 0..5 of lib/fds.h: read(2) is allowed on any
    fd, so a leaked one would be readable by a compromised parser."""
    import fcntl
    r, w = os.pipe()
    leak = fcntl.fcntl(r, fcntl.F_DUPFD, 20)      # inheritable, not 0..5
    try:
        s = Smtpd()
    finally:
        for fd in (r, w, leak):
            os.close(fd)
    with s:
        s.greet()                      # sent after sandbox_enter
        fds = sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % s.pid))
        assert fds == [0, 1, 2, 3, 4, 5], fds
