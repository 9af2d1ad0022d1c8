"""Shared pieces for the smtp.so integration tests (test_smtp_*.py).

start_smtp() sets up users, aliases and quotas with poshtactl (auth_sqlite,
storage_sqlite) and starts poshtad with smtp.so on the listeners asked for;
Ctl.seed() gives a server a users database that poshtactl made once per
session (yescrypt hashing is slow, slower still under sanitizers);
SmtpClient is a raw SMTP client (multi-line replies, enhanced status
codes); messages() reads a user's INBOX back through `poshtactl
export-mbox`. Standard library only; every wait is bounded.
"""

import os
import re
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess

from conftest import BUILDDIR, TIMEOUT, LineClient, Poshtad, quote, wait_for

POSHTACTL = os.path.join(BUILDDIR, "core", "poshtactl")

DOMAIN = "example.test"
PASSWORDS = {
    "alice@example.test": "alice pass 1",
    "bob@example.test": "bob pass 2",
    "carol@example.test": "carol pass 3",
}
ALIASES = [("postmaster@example.test", "alice@example.test")]

LISTENERS = {
    "smtp": {"protocol": "smtp", "role": "mx"},
    "submission": {"protocol": "smtp", "role": "submission",
                   "tls": "required"},
    "smtps": {"protocol": "smtp", "role": "submission", "tls": "implicit"},
}

SMTP_OPTS = {
    "max_message_size": "1m",
    "max_recipients": "5",
    "vrfy": "off",
    "sender_login_match": "on",
}

ENH = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")


class Ctl:
    """poshtactl against the server's databases, through a config of its
    own that loads only the backends (same paths, same modules): by
    default the two of users and mail; load and body name others."""

    def __init__(self, poshtad, load=("storage_sqlite", "auth_sqlite"),
                 body=None):
        self.poshtad = poshtad
        self.conf = os.path.join(poshtad.root, "poshtactl.conf")
        with open(self.conf, "w") as f:
            f.write("state_dir %s;\nmodule_dir %s;\n" % (
                quote(poshtad.state), quote(poshtad.sdk.moduledir)))
            f.write("load %s;\n" % " ".join(load))
            f.write(backends(poshtad) if body is None else body)

    def result(self, *args, stdin=b"", code=0):
        """The CompletedProcess of poshtactl args, which must exit with
        code."""
        r = subprocess.run([POSHTACTL, "-c", self.conf] + list(args),
                           input=stdin, capture_output=True,
                           timeout=TIMEOUT * 6)
        assert r.returncode == code, "poshtactl %s: exit %d, not %d\n%r%r" % (
            " ".join(args), r.returncode, code, r.stdout, r.stderr)
        return r

    def run(self, *args, stdin=b"", code=0):
        return self.result(*args, stdin=stdin, code=code).stdout

    def ok(self, *args, stdin=""):
        return self.run(*args, stdin=stdin.encode()).decode()

    def add_user(self, address, password):
        self.ok("user", "add", address, "--password-stdin",
                stdin=password + "\n")

    def add_user_fast(self, address, password):
        """add_user, with the hash poshtactl made for password earlier in
        this session (--hash-stdin): the database ends up the same."""
        self.ok("user", "add", address, "--hash-stdin",
                stdin=password_hash(self.poshtad.sdk, password) + "\n")

    def seed(self, users=PASSWORDS, aliases=ALIASES, quotas=()):
        """DOMAIN, users, aliases and quotas: what domain add, user add,
        alias add and quota set would make, copied from the database they
        made the first time this session asked for the same ones. Only
        before anything else wrote the server's users database."""
        db = os.path.join(self.poshtad.state, "users.db")
        assert not os.path.exists(db), "seed() after the database exists"
        shutil.copy(seeded_db(self.poshtad.sdk, users, aliases, quotas), db)

    def export(self, address, mailbox="INBOX"):
        return self.run("export-mbox", address, "--mailbox", mailbox)

    def messages(self, address, mailbox="INBOX"):
        return parse_mbox(self.export(address, mailbox))


# Users databases made by poshtactl, by what they hold; each made once per
# session under the sdk's directory.
SEEDS = {}


def seeded_db(sdk, users, aliases=(), quotas=()):
    """The path of a users database holding DOMAIN, users, aliases and
    quotas (address, size), made with poshtactl the first time."""
    key = (sdk.moduledir, tuple(sorted(users.items())), tuple(aliases),
           tuple(quotas))
    if key not in SEEDS:
        root = os.path.join(os.path.dirname(sdk.moduledir), "seeds",
                            str(len(SEEDS)))
        ctl = Ctl(Poshtad(sdk, None, root))
        ctl.ok("domain", "add", DOMAIN)
        for address, password in users.items():
            ctl.add_user(address, password)
        for alias, target in aliases:
            ctl.ok("alias", "add", alias, target)
        for address, size in quotas:
            ctl.ok("quota", "set", address, size)
        SEEDS[key] = os.path.join(ctl.poshtad.state, "users.db")
    return SEEDS[key]


