#!/bin/sh
# postern-setup — prepare a postern configuration directory (idempotent).
#
#   postern-setup [--libexec DIR] [--port N] [--tls-port N] [--hostname NAME]
#                 [--outbox] DIR
#
# As root: creates the system users and groups postern-smtpd, postern-tls,
# postern-auth, postern-queue and postern-deliver if missing; DIR (0755);
# DIR/empty (root:root 0555, empty: the chroot of per-connection processes);
# DIR/queue (postern-queue 0700, with tmp new cur env state, each 0700);
# DIR/tls (root:postern-tls 0750) with a self-signed EC P-256 certificate
# (cert.pem 0644, key.pem root:postern-tls 0640); DIR/postern.conf if it
# is missing (listen = 127.0.0.1:PORT plain, and with --tls-port also
# listen = 127.0.0.1:TLS_PORT starttls); and, if DIR/users is missing,
# DIR/users + DIR/users.cdb (root 0600) with the demo login demo@localhost
# (password "demo", printed) made with postern-user.  With --outbox (what
# `make run` uses) also a local outbox: DIR/outbox, a maildir (tmp new cur,
# each 0700) owned by the user postern-outbox (created if missing as a
# regular, non-system account with no home and no shell, so its uid is
# >= 1000 and the default maildir_uid_min = 1000 stays in force: no system
# account ever owns a maildir the master hands out), and, if DIR/routes is
# missing, DIR/routes = "* maildir:DIR/outbox" compiled to DIR/routes.cdb
# with postern-table: every message of the local instance lands in the
# outbox instead of going to the Internet.  Without --outbox no routes
# table is written and the queue keeps what it accepts (postern-queued
# schedules nothing without one).  Without root it does the same
# without users and without chown, and says so.  Anything that already
# exists is left alone (its mode and owner are checked where it matters);
# every creation is printed.  Exit 0 on success, 1 on error.
set -eu

ROLE_USERS="postern-smtpd postern-tls postern-auth postern-queue postern-deliver"
OUTBOX_USER=postern-outbox
MAILDIR_UID_MIN=1000
QUEUE_SUBDIRS="tmp new cur env state"
CERT_DAYS=825
DEMO_LOGIN=demo@localhost
DEMO_PASSWORD=demo

libexec=""
port=10587
tls_port=""
hostname_arg=""
outbox=0
dir=""

usage() {
	echo "usage: postern-setup [--libexec DIR] [--port N] [--tls-port N] [--hostname NAME] [--outbox] DIR" >&2
	exit 1
}

die() {
	echo "postern-setup: $*" >&2
	exit 1
}

say() {
	echo "postern-setup: $*"
}

# Parse the command line.
while [ $# -gt 0 ]; do
	case "$1" in
	--libexec) [ $# -ge 2 ] || usage; libexec=$2; shift 2 ;;
	--port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
	--tls-port) [ $# -ge 2 ] || usage; tls_port=$2; shift 2 ;;
	--hostname) [ $# -ge 2 ] || usage; hostname_arg=$2; shift 2 ;;
	--outbox) outbox=1; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) [ -z "$dir" ] || usage; dir=$1; shift ;;
	esac
done
[ $# -eq 0 ] || { [ -z "$dir" ] && [ $# -eq 1 ] && dir=$1; } || usage
[ -n "$dir" ] || usage

case "$port" in
'' | *[!0-9]*) die "--port must be a number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "--port must be 1..65535"
if [ -n "$tls_port" ]; then
	case "$tls_port" in
	*[!0-9]*) die "--tls-port must be a number" ;;
	esac
	[ "$tls_port" -ge 1 ] && [ "$tls_port" -le 65535 ] && [ "$tls_port" != "$port" ] ||
		die "--tls-port must be 1..65535 and differ from --port"
fi

if [ -n "$hostname_arg" ]; then
	host=$hostname_arg
else
	host=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo localhost)
fi
# The host name goes into a config file and a certificate subject: only
# letters, digits, '-' and '.'.
case "$host" in
'' | *[!A-Za-z0-9.-]*) die "host name '$host' is not a valid domain name; use --hostname" ;;
esac
case "$libexec" in
*"
"*) die "--libexec must not contain a newline" ;;
esac

if [ "$(id -u)" = 0 ]; then
	root=1
else
	root=0
	say "not root: no users are created and nothing is chown'ed; postern will run everything as uid $(id -u) without chroot"
fi

# Create the system user and group $1 if missing.
make_user() {
	if ! getent group "$1" >/dev/null; then
		groupadd --system "$1"
		say "created group $1"
	fi
	if ! getent passwd "$1" >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --gid "$1" "$1"
		say "created user $1"
	fi
}

