#!/bin/sh
# Prepare a fresh checkout for ./configure: install the Debian packages the
# build and the tests need (as root; otherwise print the apt-get line), then
# generate the build system.
set -eu
cd "$(dirname "$0")"

PKGS="autoconf automake libtool libltdl-dev pkg-config make gcc clang
libssl-dev libsqlite3-dev libcrypt-dev zlib1g-dev libcmocka-dev
python3 python3-pytest python3-dkim openssl curl swaks netcat-openbsd
libclang-rt-14-dev libc-ares-dev dnsmasq-base libpq-dev postgresql libidn2-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "autogen.sh: missing packages; as root run:" >&2
		echo "  apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	echo "autogen.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing
fi

mkdir -p m4
autoreconf -fi
