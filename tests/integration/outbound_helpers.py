"""Shared pieces for the outbound delivery tests (test_outbound_*.py).

Sender is the poshtad that sends: queue_sqlite, a submission listener
where alice@local.test logs in, and the smtp block's outbound directives
(resolver, outbound_port, retry_first 1s ...) the test gives it.
Receiver is a receiving poshtad (role mx) on another loopback address
(127.0.0.2, 127.0.0.3, ...) at the port the sender delivers to, with its
own domains and users, optionally STARTTLS with a certificate of TestCA.
ScriptedMX is a Python SMTP server for what a poshtad receiver cannot
do (451 then 250, no SMTPUTF8, REQUIRETLS offered, counting sessions);
it records every session. TestCA makes a CA and certificates signed by
it, for outbound_ca_file. Standard library only; every wait is bounded.
"""

import json
import os
import re
import smtplib
import socket
import ssl
import threading

import pytest

from conftest import (SANITIZER_REPORT, TIMEOUT, LineClient, Poshtad,
                      free_port, quote, run, wait_for)
from smtp_helpers import SMTP_OPTS, Ctl, backends, headers

LOCAL = "local.test"
ALICE = "alice@local.test"
ALICE_PASSWORD = "alice outbound pass"
RECEIVER_PASSWORD = "receiver pass"


class TestCA:
    """A CA (ca.crt) and certificates for names, signed by it."""

    __test__ = False  # not a pytest class

    def __init__(self, root):
        self.root = root
        self.cert = os.path.join(root, "ca.crt")
        self.key = os.path.join(root, "ca.key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=Poshta outbound test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", self.key, "-out", self.cert], "openssl req CA")
        self._made = {}

    def leaf(self, *names):
        """(cert, key) paths of a certificate for the names (DNS names, or
        "IP:a.b.c.d"), signed by the CA (made once per set of names)."""
        if names in self._made:
            return self._made[names]
        base = os.path.join(self.root, "leaf%d" % len(self._made))
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n"
                    % ",".join(n if n.startswith("IP:") else "DNS:" + n
                               for n in names))
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=" + names[0].replace("IP:", ""), "-keyout", base + ".key",
             "-out", base + ".csr"], "openssl req " + names[0])
        run(["openssl", "x509", "-req", "-in", base + ".csr", "-CA",
             self.cert, "-CAkey", self.key, "-CAcreateserial", "-days", "2",
             "-extfile", ext, "-out", base + ".crt"],
            "openssl x509 " + names[0])
        self._made[names] = (base + ".crt", base + ".key")
        return self._made[names]

    def server_context(self, *names):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.leaf(*names))
        return ctx


def poll(what, fn, timeout=TIMEOUT * 2):
    """wait_for, at a pace for poshtactl calls (a process each)."""
    return wait_for(what, fn, timeout, interval=0.2)


def subject_of(msg):
    found = headers(msg, "Subject")
    return found[0].split(":", 1)[1].strip() if found else None


class Receiver:
    """A receiving poshtad (role mx, or role submission for a relay) on
    host:port, with bob@ (and the given local parts) at each of its
    domains; cert=(cert, key) offers STARTTLS with it; smtp_opts add to
    or replace smtp_helpers.SMTP_OPTS; tls sets the listener's tls mode
    (default: starttls with a cert, none without)."""

    def __init__(self, sdk, certs, root, host, port, domains,
                 users=("bob",), cert=None, name=None, role="mx",
                 smtp_opts=None, tls=None):
        self.host = host
        self.port = port
        self.name = name or host
        self.poshtad = Poshtad(sdk, certs, root, host=host)
        self.poshtad.ports["mx"] = port
        self.ctl = Ctl(self.poshtad)
        for domain in domains:
            self.ctl.ok("domain", "add", domain)
            for user in users:
                self.ctl.add_user_fast("%s@%s" % (user, domain),
                                       RECEIVER_PASSWORD)
        opts = {"protocol": "smtp", "role": role}
        if cert:
            opts.update(tls=tls or "starttls", certificate=quote(cert[0]),
                        key=quote(cert[1]))
        else:
            opts.update(tls=tls or "none")
        smtp = dict(SMTP_OPTS)
        smtp.update(smtp_opts or {})
        self.text = self.poshtad.config(
            load=("storage_sqlite", "auth_sqlite", "smtp"),
            listen={"mx": opts}, body=backends(self.poshtad)
            + "smtp {\n%s}\n" % "".join("\t%s %s;\n" % kv
                                        for kv in smtp.items()))

    def start(self):
        self.poshtad.start(self.text)
        return self

    def stop(self):
        self.poshtad.stop()

    def messages(self, address):
        return self.ctl.messages(address)

    def find(self, address, subject):
        """The messages in address's INBOX with that Subject."""
        return [m for m in self.messages(address) if subject_of(m) == subject]

    def wait(self, address, subject, timeout=TIMEOUT * 2):
        """The one message with that Subject, waiting for it."""
        found = poll("%r at %s (%s)" % (subject, address, self.name),
                     lambda: self.find(address, subject), timeout)
        assert len(found) == 1, found
        return found[0]


