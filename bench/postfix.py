"""bench/postfix.py — a private Postfix instance for the comparison in
bench/README.md, used by bench/run.py.  Never part of `make check`.

Everything lives in one directory under the bench's temporary directory:
etc/ (config_directory: main.cf, master.cf, sasl/smtpd.conf, sasldb2),
spool/ (queue_directory, so the queue is on the same disk as postern's),
data/ (data_directory) and maillog.  The system's /etc/postfix and
/var/spool/postfix are never written: every command gets `-c etc/`, and
master.cf is written from scratch (no port 25 listener, chroot off).

Equivalent to the postern instance: one submission listener on a free
127.0.0.1 port with STARTTLS required (smtpd_tls_security_level=encrypt,
auth only after TLS) using postern's self-signed certificate, Cyrus SASL
AUTH PLAIN/LOGIN against a private sasldb (plaintext comparison: unlike
postern's argon2id, there is no password hash to pay), relaying only for
authenticated clients, and every accepted message durably queued by
cleanup (fsync before the 250) and put on hold (`check_client_access
static:HOLD` in smtpd_data_restrictions), as postern leaves messages in
queue/new.  As a second guard nothing can leave: defer_transports = smtp
and relayhost is a dead loopback port.

For the delivery scenario D (relay=PORT): relayhost is the bench's sink
[127.0.0.1]:PORT and defer_transports is empty; accepted mail is still
held, so the queue fills while nothing leaves; release() then takes
every message off hold (`postsuper -H ALL`) and asks for delivery now
(`postqueue -f`), the counterpart of installing postern's routes table.  Needs root and Debian's postfix,
sasl2-bin and libsasl2-modules (`make bench-deps`).
"""
import os
import shutil
import subprocess
import time

SASL_USER, SASL_REALM = "bench", "localhost"


def available():
    """True when Debian's postfix and saslpasswd2 are installed."""
    return all(shutil.which(p) for p in ("postfix", "postconf", "saslpasswd2")) \
        and os.path.isdir("/usr/lib/postfix/sbin")


MASTER_CF = """\
# private bench instance: no port 25, chroot off everywhere
{port} inet n - n - 300 smtpd
  -o syslog_name=postfix-bench/submission
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A private Postfix: own config, queue and data directories, started."""

    def __init__(self, base, port, cert, key, login, password, relay=None):
        self.dir = os.path.join(base, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.port = port
        for d in (self.dir, self.etc, os.path.join(self.etc, "sasl")):
            os.makedirs(d, exist_ok=True)
            os.chown(d, 0, 0)       # postfix refuses a config dir root does not own
            os.chmod(d, 0o755)
        user, _, realm = login.partition("@")
        sasldb = os.path.join(self.etc, "sasldb2")
        subprocess.run(["saslpasswd2", "-f", sasldb, "-c", "-p", "-u", realm, user],
                       input=password.encode(), check=True, timeout=30)
        shutil.chown(sasldb, "root", "postfix")
        os.chmod(sasldb, 0o640)
        with open(os.path.join(self.etc, "sasl", "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "mech_list: PLAIN LOGIN\nsasldb_path: %s\n" % sasldb)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port="127.0.0.1:%d" % port))
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\n")
        dead = _dead_port()
        conf = {
            "queue_directory": os.path.join(self.dir, "spool"),
            "data_directory": os.path.join(self.dir, "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": os.path.join(self.dir, "maillog"),
            "myhostname": "bench.localhost",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "relayhost": "[127.0.0.1]:%d" % (relay if relay else dead),
            "defer_transports": "" if relay else "smtp",
            "local_transport": "error:local delivery disabled in the bench",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_auth_only": "yes",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtpd_tls_loglevel": "0",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": os.path.join(self.etc, "sasl"),
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
            "smtpd_recipient_restrictions": "permit_sasl_authenticated, reject",
            "smtpd_data_restrictions": "check_client_access static:HOLD",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "smtpd_client_message_rate_limit": "0",
            "default_process_limit": "300",
            "smtpd_timeout": "300s",
        }
        args = ["postconf", "-c", self.etc, "-e"] + ["%s=%s" % kv for kv in conf.items()]
        subprocess.run(args, check=True, timeout=30)
        self.spool = conf["queue_directory"]
        os.makedirs(self.spool, mode=0o755, exist_ok=True)
        os.makedirs(conf["data_directory"], mode=0o700, exist_ok=True)
        shutil.chown(conf["data_directory"], "postfix", "postfix")
        self.postfix(["check"])
        self.postfix(["start"])
        try:
            self.wait_port()
        except RuntimeError:
            self.close()    # never leave a master behind when set-up fails
            raise

    def postfix(self, args, timeout=60):
        p = subprocess.run(["postfix", "-c", self.etc] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("postfix %s exited %d:\n%s\n%s" % (
                " ".join(args), p.returncode, p.stdout.decode("utf-8", "replace"),
                self.maillog()))
        return p.stdout.decode("utf-8", "replace")

    def maillog(self):
        try:
            with open(os.path.join(self.dir, "maillog")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def wait_port(self, timeout=20):
        import socket
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(512).startswith(b"220"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("private postfix not answering on %d:\n%s" % (
            self.port, self.maillog()))

    def master_pid(self):
        with open(os.path.join(self.spool, "pid", "master.pid")) as f:
            return int(f.read().strip())

    def queued(self):
        """Messages in the private queue (all queues), from the files."""
        n = 0
        for q in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.spool, q)):
                n += len(files)
        return n

    def held(self):
        """Messages on hold (the files of the hold queue)."""
        n = 0
        for _, _, files in os.walk(os.path.join(self.spool, "hold")):
            n += len(files)
        return n

    def release(self):
        """Every held message off hold, then a delivery run at once."""
        for args in (["postsuper", "-c", self.etc, "-H", "ALL"],
                     ["postqueue", "-c", self.etc, "-f"]):
            p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=120)
            if p.returncode != 0:
                raise RuntimeError("%s exited %d:\n%s" % (
                    " ".join(args), p.returncode, p.stdout.decode("utf-8", "replace")))

    def restart(self):
        """Stop and start again (idle smtpd processes gone)."""
        pid = self.master_pid()
        self.postfix(["stop"])
        end = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < end:
            time.sleep(0.1)
        self.postfix(["start"])
        self.wait_port()

    def close(self):
        try:
            self.postfix(["stop"], timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired, OSError):
            try:
                os.kill(self.master_pid(), 9)
            except (OSError, ValueError):
                pass


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def version():
    """`postconf -d mail_version`'s value."""
    out = subprocess.run(["postconf", "-d", "-h", "mail_version"], stdout=subprocess.PIPE,
                         timeout=30).stdout.decode().strip()
    return "Postfix " + out


def _dead_port():
    """A loopback port nobody listens on (bound then released)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