def password_hash(sdk, password):
    """The crypt(3) hash poshtactl made for password (read from the
    auth_sqlite database it went into), once per session."""
    address = "hash@" + DOMAIN
    db = sqlite3.connect(seeded_db(sdk, {address: password}))
    try:
        (found,) = db.execute("SELECT hash FROM users WHERE address = ?",
                              (address,)).fetchone()
    finally:
        db.close()
    return found


def backends(poshtad):
    return ("storage_sqlite {\n\tpath %s;\n}\nauth_sqlite {\n\tpath %s;\n}\n"
            % (quote(os.path.join(poshtad.state, "mail")),
               quote(os.path.join(poshtad.state, "users.db"))))


FROM_LINE = re.compile(rb"^From MAILER-DAEMON ")
QUOTED_FROM = re.compile(rb"^>+From ")


def parse_mbox(data):
    """The messages of an export-mbox (mboxrd, LF lines, an empty line
    after each message) as bytes with LF line ends, unquoted."""
    msgs = []
    cur = None
    prev_empty = True
    for line in data.split(b"\n"):
        if prev_empty and FROM_LINE.match(line):
            if cur is not None:
                msgs.append(cur)
            cur = []
        elif cur is not None:
            if QUOTED_FROM.match(line):
                line = line[1:]
            cur.append(line)
        prev_empty = line == b""
    if cur is not None:
        msgs.append(cur)
    out = []
    for lines in msgs:
        # The empty separator line(s) after the message, and the final
        # split remnant.
        while lines and lines[-1] == b"":
            lines.pop()
        out.append(b"\n".join(lines) + b"\n")
    return out


def header_block(msg):
    """The header of a message (bytes, LF lines) as text, unfolded lines."""
    head = msg.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    return re.sub(r"\n[ \t]+", " ", head).split("\n")


def headers(msg, name):
    name = name.lower() + ":"
    return [h for h in header_block(msg) if h.lower().startswith(name)]


def body(msg):
    return msg.split(b"\n\n", 1)[1] if b"\n\n" in msg else b""


class Env:
    """A started server: its poshtad, the ctl and the users' passwords."""

    def __init__(self, poshtad, ctl, workers=1):
        self.poshtad = poshtad
        self.ctl = ctl
        self.certs = poshtad.certs
        self.nworkers = workers

    def port(self, name="smtp"):
        return self.poshtad.ports[name]

    def messages(self, address):
        return self.ctl.messages(address)

    def count(self, address):
        return len(self.ctl.messages(address))

    def counts(self, addresses=tuple(PASSWORDS)):
        return {a: self.count(a) for a in addresses}

    def client(self, name="smtp", tls=False, greet=True):
        ctx = self.certs.client_context() if tls else None
        c = SmtpClient(self.poshtad.connect(name, ctx=ctx).sock)
        if greet:
            c.reply().check(220)
        return c

    def smtplib(self, name="smtp"):
        s = smtplib.SMTP("127.0.0.1", self.port(name), timeout=TIMEOUT,
                         local_hostname="client.test")
        return s

    def smtplib_ssl(self, name="smtps"):
        return smtplib.SMTP_SSL("127.0.0.1", self.port(name), timeout=TIMEOUT,
                                local_hostname="client.test",
                                context=self.tls_context())

    def tls_context(self):
        # The certificate is for localhost and 127.0.0.1.
        return self.certs.client_context()

    def kill_all(self):
        """kill -9 the master and every worker, and reap the master."""
        self.poshtad.kill_all()

    def restart(self):
        """Start poshtad again on the same config and state."""
        with open(self.poshtad.conf_path) as f:
            text = f.read()
        self.poshtad.start(text)
        wait_for("%d workers" % self.nworkers,
                 lambda: len(self.poshtad.workers()) >= self.nworkers)


def smtp_config(poshtad, listen, smtp_opts, workers, log_level,
                top="auth_failure_delay 200ms;", queue=False):
    opts = dict(SMTP_OPTS)
    if queue:
        # The outbound runner works whenever a queue is loaded: a
        # resolver nobody answers (port 9 refuses) and an hour's retry
        # make its first attempt a deferral that keeps the message as
        # queued, so tests read the queue right after the 250 without a
        # race (a failure would send the DSN and remove the message).
        opts.update({"resolver": "127.0.0.1:9", "retry_first": "1h"})
    opts.update(smtp_opts or {})
    body = backends(poshtad) + "smtp {\n%s}\n" % "".join(
        "\t%s %s;\n" % (k, v) for k, v in opts.items() if v is not None)
    load = ("storage_sqlite", "auth_sqlite", "smtp")
    if queue:
        # queue_sqlite's default path: STATE/queue.
        load = ("storage_sqlite", "auth_sqlite", "queue_sqlite", "smtp")
    return poshtad.config(load=load,
                          listen=listen, workers=workers, tls=True,
                          body=body, log_level=log_level, top=top)


