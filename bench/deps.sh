#!/bin/sh
# bench/deps.sh — `make bench-deps`: install what the Postfix side of the
# benchmark needs (issue 7), non-interactively, without configuring or
# starting the system's own Postfix.  Never run by `make check`.
#
# debconf is preseeded with "No configuration", so the package writes no
# /etc/postfix/main.cf and sets up no system mail; the bench runs Postfix
# only as a private instance with its own config_directory and
# queue_directory.  If the package's install started a postfix service
# anyway (a booted systemd), it is stopped and disabled again.
# Note: the package still provides /usr/sbin/sendmail (Debian's
# mail-transport-agent slot); remove it with `apt-get purge postfix`.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench-deps: run as root" >&2; exit 1; }
pkgs="postfix sasl2-bin libsasl2-modules libsasl2-modules-db"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && { echo "bench-deps: installed already"; exit 0; }
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
if [ -d /run/systemd/system ]; then
	systemctl disable --now postfix.service >/dev/null 2>&1 || true
	systemctl disable --now saslauthd.service >/dev/null 2>&1 || true
fi
echo "bench-deps: installed$missing (system postfix left unconfigured and stopped)"