# mkdir $1 with mode $2 and owner $3 (user:group, root only) if missing.
make_dir() {
	if [ -d "$1" ]; then
		return 0
	fi
	[ -e "$1" ] && die "$1 exists and is not a directory"
	mkdir -m "$2" "$1"
	if [ "$root" = 1 ] && [ -n "$3" ]; then
		chown "$3" "$1"
	fi
	say "created $1 ($2${3:+ $3})"
}

# The chroot must be empty and, as root, root-owned and not writable.
check_empty() {
	if [ -n "$(ls -A "$1")" ]; then
		die "$1 must be empty (it is the chroot of every connection)"
	fi
	if [ "$root" = 1 ]; then
		owner=$(stat -c %u "$1")
		mode=$(stat -c %a "$1")
		[ "$owner" = 0 ] || die "$1 must be owned by root"
		case "$mode" in
		*[2367]? | *[2367]) die "$1 must not be writable by group or other (mode $mode)" ;;
		esac
	fi
}

# A self-signed certificate for $host in $1 (cert.pem, key.pem).
make_cert() {
	if [ -f "$1/cert.pem" ] && [ -f "$1/key.pem" ]; then
		return 0
	fi
	command -v openssl >/dev/null || die "openssl is needed for the certificate (apt-get install openssl)"
	old_umask=$(umask)
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days "$CERT_DAYS" -subj "/CN=$host" \
		-addext "subjectAltName=DNS:$host,DNS:localhost" \
		-keyout "$1/key.pem.tmp" -out "$1/cert.pem.tmp" 2>/dev/null \
		|| die "openssl failed to make the certificate"
	umask "$old_umask"
	chmod 0644 "$1/cert.pem.tmp"
	chmod 0640 "$1/key.pem.tmp"
	if [ "$root" = 1 ]; then
		chown root:postern-tls "$1/key.pem.tmp"
		chown root:root "$1/cert.pem.tmp"
	fi
	mv -f "$1/key.pem.tmp" "$1/key.pem"
	mv -f "$1/cert.pem.tmp" "$1/cert.pem"
	say "created $1/cert.pem (self-signed, CN=$host, $CERT_DAYS days) and $1/key.pem (0640)"
}

# DIR/postern.conf from the template, if missing.
make_conf() {
	conf="$1/postern.conf"
	[ -e "$conf" ] && return 0
	if [ -n "$libexec" ]; then
		libexec_line="libexec_dir = $libexec"
	else
		libexec_line="#libexec_dir = (compiled-in default)"
	fi
	if [ -n "$tls_port" ]; then
		tls_line="listen = 127.0.0.1:$tls_port starttls"
	else
		tls_line="#listen = 0.0.0.0:587 starttls"
	fi
	# Without root the outbox belongs to whoever runs this; a uid below
	# the default floor (a developer's system account) lowers it here.
	uid_min_line="#maildir_uid_min = $MAILDIR_UID_MIN"
	if [ "$outbox" = 1 ] && [ "$root" = 0 ] && [ "$(id -u)" -lt "$MAILDIR_UID_MIN" ]; then
		uid_min_line="maildir_uid_min = $(id -u)"
	fi
	umask 022
	cat >"$conf.tmp" <<EOF
# postern.conf — written by postern-setup.  Every key, its default and
# whether SIGHUP reloads it: see INSTALL.md and postern.conf.example.
hostname = $host

# Plain SMTP only on loopback.  starttls (RFC 3207, port 587) and tls
# (implicit TLS, RFC 8314, port 465) put postern-tlsd in front; AUTH is
# accepted there only after the TLS handshake.
listen = 127.0.0.1:$port plain
$tls_line
#listen = 0.0.0.0:465 tls

$libexec_line
#queue_dir = queue
#empty_dir = empty
#tls_cert = tls/cert.pem
#tls_key = tls/key.pem
#tls_cert2 = (none; a second certificate, e.g. RSA beside the ECDSA one)
#tls_key2 = (none)
#tls_min_version = 1.2
#tls_handshake_timeout = 30s
#tls_ticket_rotate = 1h

#message_size_max = 25M
#recipients_max = 100
#connections_max = 200
#connections_per_ip_max = 20
#idle_timeout = 5m
#session_timeout = 1h
#shutdown_timeout = 30s
#log_lines_per_second = 50

#user_smtpd = postern-smtpd
#user_tls = postern-tls
#user_auth = postern-auth
#user_queue = postern-queue
#user_deliver = postern-deliver

# Delivery (INSTALL.md "Delivery"); routes are in DIR/routes (postern-table).
#deliver_workers = 2
#deliver_batch = 100
#helo_name = (hostname)
#outbound_bind = (none)
#dns_resolver = (none: /etc/resolv.conf)
#tls_ca_file = /etc/ssl/certs/ca-certificates.crt
$uid_min_line
#queue_retry_min = 5m
#queue_retry_max = 1h
#queue_lifetime = 5d
#queue_delay_notice = 4h
#deliver_concurrency = 20
#deliver_destination_concurrency = 4
EOF
	chmod 0644 "$conf.tmp"
	mv -f "$conf.tmp" "$conf"
	say "created $conf (listen = 127.0.0.1:$port plain${tls_port:+, 127.0.0.1:$tls_port starttls})"
}

