#!/bin/sh
# Prepare the development state folder for "make run": a self-signed
# certificate for localhost (once), dev-state/poshta.conf made from
# conf/dev.conf, and (once) the domain example.test with the user
# demo@example.test, whose random password stays in dev-state/demo-password.
# Usage: dev-state.sh STATE_DIR SRCDIR MODULE_DIR POSHTACTL
set -eu
state=$1 src=$2 modules=$3 poshtactl=$4

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

ctl() { "$poshtactl" -c "$state/poshta.conf" "$@"; }
if [ ! -s "$state/demo-password" ]; then
	ctl domain list | grep -qx example.test || ctl domain add example.test
	password=$(openssl rand -base64 12 | tr -d '/+=')
	# A user kept from an earlier run gets the new password.
	if ctl user list example.test | cut -f1 | grep -qx demo@example.test
	then verb=passwd
	else verb=add
	fi
	printf '%s\n' "$password" | ctl user $verb demo@example.test \
		--password-stdin
	(umask 077 && printf '%s\n' "$password" >"$state/demo-password.new")
	mv "$state/demo-password.new" "$state/demo-password"
fi
password=$(cat "$state/demo-password")

cat <<TXT
Poshta development server, config $state/poshta.conf
  plain + STARTTLS:  nc 127.0.0.1 2007        (type lines; STARTTLS; QUIT)
  TLS required:      nc 127.0.0.1 2009
  implicit TLS:      openssl s_client -quiet -connect 127.0.0.1:2008 -CAfile $state/cert.pem
  SMTP in (mx):      swaks --server 127.0.0.1:2525 --to demo@example.test
  submission:        swaks --server 127.0.0.1:2587 --tls --auth-user demo@example.test --auth-password $password --from demo@example.test --to demo@example.test
  IMAP (STARTTLS):   curl --ssl-reqd --cacert $state/cert.pem --user demo@example.test:$password imap://localhost:2143/INBOX
  IMAP (TLS):        openssl s_client -quiet -connect 127.0.0.1:2993 -CAfile $state/cert.pem
  POP3 (STLS):       curl --ssl-reqd --cacert $state/cert.pem --user demo@example.test:$password pop3://localhost:2110/
  POP3 (TLS):        curl --cacert $state/cert.pem --user demo@example.test:$password pop3s://localhost:2995/1
  demo user:         demo@example.test, password $password (in $state/demo-password)
  manage users:      $poshtactl -c $state/poshta.conf user list
Stop with Ctrl-C.
TXT