class Sender:
    """The sending poshtad: storage, users, queue_sqlite and smtp.so with
    a submission listener (STARTTLS required, then AUTH) where ALICE
    logs in; smtp is a list of directive lines for the smtp block (the
    outbound ones), or raw text for blocks."""

    def __init__(self, sdk, certs, root, smtp=(), workers=1):
        self.poshtad = Poshtad(sdk, certs, root)
        self.certs = certs
        self.workers = workers
        queue = "queue_sqlite {\n\tpath %s;\n}\n" % quote(
            os.path.join(self.poshtad.state, "queue"))
        self.ctl = Ctl(self.poshtad, load=("storage_sqlite", "auth_sqlite",
                                           "queue_sqlite"),
                       body=backends(self.poshtad) + queue)
        self.ctl.ok("domain", "add", LOCAL)
        self.ctl.add_user_fast(ALICE, ALICE_PASSWORD)
        lines = ["%s %s;" % kv for kv in SMTP_OPTS.items()]
        lines += [s if s.rstrip().endswith(("}", ";")) else s + ";"
                  for s in smtp]
        self.text = self.poshtad.config(
            load=("storage_sqlite", "auth_sqlite", "queue_sqlite", "smtp"),
            listen={"submission": {"protocol": "smtp", "role": "submission",
                                   "tls": "required"}},
            workers=workers, tls=True, top="auth_failure_delay 200ms;",
            body=backends(self.poshtad) + queue + "smtp {\n%s\n}\n"
            % "\n".join("\t" + s for s in lines))

    def start(self):
        self.poshtad.start(self.text, workers=self.workers)
        return self

    def stop(self):
        return self.poshtad.stop()

    # ---- submission ----------------------------------------------------

    def session(self):
        """An smtplib session on submission after STARTTLS and AUTH."""
        s = smtplib.SMTP("127.0.0.1", self.poshtad.ports["submission"],
                         timeout=TIMEOUT, local_hostname="client.test")
        try:
            s.starttls(context=self.certs.client_context())
            s.ehlo()
            s.login(ALICE, ALICE_PASSWORD)
        except BaseException:
            s.close()
            raise
        return s

    def submit(self, rcpts, data, mail_options=(), rcpt_options=()):
        """Send data from ALICE to rcpts (a list) over submission; every
        recipient must be accepted, and the message too."""
        s = self.session()
        try:
            refused = s.sendmail(ALICE, rcpts, data, list(mail_options),
                                 list(rcpt_options))
            assert refused == {}, refused
            s.quit()
        finally:
            s.close()

    # ---- the queue -----------------------------------------------------

    def queue(self):
        """queue list --json: the messages by id."""
        out = self.ctl.ok("queue", "list", "--json")
        return {m["id"]: m for m in map(json.loads, out.splitlines())}

    def recipient(self, address):
        """(message id, recipient dict) of address in the queue, or
        (None, None)."""
        for qid, m in self.queue().items():
            for r in m["rcpts"]:
                if r["address"] == address:
                    return qid, r
        return None, None

    def wait_state(self, address, states, diag=None, timeout=TIMEOUT * 2):
        """address's recipient dict once its state is one of states (and
        its diag matches the regex diag); None stands for "not in the
        queue any more"."""
        rx = re.compile(diag) if diag else None

        def now():
            _, r = self.recipient(address)
            if r is None:
                return {"state": None} if None in states else None
            if r["state"] in states and (
                    rx is None or rx.search(r.get("diag") or "")):
                return r
            return None
        try:
            return poll("%s in state %s" % (address, states), now, timeout)
        except AssertionError:
            raise AssertionError("%s never %s (diag /%s/); now: %r\nlog:\n%s"
                                 % (address, states, diag,
                                    self.recipient(address)[1],
                                    self.poshtad.log()[-2000:])) from None

    def wait_attempts(self, address, n, timeout=TIMEOUT * 2):
        """address's recipient dict once it has been tried n times."""
        def now():
            _, r = self.recipient(address)
            assert r is not None, "%s left the queue" % address
            return r if r["attempts"] >= n else None
        return poll("%d attempts for %s" % (n, address), now, timeout)

    def show(self, qid):
        return self.ctl.ok("queue", "show", qid)

    # ---- alice's mailbox (DSNs) -----------------------------------------

    def dsns(self, about):
        """DSNs in ALICE's INBOX (multipart/report) that name about (a
        recipient address) anywhere."""
        out = []
        for m in self.ctl.messages(ALICE):
            ctype = " ".join(headers(m, "Content-Type")).lower()
            if "multipart/report" in ctype and about.encode() in m:
                out.append(m)
        return out

    def wait_dsn(self, about, timeout=TIMEOUT * 2):
        found = poll("a DSN about %s in %s's INBOX" % (about, ALICE),
                     lambda: self.dsns(about), timeout)
        assert len(found) == 1, found
        return found[0]


