"""postern.conf errors: each one stops `postern -c DIR` with exit 1 and a
"postern.conf:LINE: reason" that names the right line; `-t` accepts a good
configuration.  Root-only checks (users, the chroot) skip without root."""
import os
import re

import pytest

from conftest import free_port
from master_harness import run_check, write_conf


def conf_error(tmp_path, setup_dir, extra=None, listen=None):
    """Write a config with the extra lines, run -t, return (rc, stderr)."""
    write_conf(tmp_path, setup_dir, free_port(), extra=extra, listen=listen)
    return run_check(tmp_path, "-t")


def line_of(tmp_path, needle):
    """1-based number of the first line of postern.conf containing needle."""
    with open(os.path.join(str(tmp_path), "postern.conf")) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    raise AssertionError(needle)


def assert_error_at(rc, err, line, reason_rx):
    assert rc == 1, err
    assert re.search(r"postern\.conf:%d: " % line, err), err
    assert re.search(reason_rx, err), err


def test_good_config_check(tmp_path, setup_dir):
    write_conf(tmp_path, setup_dir, free_port())
    rc, err = run_check(tmp_path, "-t")
    assert rc == 0, err
    assert "event=config-ok" in err


def test_setup_config_checks(setup_dir):
    rc, err = run_check(setup_dir, "-t")
    assert rc == 0, err


def test_unknown_key(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["", "# comment", "no_such_key = 1"])
    assert_error_at(rc, err, line_of(tmp_path, "no_such_key"), r"unknown key")


def test_bad_number(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["recipients_max = many"])
    assert_error_at(rc, err, line_of(tmp_path, "recipients_max"), r"decimal number")


def test_number_out_of_range(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["connections_max = 0"])
    assert_error_at(rc, err, line_of(tmp_path, "connections_max"), r"out of range")


def test_bad_size_suffix(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["message_size_max = 25X"])
    assert_error_at(rc, err, line_of(tmp_path, "message_size_max"), r"size")


def test_bad_duration(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["idle_timeout = 5 minutes"])
    assert_error_at(rc, err, line_of(tmp_path, "idle_timeout"), r"duration")


@pytest.mark.parametrize("line,reason", [
    ("smtpd_command_timeout = 0", r"out of range"),
    ("smtpd_command_timeout = 2d", r"out of range"),
    ("smtpd_command_timeout = soon", r"duration"),
    ("smtpd_command_timeout = -5", r"."),
    ("smtpd_preauth_timeout = 0", r"out of range"),
    ("smtpd_preauth_timeout = 25h", r"out of range"),
    ("smtpd_preauth_timeout = 1 minute", r"duration"),
])
def test_bad_smtpd_timeouts(tmp_path, setup_dir, line, reason):
    rc, err = conf_error(tmp_path, setup_dir, [line])
    assert_error_at(rc, err, line_of(tmp_path, line.split()[0]), reason)


def test_smtpd_timeouts_accepted(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["smtpd_command_timeout = 1d",
                                               "smtpd_preauth_timeout = 1s"])
    assert rc == 0, err


def test_duplicate_key(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["recipients_max = 5", "recipients_max = 6"])
    assert_error_at(rc, err, line_of(tmp_path, "recipients_max = 6"), r"duplicate key")


@pytest.mark.parametrize("addr", ["0.0.0.0", "192.0.2.1", "[::]", "[2001:db8::1]"])
def test_plain_refused_off_loopback(tmp_path, setup_dir, addr):
    rc, err = conf_error(tmp_path, setup_dir,
                         listen="listen = %s:%d plain" % (addr, free_port()))
    assert_error_at(rc, err, line_of(tmp_path, "listen ="), r"non-loopback")


def test_plain_on_ipv6_loopback_ok(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir,
                         listen="listen = [::1]:%d plain" % free_port())
    assert rc == 0, err


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_modes_accepted_anywhere(tmp_path, setup_dir, mode):
    # postern-tlsd sits in front: starttls and tls may listen off loopback.
    rc, err = conf_error(tmp_path, setup_dir,
                         listen="listen = 0.0.0.0:%d %s" % (free_port(), mode))
    assert rc == 0, err


