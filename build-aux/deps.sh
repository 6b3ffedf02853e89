#!/bin/sh
# Installs the Debian packages that building and testing postern need,
# only when one is missing, so `make` stays fast on a prepared machine.
# Runs apt-get update first, as a fresh Debian image has no package lists.
# Recommended packages are installed too, as on the machines the tests were
# written on (swaks needs libnet-ssleay-perl, a recommendation, for --tls).
set -eu
pkgs="build-essential pkg-config libseccomp-dev libsodium-dev libssl-dev
libcdb-dev tinycdb libidn2-dev libcmocka-dev clang libclang-rt-14-dev openssl
python3 python3-pytest python3-aiosmtpd swaks libnet-ssleay-perl strace procps dnsmasq-base"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