def start_smtp(poshtad, listeners=("smtp",), extra=None, smtp_opts=None,
               users=PASSWORDS, aliases=ALIASES, quotas=(), workers=1,
               log_level="info", queue=False):
    """Create the domain, users, aliases and quotas, then start poshtad
    with smtp.so. listeners names presets of LISTENERS; extra maps a
    listener name to directives that override or add to its preset;
    queue loads queue_sqlite too (submission's remote recipients)."""
    ctl = Ctl(poshtad)
    ctl.seed(users, aliases, quotas)
    listen = {}
    names = list(listeners) + [n for n in (extra or {}) if n not in listeners]
    for name in names:
        opts = dict(LISTENERS.get(name, {"protocol": "smtp"}))
        opts.update((extra or {}).get(name, {}))
        listen[name] = opts
    poshtad.start(smtp_config(poshtad, listen, smtp_opts, workers,
                              log_level, queue=queue), workers=workers)
    return Env(poshtad, ctl, workers)


class Reply:
    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[0][:3])
        self.texts = [line[4:] for line in lines]

    @property
    def enh(self):
        """The enhanced status code of the reply (RFC 2034), or None."""
        first = self.texts[-1].split(" ", 1)[0]
        return first if ENH.match(first) else None

    def check(self, code, enh=None):
        assert self.code == code, "expected %d %s, got %r" % (
            code, enh or "", self.lines)
        if enh is not None:
            assert self.enh == enh, "expected %d %s, got %r" % (
                code, enh, self.lines)
        return self

    def keywords(self):
        """The EHLO keywords (upper case) with their parameters."""
        out = {}
        for text in self.texts[1:]:
            parts = text.split()
            if parts:
                out[parts[0].upper()] = parts[1:]
        return out

    def __repr__(self):
        return "Reply(%r)" % (self.lines,)


class SmtpClient(LineClient):
    """A raw SMTP client: writes what it is told, reads replies."""

    def reply(self):
        lines = []
        while True:
            line = self.readline()
            assert re.match(r"^\d{3}([ -]|$)", line), (
                "not an SMTP reply line: %r (so far %r)" % (line, lines))
            lines.append(line)
            if len(line) == 3 or line[3] == " ":
                break
        assert all(line[:3] == lines[0][:3] for line in lines), lines
        return Reply(lines)

    def cmd(self, line):
        self.sendline(line)
        return self.reply()

    def ehlo(self, name="client.test"):
        return self.cmd("EHLO " + name).check(250)

    def starttls(self, ctx, server_hostname="localhost"):
        LineClient.starttls(self, ctx, server_hostname)

    def quit(self):
        self.sendline("QUIT")
        self.reply().check(221)

    def pending(self, wait=0.5):
        """Whatever arrives within wait seconds (b"" if nothing)."""
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            data = b""
        finally:
            self.sock.settimeout(TIMEOUT)
        self.buf += data
        return self.buf


def enh(msg):
    """The enhanced code at the start of an smtplib reply text."""
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    first = msg.split(None, 1)[0] if msg.split() else ""
    return first if ENH.match(first) else None


def check(reply, code, enhanced=None):
    """Assert an smtplib (code, msg) reply."""
    got_code, msg = reply
    assert got_code == code and (enhanced is None or enh(msg) == enhanced), (
        "expected %d %s, got %r" % (code, enhanced or "", reply))


def message(subject="test", sender="sender@remote.test",
            to="alice@example.test", body_text="Hello.\r\n", extra=""):
    """A small message with CRLF line ends (bytes)."""
    text = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@client."
            "test>\r\n%s\r\n" % (sender, to, subject,
                                 re.sub(r"\W", "", subject) or "x", extra))
    data = text.encode() + (body_text.encode() if isinstance(body_text, str)
                            else body_text)
    return data


def dot_stuff(data):
    """data (CRLF lines) dot-stuffed for DATA, with the final CRLF.CRLF."""
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    lines = data.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in lines) + b".\r\n"


def send_raw(c, sender, rcpts, data, ehlo=True):
    """One transaction over a raw client; the final reply of DATA."""
    if ehlo:
        c.ehlo()
    c.cmd("MAIL FROM:<%s>" % sender).check(250)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r).check(250)
    c.cmd("DATA").check(354)
    c.send(dot_stuff(data))
    return c.reply()
