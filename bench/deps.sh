#!/bin/sh
# bench/deps.sh — `make bench-deps`: install what the Postfix side of the
# benchmark needs (bench/README.md), non-interactively, without configuring or
# starting the system's own Postfix.  Never run by `make check`.
#
# debconf is preseeded with "No configuration", so the package writes no
# /etc/postfix/main.cf and sets up no system mail; the bench runs Postfix
# only as a private instance with its own config_directory and
# queue_directory (bench/postfix.py).  This script never edits
# /etc/postfix.  If the package's install started a system postfix anyway
# (a booted systemd, or an init script without a policy-rc.d), it is
# stopped and disabled again, and no system master is left running.
# Note: the package still provides /usr/sbin/sendmail (Debian's
# mail-transport-agent slot); remove it with `apt-get purge postfix`.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench-deps: run as root" >&2; exit 1; }
pkgs="postfix sasl2-bin libsasl2-modules libsasl2-modules-db"

# stop_system_postfix: no postfix master of the system's configuration
# (/etc/postfix, /var/spool/postfix) may keep running after this script.
stop_system_postfix() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now postfix.service >/dev/null 2>&1 || true
		systemctl disable --now saslauthd.service >/dev/null 2>&1 || true
	else
		command -v update-rc.d >/dev/null 2>&1 && {
			update-rc.d postfix disable >/dev/null 2>&1 || true
			update-rc.d saslauthd disable >/dev/null 2>&1 || true
		}
	fi
	pidf=/var/spool/postfix/pid/master.pid
	[ -r "$pidf" ] || return 0
	pid=$(tr -dc 0-9 < "$pidf")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	if [ -r /etc/postfix/main.cf ]; then
		postfix stop >/dev/null 2>&1 || true
	else
		service postfix stop >/dev/null 2>&1 || true
	fi
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		sleep 1
	fi
	if kill -0 "$pid" 2>/dev/null; then
		echo "bench-deps: the system postfix master ($pid) is still running" >&2
		exit 1
	fi
}

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
		|| missing="$missing $p"
done
if [ -z "$missing" ]; then
	stop_system_postfix
	echo "bench-deps: installed already (no system postfix master running)"
	exit 0
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
stop_system_postfix
echo "bench-deps: installed$missing (system postfix unconfigured, disabled, no master running)"