@pytest.mark.parametrize("line,reason", [
    ("tls_min_version = 1.1", r"tls_min_version must be 1.2 or 1.3"),
    ("tls_handshake_timeout = 0", r"."),
    ("tls_handshake_timeout = 11m", r"."),
    ("tls_ticket_rotate = 30s", r"at least 60 seconds"),
    ("tls_factory = maybe", r"postern\.conf:\d+: expected yes or no"),
    ("tls_factory_sessions = 0", r"postern\.conf:\d+: out of range \(1\.\.1000000\)"),
    ("tls_factory_sessions = 1000001", r"postern\.conf:\d+: out of range \(1\.\.1000000\)"),
])
def test_bad_tls_keys(tmp_path, setup_dir, line, reason):
    rc, err = conf_error(tmp_path, setup_dir, [line])
    assert rc == 1, err
    assert re.search(reason, err), err


def test_second_certificate_needs_its_key(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, ["tls_cert2 = /etc/ssl/x.pem"])
    assert rc == 1 and "tls_cert2 and tls_key2 go together" in err, err


@pytest.mark.parametrize("value", ["127.0.0.1:0 plain", "127.0.0.1:70000 plain",
                                   "127.0.0.1:25", "localhost:25 plain",
                                   "127.0.0.1:25 smtp", "::1:25 plain"])
def test_bad_listen_value(tmp_path, setup_dir, value):
    rc, err = conf_error(tmp_path, setup_dir, listen="listen = " + value)
    assert_error_at(rc, err, line_of(tmp_path, "listen ="), r".")


def test_duplicate_listener(tmp_path, setup_dir):
    port = free_port()
    rc, err = conf_error(tmp_path, setup_dir, ["listen = 127.0.0.1:%d plain" % port],
                         listen="listen = 127.0.0.1:%d plain" % port)
    with open(os.path.join(str(tmp_path), "postern.conf")) as f:
        last = len(f.read().splitlines())
    assert_error_at(rc, err, last, r"duplicate listener")


def test_missing_listen(tmp_path, setup_dir):
    rc, err = conf_error(tmp_path, setup_dir, listen="# no listener")
    with open(os.path.join(str(tmp_path), "postern.conf")) as f:
        last = len(f.read().splitlines())
    assert_error_at(rc, err, last, r"no listen line")


def test_missing_file(tmp_path):
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1
    assert "postern.conf: cannot open" in err


def test_relative_paths_resolve_against_dir(tmp_path, setup_dir):
    # empty_dir relative to DIR: a missing one is named with DIR in front.
    write_conf(tmp_path, setup_dir, free_port())
    path = os.path.join(str(tmp_path), "postern.conf")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^empty_dir = .*$", "empty_dir = nowhere", text)
    with open(path, "w") as f:
        f.write(text)
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1
    assert os.path.join(str(tmp_path), "nowhere") in err, err


def test_missing_user(tmp_path, setup_dir, is_root):
    if not is_root:
        pytest.skip("role users are resolved only as root")
    rc, err = conf_error(tmp_path, setup_dir, ["user_smtpd = postern-nosuchuser"])
    assert rc == 1
    assert "postern-nosuchuser" in err and "no such user" in err, err


@pytest.mark.parametrize("problem", ["not-empty", "writable"])
def test_bad_empty_dir(tmp_path, setup_dir, is_root, problem):
    if not is_root:
        pytest.skip("the chroot's owner and mode are checked only as root")
    chroot = tmp_path / "chroot"
    chroot.mkdir()
    if problem == "not-empty":
        (chroot / "file").write_text("x")
        os.chmod(chroot, 0o555)
    else:
        os.chmod(chroot, 0o777)
    write_conf(tmp_path, setup_dir, free_port())
    path = os.path.join(str(tmp_path), "postern.conf")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^empty_dir = .*$", "empty_dir = %s" % chroot, text)
    with open(path, "w") as f:
        f.write(text)
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1
    assert "empty_dir" in err and ("not empty" if problem == "not-empty" else "writable") in err, err


def test_usage(tmp_path):
    rc, err = run_check(tmp_path, "extra-argument")
    assert rc == 1
    assert "usage" in err


@pytest.mark.parametrize("target", ["dir", "file"])
def test_writable_config_refused(tmp_path, setup_dir, is_root, target):
    if not is_root:
        pytest.skip("ownership is checked only as root")
    write_conf(tmp_path, setup_dir, free_port())
    path = tmp_path if target == "dir" else tmp_path / "postern.conf"
    os.chmod(path, os.stat(path).st_mode | 0o002)
    rc, err = run_check(tmp_path, "-t")
    assert rc == 1
    assert "writable by group or other" in err, err
