"""postern-setup: users, directories with their owners and modes, the
self-signed certificate, the generated postern.conf (accepted by
`postern -t`), idempotence, and the non-root mode."""
import grp
import os
import pathlib
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import BIN, free_port, prog, public_bin

ROLES = ["postern-smtpd", "postern-tls", "postern-auth", "postern-queue",
         "postern-deliver"]


def run_setup(args):
    cmd = [prog("postern-setup")] + args
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)


def mode_owner(path):
    st = os.lstat(path)
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


def test_setup_as_root(tmp_path, is_root):
    if not is_root:
        pytest.skip("needs root")
    d = tmp_path / "etc-postern"
    port = free_port()
    p = run_setup(["--libexec", BIN, "--port", str(port), "--hostname", "mail.example.org", str(d)])
    out = p.stdout.decode()
    assert p.returncode == 0, out
    for role in ROLES:
        pw = pwd.getpwnam(role)
        assert pw.pw_shell == "/usr/sbin/nologin" and pw.pw_dir == "/nonexistent"
        assert grp.getgrgid(pw.pw_gid).gr_name == role
        assert pw.pw_uid != 0
    assert mode_owner(d) == (0o755, "root", "root")
    assert mode_owner(d / "empty") == (0o555, "root", "root")
    assert os.listdir(d / "empty") == []
    assert mode_owner(d / "queue") == (0o700, "postern-queue", "postern-queue")
    for sub in ["tmp", "new", "cur", "env", "state"]:
        assert mode_owner(d / "queue" / sub) == (0o700, "postern-queue", "postern-queue")
    assert mode_owner(d / "tls") == (0o750, "root", "postern-tls")
    assert mode_owner(d / "tls" / "cert.pem")[0] == 0o644
    assert mode_owner(d / "tls" / "key.pem") == (0o640, "root", "postern-tls")
    text = subprocess.run(["openssl", "x509", "-in", str(d / "tls" / "cert.pem"),
                           "-noout", "-text"], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    assert "CN = mail.example.org" in text
    assert "DNS:mail.example.org" in text and "DNS:localhost" in text
    assert "prime256v1" in text or "P-256" in text
    conf = (d / "postern.conf").read_text()
    assert "listen = 127.0.0.1:%d plain" % port in conf
    assert "libexec_dir = %s" % BIN in conf
    assert "hostname = mail.example.org" in conf
    rc = subprocess.run([prog("postern"), "-c", str(d), "-t"],
                        stderr=subprocess.PIPE, timeout=10)
    assert rc.returncode == 0, rc.stderr
    # Idempotent: a second run creates nothing and changes nothing.
    before = (d / "tls" / "key.pem").read_bytes(), conf
    p = run_setup(["--libexec", BIN, "--port", str(free_port()), str(d)])
    assert p.returncode == 0, p.stdout
    assert "created" not in p.stdout.decode()
    assert before == ((d / "tls" / "key.pem").read_bytes(), (d / "postern.conf").read_text())


def test_setup_refuses_non_empty_chroot(tmp_path, is_root):
    d = tmp_path / "x"
    (d / "empty").mkdir(parents=True)
    (d / "empty" / "junk").write_text("x")
    p = run_setup([str(d)])
    assert p.returncode != 0
    assert b"must be empty" in p.stdout


def test_setup_bad_arguments(tmp_path):
    assert run_setup([]).returncode != 0
    assert run_setup(["--port", "x", str(tmp_path / "a")]).returncode != 0
    assert run_setup(["--hostname", "bad name", str(tmp_path / "b")]).returncode != 0


def test_setup_without_root(tmp_path, is_root):
    if not is_root:
        pytest.skip("uses setpriv to become nobody")
    # pytest's tmp_path sits below a 0700 directory of root's: use /tmp.
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-setup-nobody-"))
    try:
        os.chown(base, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        nonroot_setup(base / "conf")
    finally:
        shutil.rmtree(base)


def nonroot_setup(d):
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "--", os.path.join(public_bin(), "postern-setup"), "--libexec",
                        public_bin(), "--hostname",
                        "dev.example", str(d)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "not root" in out
    nobody = pwd.getpwnam("nobody").pw_uid
    for path in [d, d / "empty", d / "queue", d / "tls", d / "tls" / "key.pem"]:
        assert os.lstat(path).st_uid == nobody
    assert stat.S_IMODE(os.lstat(d / "queue").st_mode) == 0o700
