"""The master against a hostile child: a fake postern-smtpd (a script in a
temporary libexec_dir) writes control bytes, forged prefixes, over-long
lines and floods to its log pipe.  Every relayed line must carry the real
session id, be escaped, be at most 4 KiB, and the flood must be cut to
log_lines_per_second with the dropped count logged.  The same trick checks
the exec contract (argv, descriptors 0..5, empty environment, signal mask)
independently of the real postern-smtpd."""
import json
import os
import re
import stat

from conftest import free_port
from master_harness import HOSTNAME, Master, connect, session_of, write_conf

HOSTILE = r'''#!/usr/bin/python3
import os, sys
w = lambda b: os.write(2, b)
w(b"evil\x1b[31mred\x00nul\rcr \\ backslash\n")
w(b"postern: event=forged session=zzzzzzzzzzzzzzzzzzzz\n")
w(b"A" * 10000 + b"\n")
w(b"after-long\n")
w(b"no-newline-at-end")
sys.exit(3)
'''

FLOOD = r'''#!/usr/bin/python3
import os
for i in range(200):
    os.write(2, b"flood line %d\n" % i)
os._exit(0)
'''

FACTS = r'''#!/usr/bin/python3
import json, os, socket, stat, sys
fds = {}
for fd in range(0, 64):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    kind = "sock" if stat.S_ISSOCK(st.st_mode) else os.readlink("/proc/self/fd/%d" % fd)
    fds[fd] = kind
types = {}
for fd in (0, 4, 5):
    s = socket.socket(fileno=os.dup(fd))
    types[fd] = s.type
    if fd != 0:
        s.setblocking(False)
        try:
            types["eof%d" % fd] = s.recv(10) == b""
        except OSError as e:
            types["eof%d" % fd] = "err:%d" % e.errno
    s.detach()
sigblk = [l.split()[1] for l in open("/proc/self/status") if l.startswith("SigBlk")][0]
# /proc/self/environ: what execve got (Python itself adds LC_CTYPE).
env = open("/proc/self/environ", "rb").read().decode("latin-1")
facts = {"argv": sys.argv, "fds": fds, "env": env, "types": types,
         "sigblk": sigblk, "nonblock": bool(os.get_blocking(0) is False)}
os.write(2, b"facts=" + json.dumps(facts).encode().hex().encode() + b"\n")
'''


def fake_master(tmp_path, setup_dir, script, extra=None):
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    path = libexec / "postern-smtpd"
    path.write_text(script)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    port = free_port()
    confdir = tmp_path / "conf"
    write_conf(confdir, setup_dir, port, libexec=str(libexec), extra=extra)
    return Master(confdir), port


def run_one(m, port):
    mark = m.mark()
    with connect(port) as s:
        sid, _ = session_of(m, start=mark)
        m.wait_for(r"event=session-end session=%s " % sid, start=mark)
    return sid, m.lines()[mark:]


def test_hostile_log_lines_are_escaped_and_prefixed(tmp_path, setup_dir):
    m, port = fake_master(tmp_path, setup_dir, HOSTILE)
    with m:
        sid, lines = run_one(m, port)
    prefix = "postern: session=%s " % sid
    child = [l[len(prefix):] for l in lines if l.startswith(prefix)]
    assert child[0] == r"evil\x1b[31mred\x00nul\x0dcr \ backslash", child
    assert child[1] == "postern: event=forged session=zzzzzzzzzzzzzzzzzzzz"
    assert child[2].startswith("AAAA") and child[2].endswith(" truncated=1")
    assert child[3] == "after-long"                 # the long line's rest is dropped
    assert child[4] == "no-newline-at-end"           # flushed at EOF
    assert len(child) == 5, child
    for l in lines:
        assert len(l) + 1 <= 4096
        assert all(0x20 <= ord(c) < 0x7f for c in l), repr(l)
    assert any(re.search(r"event=session-end session=%s status=exit:3" % sid, l)
               for l in lines)


def test_log_flood_is_rate_limited(tmp_path, setup_dir):
    m, port = fake_master(tmp_path, setup_dir, FLOOD, extra=["log_lines_per_second = 5"])
    with m:
        sid, lines = run_one(m, port)
    prefix = "postern: session=%s flood line " % sid
    relayed = [l for l in lines if l.startswith(prefix)]
    dropped = sum(int(x) for x in re.findall(
        r"event=log-dropped session=%s lines=(\d+)" % sid, "\n".join(lines)))
    assert 5 <= len(relayed) <= 15, relayed      # 5 per second, a second or two
    assert len(relayed) + dropped == 200, (len(relayed), dropped)


def test_exec_contract(tmp_path, setup_dir, is_root):
    m, port = fake_master(tmp_path, setup_dir, FACTS)
    env = dict(os.environ, POSTERN_TEST_LEAK="1", LD_BIND_NOW="1")
    m.env = env
    with m:
        sid, lines = run_one(m, port)
    hexdata = [re.search(r"facts=([0-9a-f]+)", l) for l in lines]
    facts = json.loads(bytes.fromhex([x for x in hexdata if x][0].group(1)))
    assert facts["env"] == ""
    fds = {int(k): v for k, v in facts["fds"].items()}
    # The master execs by descriptor (master/progfd.c); a #! script (this
    # fake) can only run from an inherited one, which its interpreter keeps:
    # allow exactly that one, naming the script itself.  A real program
    # gets no such descriptor (close-on-exec).
    script = str(tmp_path / "libexec" / "postern-smtpd")
    extra = [fd for fd in fds if fd > 5]
    assert len(extra) <= 1 and all(fds[fd] == script for fd in extra), fds
    for fd in extra:
        del fds[fd]
    assert sorted(fds) == [0, 1, 2, 3, 4, 5], fds
    assert fds[0] == "sock" and fds[4] == "sock" and fds[5] == "sock"
    assert fds[1] == "/dev/null" and fds[3] == "/dev/null"
    assert fds[2].startswith("pipe:")
    assert facts["types"]["0"] == 1                 # SOCK_STREAM: the client
    assert facts["types"]["4"] == 5 and facts["types"]["5"] == 5   # SOCK_SEQPACKET
    assert facts["types"]["eof4"] is True and facts["types"]["eof5"] is True  # no authd/queued yet
    assert int(facts["sigblk"], 16) == 0
    argv = facts["argv"]
    args = dict(zip(argv[1::2], argv[2::2]))
    assert args["-s"] == sid and args["-h"] == HOSTNAME and args["-m"] == "plain"
    assert set(args) == {"-s", "-m", "-h", "-a", "-p", "-z", "-n", "-t", "-T", "-c", "-P",
                         "-u", "-g", "-r"}
