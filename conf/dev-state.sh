#!/bin/sh
# Prepare the development state folder for "make run": a self-signed
# certificate for localhost (once) and dev-state/poshta.conf made from
# conf/dev.conf. Usage: dev-state.sh STATE_DIR SRCDIR MODULE_DIR
set -eu
state=$1 src=$2 modules=$3

mkdir -p "$state"
if [ ! -f "$state/cert.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 825 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		-keyout "$state/key.pem" -out "$state/cert.pem" 2>/dev/null
	chmod 600 "$state/key.pem"
fi
sed -e "s|@STATE_DIR@|$state|g" -e "s|@MODULE_DIR@|$modules|g" \
	"$src/conf/dev.conf" >"$state/poshta.conf"

cat <<TXT
Poshta development server, config $state/poshta.conf
  plain + STARTTLS:  nc 127.0.0.1 2007        (type lines; STARTTLS; QUIT)
  TLS required:      nc 127.0.0.1 2009
  implicit TLS:      openssl s_client -quiet -connect 127.0.0.1:2008 -CAfile $state/cert.pem
Stop with Ctrl-C.
TXT