def received_tls(msg):
    """The top Received field of msg (added by the receiver) and whether
    it says the message came over TLS."""
    top = headers(msg, "Received")[0]
    return top, bool(re.search(r"ESMTPS|TLSv1\.[23]", top))


def dsn_fields(dsn):
    """The per-recipient fields of a DSN's message/delivery-status part
    (bytes with LF lines), as {lower-case name: value}."""
    text = dsn.decode("utf-8", "replace")
    m = re.search(r"(?is)content-type:\s*message/delivery-status.*?\n\n"
                  r"(.*?)\n--", text)
    assert m, "no message/delivery-status part in\n" + text
    out = {}
    for line in re.sub(r"\n[ \t]+", " ", m.group(1)).split("\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out.setdefault(k.strip().lower(), v.strip())
    return out


def msg(subject, to, body="Hello from the outbound tests.\r\n", extra=""):
    """A small message from ALICE (bytes, CRLF)."""
    return ("From: Alice <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Message-ID: <%s@local.test>\r\nDate: Sat, 28 Nov 2026 00:00:00 "
            "+0000\r\n%s\r\n%s" % (ALICE, to, subject,
                                   re.sub(r"\W", ".", subject), extra,
                                   body)).encode()


# ---- a scripted receiver ----------------------------------------------


class Session:
    """What ScriptedMX saw in one connection."""

    def __init__(self, n):
        self.n = n
        self.commands = []   # every command line, in order
        self.mails = []      # MAIL FROM lines
        self.rcpts = []      # RCPT TO lines
        self.data = []       # message contents (unstuffed, CRLF)
        self.tls = False
        self.end = None      # how it ended when not by QUIT

    def __repr__(self):
        return "Session(%d, %r, tls=%s)" % (self.n, self.commands, self.tls)


class ScriptedMX:
    """An SMTP server on host:port in threads (one per connection) that
    offers extensions (the EHLO keywords after the host line; STARTTLS is
    added when tls, an ssl server context, is given; tls_extensions only
    after STARTTLS, like REQUIRETLS, RFC 8689 4.1) and answers RCPT and
    the end of DATA from the lists rcpt_replies and data_replies, one
    reply a use (then "250 2.1.5 Ok" / "250 2.0.0 Ok"). Every session is
    kept in sessions; an exception in a thread fails check()."""

    def __init__(self, host, port, extensions=("PIPELINING", "8BITMIME",
                                               "ENHANCEDSTATUSCODES"),
                 tls=None, tls_extensions=(), rcpt_replies=(),
                 data_replies=(), name="scripted.test", hold_from=None):
        self.host, self.port, self.name = host, port, name
        # Sessions from number hold_from on wait for release.set() before
        # the greeting: the test looks at the queue between two attempts.
        self.hold_from = hold_from
        self.release = threading.Event()
        self.extensions = list(extensions)
        self.tls_extensions = list(tls_extensions)
        self.tls = tls
        self.rcpt_replies = list(rcpt_replies)
        self.data_replies = list(data_replies)
        self.sessions = []
        self.errors = []
        self.lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                s = Session(len(self.sessions))
                self.sessions.append(s)
            t = threading.Thread(target=self._serve, args=(conn, s),
                                 daemon=True)
            self.threads.append(t)
            t.start()

    def _next(self, replies, default):
        with self.lock:
            return replies.pop(0) if replies else default

    def _serve(self, conn, s):
        c = LineClient(conn)
        try:
            self._talk(c, s)
        except (EOFError, OSError) as e:
            # The client went away (or gave up on TLS): not our failure.
            s.end = repr(e)
        except BaseException as e:  # reported by check()
            self.errors.append("session %d: %r" % (s.n, e))
        finally:
            c.close()

    def _talk(self, c, s):
        if self.hold_from is not None and s.n >= self.hold_from:
            assert self.release.wait(TIMEOUT * 3), "never released"
        c.sendline("220 %s ESMTP scripted" % self.name)
        while True:
            line = c.readline()
            s.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                kws = list(self.extensions)
                if self.tls is not None and not s.tls:
                    kws.append("STARTTLS")
                if s.tls:
                    kws += self.tls_extensions
                lines = [self.name] + kws
                c.send("".join("250-%s\r\n" % k for k in lines[:-1])
                       + "250 %s\r\n" % lines[-1])
            elif verb == "HELO":
                c.sendline("250 %s" % self.name)
            elif verb == "STARTTLS" and self.tls is not None and not s.tls:
                c.sendline("220 2.0.0 Ready to start TLS")
                assert c.buf == b"", "pipelined after STARTTLS: %r" % c.buf
                c.sock = self.tls.wrap_socket(c.sock, server_side=True)
                s.tls = True
            elif verb == "MAIL":
                s.mails.append(line)
                c.sendline("250 2.1.0 Ok")
            elif verb == "RCPT":
                s.rcpts.append(line)
                c.sendline(self._next(self.rcpt_replies, "250 2.1.5 Ok"))
            elif verb == "DATA":
                c.sendline("354 Go ahead")
                lines = []
                while True:
                    while b"\n" not in c.buf:
                        c._fill()
                    got, _, c.buf = c.buf.partition(b"\n")
                    got = got.rstrip(b"\r")
                    if got == b".":
                        break
                    lines.append(got[1:] if got.startswith(b".") else got)
                s.data.append(b"\r\n".join(lines) + b"\r\n")
                c.sendline(self._next(self.data_replies, "250 2.0.0 Ok"))
            elif verb in ("RSET", "NOOP"):
                c.sendline("250 2.0.0 Ok")
            elif verb == "QUIT":
                c.sendline("221 2.0.0 Bye")
                return
            else:
                c.sendline("502 5.5.1 Not implemented")

    def rcpt_sessions(self, address):
        """The sessions in which address was a RCPT."""
        return [s for s in list(self.sessions)
                if any(address.lower() in r.lower() for r in s.rcpts)]

    def check(self):
        assert not self.errors, self.errors

    def close(self):
        self.stopping = True
        self.release.set()
        self.sock.close()
        self.acceptor.join(TIMEOUT)
        for t in self.threads:
            t.join(TIMEOUT)
        self.check()


# A loopback address nobody listens on at any port: a connection there
# is refused at once.
DEAD = "127.0.0.9"


class World:
    """The servers of a test module: a dnsmasq (records declared before
    start), receivers and senders; all on loopback, the receivers at
    self.port, the port the senders deliver to (outbound_port). close()
    stops everything and fails on a sanitizer report in a log."""

    def __init__(self, sdk, certs, root):
        self.sdk, self.certs, self.root = sdk, certs, root
        self.port = free_port()
        self.servers = []
        self.dns = None
        self._n = 0

    def _dir(self, name):
        self._n += 1
        path = os.path.join(self.root, "%02d-%s" % (self._n, name))
        os.makedirs(path)
        return path

    def dnsmasq(self):
        from dns_helpers import Dnsmasq  # tests/integration/dns_helpers.py
        self.dns = Dnsmasq(self._dir("dns"))
        return self.dns

    def receiver(self, host, domains, start=True, port=None, **kw):
        """A Receiver at host:port (default: self.port); kw as
        Receiver's."""
        r = Receiver(self.sdk, self.certs, self._dir("rcv-" + host), host,
                     port or self.port, domains, **kw)
        self.servers.append(r.poshtad)
        return r.start() if start else r

    def sender(self, smtp=(), start=True, dns=True):
        """A Sender whose smtp block has resolver (the dnsmasq, when dns),
        outbound_port, retry_first 1s and retry_max 2s before smtp."""
        lines = []
        if dns:
            lines.append("resolver 127.0.0.1:%d" % self.dns.port)
        lines += ["outbound_port %d" % self.port, "retry_first 1s",
                  "retry_max 2s"] + list(smtp)
        s = Sender(self.sdk, self.certs, self._dir("sender"), lines)
        self.servers.append(s.poshtad)
        return s.start() if start else s

    def close(self):
        reports = []
        for p in self.servers:
            p.stop()
            m = SANITIZER_REPORT.search(p.log())
            if m:
                reports.append(p.log()[max(0, m.start() - 200):
                                       m.start() + 3000])
        if self.dns is not None:
            self.dns.stop()
        assert not reports, "sanitizer report:\n" + "\n".join(reports)


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    """The session's TestCA (import this fixture into a test module)."""
    return TestCA(str(tmp_path_factory.mktemp("ca")))


@pytest.fixture
def scripted():
    """make(host, port, **kw) -> a ScriptedMX, closed (and checked) after
    the test (import this fixture into a test module)."""
    made = []

    def make(host, port, **kw):
        made.append(ScriptedMX(host, port, **kw))
        return made[-1]
    yield make
    for s in made:
        s.close()
