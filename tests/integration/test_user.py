"""postern-user and postern-table as the operator uses them: logins must be
addresses, the password never comes from argv, the users files are 0600
and rebuilt atomically, check tells right from wrong, and postern-table
compiles text tables with FILE:LINE errors.  No master is needed."""
import os
import stat
import subprocess

import pytest

from conftest import prog

CHEAP = ["--ops", "1", "--mem", "8192"]


def user(d, *args, password=None):
    p = subprocess.run([prog("postern-user"), "-c", str(d)] +
                       (["--password-stdin"] if password is not None else []) +
                       CHEAP * (args[0] in ("add", "passwd")) + list(args),
                       input=(password + "\n").encode() if password is not None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_add_list_check_passwd_del(tmp_path):
    assert user(tmp_path, "add", "Alice@Example.ORG", password="pw one")[0] == 0
    assert user(tmp_path, "add", "bob@example.org", password="b")[0] == 0
    rc, out, _ = user(tmp_path, "list")
    assert rc == 0 and out.split() == ["Alice@example.org", "bob@example.org"]
    assert user(tmp_path, "check", "Alice@EXAMPLE.org", password="pw one")[0] == 0
    assert user(tmp_path, "check", "Alice@example.org", password="pw two")[0] == 1
    assert user(tmp_path, "check", "alice@example.org", password="pw one")[0] == 1
    assert user(tmp_path, "check", "nobody@example.org", password="x")[0] == 1
    assert user(tmp_path, "passwd", "Alice@example.org", password="pw two")[0] == 0
    assert user(tmp_path, "check", "Alice@example.org", password="pw two")[0] == 0
    assert user(tmp_path, "check", "Alice@example.org", password="pw one")[0] == 1
    assert user(tmp_path, "del", "bob@example.org")[0] == 0
    assert user(tmp_path, "list")[1].split() == ["Alice@example.org"]
    for name in ("users", "users.cdb"):
        st = os.stat(tmp_path / name)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_uid == os.geteuid()
    text = (tmp_path / "users").read_text()
    assert "pw two" not in text and "$argon2id$" in text
    assert not [n for n in os.listdir(tmp_path) if ".tmp." in n]


def test_refusals(tmp_path):
    assert user(tmp_path, "add", "not-an-address", password="x")[0] == 1
    assert user(tmp_path, "add", "a@b.org", password="")[0] == 1      # empty
    assert user(tmp_path, "add", "a@b.org", password="x" * 257)[0] == 1
    assert user(tmp_path, "add", "a@b.org", password="ok")[0] == 0
    rc, _, err = user(tmp_path, "add", "a@b.org", password="ok")
    assert rc == 1 and "already exists" in err
    assert user(tmp_path, "passwd", "c@b.org", password="ok")[0] == 1
    assert user(tmp_path, "del", "c@b.org")[0] == 1
    # No terminal and no --password-stdin: refused, nothing asked on argv.
    p = subprocess.run([prog("postern-user"), "-c", str(tmp_path), "add", "d@b.org"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10, start_new_session=True)
    assert p.returncode == 1 and b"no terminal" in p.stderr
    # A hand-edited file with an error is reported with FILE:LINE, not rewritten.
    with open(tmp_path / "users", "a") as f:
        f.write("broken-line-without-hash\n")
    rc, _, err = user(tmp_path, "add", "e@b.org", password="x")
    assert rc == 111 and "users:3:" in err


def table(path):
    p = subprocess.run([prog("postern-table"), "build", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    return p.returncode, p.stderr.decode()


def test_postern_table(tmp_path):
    src = tmp_path / "routes"
    src.write_text("# comment\nexample.org mx\n*\trelay:smart.example:587 tls=required\n")
    assert table(src) == (0, "")
    cdb = (tmp_path / "routes.cdb").read_bytes()
    assert b"relay:smart.example:587 tls=required" in cdb
    src.write_text("a 1\na 2\n")
    rc, err = table(src)
    assert rc == 1 and "%s:2: duplicate key" % src in err
    assert (tmp_path / "routes.cdb").read_bytes() == cdb      # old table kept
    secret = tmp_path / "relay-secrets"
    secret.write_text("smart.example user:pass\n")
    os.chmod(secret, 0o600)
    assert table(secret)[0] == 0
    assert stat.S_IMODE(os.stat(str(secret) + ".cdb").st_mode) == 0o600
    assert table(tmp_path / "missing")[0] == 1