# DIR/users and DIR/users.cdb with one demo login, if there is no users
# table yet, so a fresh setup (make run) can authenticate at once.  The
# password is printed: change it (postern-user passwd) or delete the login
# before real use.
make_users() {
	[ -e "$1/users" ] && return 0
	user_tool="$(dirname "$0")/postern-user"
	[ -x "$user_tool" ] || die "$user_tool not found (it is installed next to postern-setup)"
	printf '%s\n' "$DEMO_PASSWORD" |
		"$user_tool" -c "$1" --password-stdin add "$DEMO_LOGIN" >/dev/null ||
		die "could not create the demo login"
	rm -f "$1/users.lock"
	say "created $1/users and $1/users.cdb (0600) with the demo login $DEMO_LOGIN, password '$DEMO_PASSWORD'; change it with: postern-user -c $1 passwd $DEMO_LOGIN"
}

# The owner of the local outbox: a regular account (uid >= 1000, from
# useradd's UID_MIN), no home, no shell.
make_outbox_user() {
	if ! getent passwd "$OUTBOX_USER" >/dev/null; then
		if getent group "$OUTBOX_USER" >/dev/null; then
			useradd --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --gid "$OUTBOX_USER" "$OUTBOX_USER"
		else
			useradd --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin --user-group "$OUTBOX_USER"
		fi
		say "created user $OUTBOX_USER (uid $(id -u "$OUTBOX_USER"))"
	fi
	[ "$(id -u "$OUTBOX_USER")" -ge "$MAILDIR_UID_MIN" ] ||
		die "user $OUTBOX_USER has uid $(id -u "$OUTBOX_USER") < $MAILDIR_UID_MIN: the master refuses maildirs of system accounts; remove it or set maildir_uid_min"
	[ "$(id -g "$OUTBOX_USER")" != 0 ] || die "user $OUTBOX_USER must not be in group root"
}

# DIR/outbox (a maildir) and, if missing, DIR/routes sending every domain
# there, compiled to DIR/routes.cdb.
make_outbox() {
	if [ "$root" = 1 ]; then
		owner="$OUTBOX_USER:$(id -gn "$OUTBOX_USER")"
	else
		owner=""
	fi
	make_dir "$1/outbox" 0700 "$owner"
	for sub in tmp new cur; do
		make_dir "$1/outbox/$sub" 0700 "$owner"
	done
	[ -e "$1/routes" ] && return 0
	table_tool="$(dirname "$0")/postern-table"
	[ -x "$table_tool" ] || die "$table_tool not found (it is installed next to postern-setup)"
	umask 022
	cat >"$1/routes.tmp" <<EOF
# DIR/routes, written by postern-setup --outbox: every recipient domain
# goes to the local outbox maildir (nothing leaves this machine).  Compile
# after editing: postern-table build $1/routes
# Forms: DOMAIN mx | DOMAIN relay:HOST:PORT [tls=...] [auth=NAME] |
#        DOMAIN maildir:/path ; "*" is any other domain.
* maildir:$1/outbox
EOF
	mv -f "$1/routes.tmp" "$1/routes"
	"$table_tool" build "$1/routes" >/dev/null || die "could not compile $1/routes"
	say "created $1/routes and $1/routes.cdb (* -> maildir:$1/outbox)"
}

if [ "$root" = 1 ]; then
	command -v useradd >/dev/null || die "useradd is needed (package passwd)"
	for u in $ROLE_USERS; do
		make_user "$u"
	done
	[ "$outbox" = 0 ] || make_outbox_user
fi

umask 022
make_dir "$dir" 0755 ""
dir=$(cd "$dir" && pwd)
if [ "$root" = 1 ]; then
	# postern (as root) refuses a DIR others can write: they could choose
	# what it runs.
	case "$(stat -c %a "$dir")" in
	*[2367]? | *[2367]) die "$dir must not be writable by group or other" ;;
	esac
	[ "$(stat -c %u "$dir")" = 0 ] || die "$dir must be owned by root"
fi
make_dir "$dir/empty" 0555 root:root
check_empty "$dir/empty"
make_dir "$dir/queue" 0700 postern-queue:postern-queue
for sub in $QUEUE_SUBDIRS; do
	make_dir "$dir/queue/$sub" 0700 postern-queue:postern-queue
done
make_dir "$dir/tls" 0750 root:postern-tls
make_cert "$dir/tls"
make_conf "$dir"
make_users "$dir"
[ "$outbox" = 0 ] || make_outbox "$dir"
say "ready: $dir (start with: postern -c $dir)"
