"""Shared pieces for the imap.so integration tests (test_imap_*.py).

start_imap() creates users with poshtactl (Ctl.seed) and starts poshtad
with imap.so (and smtp.so, so tests can deliver mail the way it really
arrives: through SMTP, in another session, noticed over the bus);
shared_imap() starts one for a whole module, whose tests keep apart
with users of their own (ImapEnv.new_user). ImapRaw is a raw IMAP
client for exact protocol checks: it sends tagged commands and returns
every response line up to the tagged one, literals included.
Standard library only; every wait is bounded.
"""

import imaplib
import itertools
import re
import smtplib

from conftest import SANITIZER_REPORT, TIMEOUT, Poshtad
from smtp_helpers import (ALIASES, DOMAIN, PASSWORDS, Ctl, backends)

ALICE = "alice@example.test"
BOB = "bob@example.test"
NEW_USER_PASSWORD = "new user pass"

IMAP_LISTENERS = {
    # Plain text allowed: the tests of commands need no TLS dance.
    "imap": {"protocol": "imap", "tls": "starttls",
             "auth_plaintext": "allow"},
    # As a real deployment: STARTTLS before any login.
    "imap-tls": {"protocol": "imap", "tls": "starttls"},
    "imaps": {"protocol": "imap", "tls": "implicit"},
    "smtp": {"protocol": "smtp", "role": "mx"},
}

LITERAL = re.compile(rb"\{(\d+)\+?\}$")


class ImapRaw:
    """A raw IMAP client over a LineClient (plain or TLS)."""

    def __init__(self, lc):
        self.lc = lc
        self.n = 0

    def greeting(self):
        return self.line()

    def line(self):
        """One response line, with any literals it carries inlined as
        bytes (the "{n}" stays, then CRLF and the n octets)."""
        out = b""
        while True:
            while b"\n" not in self.lc.buf:
                self.lc._fill()
            line, _, self.lc.buf = self.lc.buf.partition(b"\n")
            out += line + b"\n"
            m = LITERAL.search(line.rstrip(b"\r"))
            if not m:
                return out.rstrip(b"\r\n")
            size = int(m.group(1))
            while len(self.lc.buf) < size:
                self.lc._fill()
            out += self.lc.buf[:size]
            self.lc.buf = self.lc.buf[size:]

    def send(self, data):
        self.lc.send(data)

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def command(self, text, tag=None):
        """Send "tag text" and read to the tagged reply: (untagged lines,
        tagged line), as bytes."""
        tag = tag or self.tag()
        self.send(tag + " " + text + "\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        t = tag.encode() + b" "
        while True:
            line = self.line()
            if line.startswith(t):
                return lines, line
            lines.append(line)

    def ok(self, text):
        lines, tagged = self.command(text)
        assert b" OK" in tagged[:len(tagged.split(b" ")[0]) + 3], (
            "%r -> %r %r" % (text, lines, tagged))
        return lines

    def close(self):
        self.lc.sock.close()


class ImapEnv:
    def __init__(self, poshtad, ctl):
        self.poshtad = poshtad
        self.ctl = ctl
        self.certs = poshtad.certs
        self.passwords = dict(PASSWORDS)
        self._users = itertools.count(1)

    def new_user(self, quota=None):
        """A user of its own for a test on a shared server: its address
        (the password is kept for login() and imaplib()). Every new user
        has the same password, so its hash is made once a session."""
        address = "user%d@%s" % (next(self._users), DOMAIN)
        self.passwords[address] = NEW_USER_PASSWORD
        self.ctl.add_user_fast(address, NEW_USER_PASSWORD)
        if quota:
            self.ctl.ok("quota", "set", address, quota)
        return address

    def port(self, name="imap"):
        return self.poshtad.ports[name]

    def raw(self, name="imap", tls=False):
        ctx = self.certs.client_context() if tls else None
        r = ImapRaw(self.poshtad.connect(name, ctx=ctx))
        greeting = r.greeting()
        assert greeting.startswith(b"* OK"), greeting
        return r

    def login(self, user=ALICE, name="imap"):
        """A raw client, logged in."""
        r = self.raw(name)
        r.ok("LOGIN %s \"%s\"" % (user, self.passwords[user]))
        return r

    def imaplib(self, user=None, name="imap"):
        m = imaplib.IMAP4("127.0.0.1", self.port(name), timeout=TIMEOUT)
        if user:
            m.login(user, self.passwords[user])
        return m

    def imaplib_ssl(self, user=None, name="imaps"):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port(name),
                              ssl_context=self.certs.client_context(),
                              timeout=TIMEOUT)
        if user:
            m.login(user, self.passwords[user])
        return m

    def deliver(self, to, body=None, subject="test", sender="x@remote.test"):
        """Mail to a local user through SMTP, as it really arrives."""
        msg = body or ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nHello\r\n"
                       % (sender, to, subject))
        with smtplib.SMTP("127.0.0.1", self.port("smtp"),
                          timeout=TIMEOUT) as s:
            s.sendmail(sender, [to], msg.encode()
                       if isinstance(msg, str) else msg)

    def tls_context(self):
        return self.certs.client_context()


def start_imap(poshtad, listeners=("imap", "smtp"), extra=None,
               imap_opts=None, users=PASSWORDS, quotas=(), workers=1,
               log_level="info", top="auth_failure_delay 100ms;"):
    """Create the domain and users, then start poshtad with imap.so and
    smtp.so on the listeners named (presets of IMAP_LISTENERS; extra maps
    a name to directives that override or add to its preset)."""
    ctl = Ctl(poshtad)
    ctl.seed(users, ALIASES, quotas)
    listen = {}
    for name in list(listeners) + [n for n in (extra or {})
                                   if n not in listeners]:
        opts = dict(IMAP_LISTENERS.get(name, {"protocol": "imap"}))
        opts.update((extra or {}).get(name, {}))
        listen[name] = opts
    body = backends(poshtad)
    if imap_opts:
        body += "imap {\n%s}\n" % "".join(
            "\t%s %s;\n" % (k, v) for k, v in imap_opts.items())
    text = poshtad.config(load=("storage_sqlite", "auth_sqlite", "smtp",
                                "imap"),
                          listen=listen, workers=workers, tls=True,
                          body=body, log_level=log_level, top=top)
    poshtad.start(text, workers=workers)
    return ImapEnv(poshtad, ctl)


def shared_imap(sdk, certs, tmp_path_factory, **kw):
    """For a module-scoped fixture (yield from it): start_imap(**kw) on a
    poshtad of the module's own, so its tests pay for one start; they
    keep apart with users of their own (ImapEnv.new_user). Stopped and
    checked for sanitizer reports at the end, as the poshtad fixture
    does."""
    server = Poshtad(sdk, certs, str(tmp_path_factory.mktemp("imap")))
    try:
        yield start_imap(server, **kw)
    finally:
        server.stop()
    report = SANITIZER_REPORT.search(server.log())
    assert not report, "sanitizer report in the log:\n" + server.log()[
        max(0, report.start() - 200):report.start() + 3000]


def append(r, mailbox, subject):
    """APPEND a small message with this Subject through raw session r
    (a non-synchronizing literal, RFC 7888)."""
    text = "Subject: %s\r\n\r\nbody\r\n" % subject
    r.ok("APPEND %s {%d+}\r\n%s" % (mailbox, len(text), text))
