"""Shared pieces for the pop3.so integration tests (test_pop3_*.py).

start_pop3() creates users with poshtactl and starts poshtad with pop3.so,
beside smtp.so (mail arrives the way it really does: through SMTP) and
imap.so (APPEND puts exact octets in a mailbox, and FETCH shows flags,
UIDs and UIDVALIDITY). Pop3Raw is a raw POP3 client for exact protocol
checks: status lines, multi-line responses read to their final "." with
the byte-stuffing left as it came. shared_pop3() gives a test module one
server whose tests keep apart with users of their own (new_user()).
Standard library only; every wait is bounded.
"""

import ctypes
import ctypes.util
import imaplib
import itertools
import os
import poplib
import random
import re
import signal
import smtplib
import socket
import ssl
import time

from conftest import (SANITIZER_REPORT, TIMEOUT, LineClient, Poshtad,
                      wait_for)
from smtp_helpers import ALIASES, DOMAIN, PASSWORDS, Ctl, backends

ALICE = "alice@example.test"
BOB = "bob@example.test"

POP3_LISTENERS = {
    # Plain text allowed: the tests of commands need no TLS dance.
    "pop3": {"protocol": "pop3", "tls": "starttls",
             "auth_plaintext": "allow"},
    # As a real deployment: STLS before any password.
    "pop3-tls": {"protocol": "pop3", "tls": "starttls"},
    "pop3s": {"protocol": "pop3", "tls": "implicit"},
    # A short idle timeout, for the tests of what a timeout leaves.
    "pop3-idle": {"protocol": "pop3", "tls": "starttls",
                  "auth_plaintext": "allow", "idle_timeout": "1s"},
    "imap": {"protocol": "imap", "tls": "starttls",
             "auth_plaintext": "allow"},
    "smtp": {"protocol": "smtp", "role": "mx"},
}

POP3_OPTS = {"max_bad_commands": "10", "mark_seen": "on"}

# Logins fail on purpose in many tests of one server: no per-address or
# per-user limit may turn a later right password into [LIMIT].
TOP = ("auth_failure_delay 100ms;\nauth_max_failures_per_ip 0;\n"
       "auth_max_failures_per_user 0;")

UIDL = re.compile(r"^[0-9A-F]{16}$")


def crlf(text):
    """text (LF lines) with CRLF line ends, as bytes."""
    if isinstance(text, str):
        text = text.encode()
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def stuff(data):
    """data (CRLF lines, ending in CRLF) byte-stuffed as RFC 1939 3 says."""
    assert data.endswith(b"\r\n")
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in data.split(b"\r\n")[:-1])


def unstuff(raw):
    """The inverse of stuff()."""
    assert raw == b"" or raw.endswith(b"\r\n"), raw[-20:]
    return b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n"
                    for l in raw.split(b"\r\n")[:-1])


def message(subject="test", body="Hello.\n", sender="bob@example.test",
            to=ALICE, extra=""):
    """A small message with CRLF line ends (bytes)."""
    return crlf("From: %s\nTo: %s\nSubject: %s\n%s\n" % (
        sender, to, subject, extra)) + crlf(body)


def _libcrypt():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("crypt")
                          or "libcrypt.so.1")
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        return lib
    except (OSError, AttributeError):
        return None


_LIBCRYPT = _libcrypt()
SALT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./"


def cheap_hash(password):
    """A sha512-crypt hash of password at the fewest rounds (1000), which
    the server accepts: a login then costs a millisecond, not the
    yescrypt default's half second (these tests are about POP3, and log
    in a great many times). None where libcrypt cannot be loaded."""
    if _LIBCRYPT is None:
        return None
    salt = "$6$rounds=1000$%s$" % "".join(random.choice(SALT)
                                          for _ in range(16))
    out = _LIBCRYPT.crypt(password.encode(), salt.encode())
    return out.decode() if out and out.startswith(b"$6$") else None


def add_user(ctl, address, password, cheap=True):
    """poshtactl user add, with a cheap hash of the password if cheap."""
    hashed = cheap_hash(password) if cheap else None
    if hashed:
        ctl.ok("user", "add", address, "--hash-stdin", stdin=hashed + "\n")
    else:
        ctl.add_user(address, password)


class Pop3Raw(LineClient):
    """A raw POP3 client: writes what it is told, reads status lines and
    multi-line responses."""

    def status(self):
        """The next status line; it must be +OK or -ERR (RFC 1939 3)."""
        line = self.readline()
        assert line.startswith("+OK") or line.startswith("-ERR"), (
            "not a POP3 status line: %r" % line)
        # "+OK" alone or followed by a space (RFC 1939 3 and 9's syntax).
        assert line in ("+OK", "-ERR") or line.startswith(("+OK ", "-ERR ")
                                                          ), line
        return line

    def cmd(self, line):
        self.sendline(line)
        return self.status()

    def ok(self, line):
        reply = self.cmd(line)
        assert reply.startswith("+OK"), "%r -> %r" % (line, reply)
        return reply

    def err(self, line, code=None):
        """line must fail; with code ("AUTH", "IN-USE", ...) the reply
        must carry that response code first (RFC 2449 8)."""
        reply = self.cmd(line)
        assert reply.startswith("-ERR"), "%r -> %r" % (line, reply)
        if code:
            assert reply.startswith("-ERR [%s]" % code), (
                "%r -> %r, not [%s]" % (line, reply, code))
        return reply

    def body(self):
        """The rest of a multi-line response, after its status line: the
        octets as sent (still byte-stuffed, CRLF line ends) without the
        final ".\\r\\n". Every line must end in CRLF."""
        # An empty response is the terminator alone.
        while len(self.buf) < 3:
            self._fill()
        if self.buf.startswith(b".\r\n"):
            self.buf = self.buf[3:]
            return b""
        chunks, tail = [], b""
        while True:
            data, self.buf = self.buf, b""
            look = tail + data
            end = look.find(b"\r\n.\r\n")
            if end >= 0:
                chunks.append(look[:end + 2])
                self.buf = look[end + 5:]
                break
            # Keep the last 4 octets: the terminator may straddle reads.
            chunks.append(look[:-4] if len(look) > 4 else b"")
            tail = look[-4:] if len(look) > 4 else look
            self._fill()
        raw = b"".join(chunks)
        assert b"\n" not in raw.replace(b"\r\n", b""), \
            "a bare LF in a multi-line response"
        assert b"\r" not in raw.replace(b"\r\n", b""), \
            "a bare CR in a multi-line response"
        return raw

    def multi(self, line):
        """Send line; (status, raw body) if +OK, else (status, None)."""
        status = self.cmd(line)
        if not status.startswith("+OK"):
            return status, None
        return status, self.body()

    def lines(self, line):
        """A multi-line command that must succeed: its status and the
        lines of its body as text, unstuffed."""
        status, raw = self.multi(line)
        assert status.startswith("+OK"), "%r -> %r" % (line, status)
        return status, [l.decode() for l in unstuff(raw).split(b"\r\n")[:-1]]

    def capa(self):
        """CAPA's lines: {KEYWORD (upper case): [arguments]} and the
        lines themselves."""
        status, lines = self.lines("CAPA")
        out = {}
        for l in lines:
            words = l.split()
            assert words, "an empty CAPA line"
            assert words[0].upper() not in out, "CAPA repeats %r" % l
            out[words[0].upper()] = words[1:]
        return out, lines

    def login(self, user, password):
        self.ok("USER " + user)
        return self.ok("PASS " + password)

    def quit(self):
        """QUIT: +OK, then the server closes."""
        reply = self.ok("QUIT")
        self.expect_eof()
        return reply

    def pending(self, wait=0.3):
        """Whatever arrives within wait seconds (b"" if nothing)."""
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            data = None
        finally:
            self.sock.settimeout(TIMEOUT)
        if data == b"":
            raise EOFError("connection closed; unread: %r" % self.buf)
        self.buf += data or b""
        return self.buf

    def local_port(self):
        return self.sock.getsockname()[1]


def listing(lines):
    """LIST or UIDL body lines as {number: value}."""
    out = {}
    for l in lines:
        # RFC 1939 5 and 7: "n value"; nothing is required of what may
        # follow a scan listing's size.
        m = re.match(r"^(\d+) (\S+)( .*)?$", l)
        assert m, "not a scan listing: %r" % l
        n = int(m.group(1))
        assert n not in out, "%d listed twice" % n
        out[n] = m.group(2)
    return out


class Pop3Env:
    """A started server: its poshtad, the ctl, the users' passwords."""

    def __init__(self, poshtad, ctl, workers=1):
        self.poshtad = poshtad
        self.ctl = ctl
        self.certs = poshtad.certs
        self.nworkers = workers
        self.passwords = dict(PASSWORDS)
        self._users = itertools.count(1)

    def new_user(self, password=None, cheap=True):
        """A user of its own for a test on a shared server: its address
        (the password is kept for login() and the clients). cheap: a
        cheap hash (cheap_hash); else poshtactl hashes it as usual."""
        address = "user%d@%s" % (next(self._users), DOMAIN)
        self.passwords[address] = password or "pass of " + address
        add_user(self.ctl, address, self.passwords[address], cheap)
        return address

    def port(self, name="pop3"):
        return self.poshtad.ports[name]

    def tls_context(self):
        return self.certs.client_context()

    # ---- POP3 ----------------------------------------------------------

    def raw(self, name="pop3", tls=False):
        """A raw client, greeted (RFC 1939 4: "+OK" first)."""
        ctx = self.tls_context() if tls else None
        c = Pop3Raw(self.poshtad.connect(name, ctx=ctx).sock)
        greeting = c.status()
        assert greeting.startswith("+OK"), greeting
        return c

    def login(self, user=ALICE, name="pop3", tls=False):
        """A raw client in the TRANSACTION state (USER and PASS)."""
        c = self.raw(name, tls)
        c.login(user, self.passwords[user])
        return c

    def poplib(self, user=None, name="pop3"):
        p = poplib.POP3("127.0.0.1", self.port(name), timeout=TIMEOUT)
        if user:
            p.user(user)
            p.pass_(self.passwords[user])
        return p

    def poplib_ssl(self, user=None, name="pop3s"):
        p = poplib.POP3_SSL("127.0.0.1", self.port(name), timeout=TIMEOUT,
                            context=self.tls_context())
        if user:
            p.user(user)
            p.pass_(self.passwords[user])
        return p

    def stat(self, user):
        """(count, octets) of a fresh session's maildrop (then QUIT)."""
        c = self.login(user)
        m = re.match(r"^\+OK (\d+) (\d+)$", c.ok("STAT"))
        assert m, "bad STAT"
        c.quit()
        return int(m.group(1)), int(m.group(2))

    # ---- mail in -------------------------------------------------------

    def deliver(self, to, msg=None, sender="x@remote.test"):
        """Mail to a local user through SMTP, as it really arrives."""
        msg = msg if msg is not None else message()
        with smtplib.SMTP("127.0.0.1", self.port("smtp"),
                          timeout=TIMEOUT * 3) as s:
            s.sendmail(sender, [to], msg)

    def imaplib(self, user):
        m = imaplib.IMAP4("127.0.0.1", self.port("imap"), timeout=TIMEOUT)
        m.login(user, self.passwords[user])
        return m

    def append(self, user, *msgs, flags=None):
        """APPEND msgs (exact octets) to the user's INBOX through IMAP;
        their UIDs."""
        m = self.imaplib(user)
        uids = []
        try:
            for msg in msgs:
                typ, data = m.append("INBOX", flags, None, msg)
                assert typ == "OK", data
                found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                uids.append(int(found.group(1)) if found else None)
        finally:
            m.logout()
        return uids

    def inbox(self, user):
        """What IMAP sees in INBOX: (UIDVALIDITY, [(uid, flags, size)])
        in sequence order. EXAMINE: looking changes nothing."""
        m = self.imaplib(user)
        try:
            typ, data = m.select("INBOX", readonly=True)
            assert typ == "OK", data
            n = int(data[0])
            typ, data = m.response("UIDVALIDITY")
            uidvalidity = int(data[0])
            out = []
            if n:
                typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
                assert typ == "OK", data
                for item in data:
                    if not isinstance(item, bytes):
                        continue
                    uid = int(re.search(rb"UID (\d+)", item).group(1))
                    flags = set(re.search(rb"FLAGS \(([^)]*)\)",
                                          item).group(1).decode().split())
                    # \Recent is IMAP's own, not a stored flag.
                    flags.discard("\\Recent")
                    size = int(re.search(rb"RFC822\.SIZE (\d+)",
                                         item).group(1))
                    out.append((uid, flags, size))
            assert len(out) == n, (n, data)
        finally:
            m.logout()
        return uidvalidity, out

    def uidls(self, user):
        """The UIDL each message should have: %08X%08X of its UID and
        the mailbox's UIDVALIDITY (Dovecot's default), in order."""
        uidvalidity, msgs = self.inbox(user)
        return ["%08X%08X" % (uid, uidvalidity) for uid, _, _ in msgs]

    # ---- processes -----------------------------------------------------

    def worker_of(self, client, name="pop3"):
        """The pid of the worker holding client's connection: the socket
        whose peer is client's local port, found through /proc."""
        want_local = ":%04X" % self.port(name)
        want_peer = ":%04X" % client.local_port()
        inode = None
        with open("/proc/net/tcp") as f:
            for row in f.read().splitlines()[1:]:
                fields = row.split()
                if (fields[1].endswith(want_local)
                        and fields[2].endswith(want_peer)):
                    inode = fields[9]
        assert inode, "no server socket for the client's port"
        target = "socket:[%s]" % inode
        for pid in self.poshtad.workers():
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                        return pid
                except OSError:
                    pass
        raise AssertionError("no worker holds %s" % target)

    def kill_worker(self, pid):
        """kill -9 one worker and wait until the master has replaced it."""
        os.kill(pid, signal.SIGKILL)
        wait_for("worker %d replaced" % pid,
                 lambda: (pid not in self.poshtad.workers()
                          and len(self.poshtad.workers()) >= self.nworkers))

    def kill_all(self):
        """kill -9 the master and every worker, and reap the master."""
        self.poshtad.kill_all()

    def restart(self):
        """Start poshtad again on the same config and state."""
        with open(self.poshtad.conf_path) as f:
            text = f.read()
        self.poshtad.start(text, workers=self.nworkers)


def pop3_config(poshtad, listen, pop3_opts, workers, log_level, top):
    opts = dict(POP3_OPTS)
    opts.update(pop3_opts or {})
    body = backends(poshtad) + "pop3 {\n%s}\n" % "".join(
        "\t%s %s;\n" % (k, v) for k, v in opts.items() if v is not None)
    return poshtad.config(load=("storage_sqlite", "auth_sqlite", "smtp",
                                "imap", "pop3"),
                          listen=listen, workers=workers, tls=True,
                          body=body, log_level=log_level, top=top)


def start_pop3(poshtad, listeners=("pop3", "pop3-tls", "pop3s", "imap",
                                   "smtp"),
               extra=None, pop3_opts=None, users=PASSWORDS, workers=1,
               log_level="info", top=TOP):
    """Create the domain and users, then start poshtad with pop3.so,
    imap.so and smtp.so on the listeners named (presets of
    POP3_LISTENERS; extra maps a name to directives that override or add
    to its preset)."""
    ctl = Ctl(poshtad)
    ctl.ok("domain", "add", DOMAIN)
    for address, password in users.items():
        add_user(ctl, address, password)
    for alias, target in ALIASES:
        ctl.ok("alias", "add", alias, target)
    listen = {}
    for name in list(listeners) + [n for n in (extra or {})
                                   if n not in listeners]:
        opts = dict(POP3_LISTENERS.get(name, {"protocol": "pop3"}))
        opts.update((extra or {}).get(name, {}))
        listen[name] = opts
    poshtad.start(pop3_config(poshtad, listen, pop3_opts, workers,
                              log_level, top), workers=workers)
    return Pop3Env(poshtad, ctl, workers)


def shared_pop3(sdk, certs, tmp_path_factory, **kw):
    """For a module-scoped fixture (yield from it): start_pop3(**kw) on a
    poshtad of the module's own, so its tests pay for one start; they
    keep apart with users of their own (Pop3Env.new_user). Stopped and
    checked for sanitizer reports at the end."""
    server = Poshtad(sdk, certs, str(tmp_path_factory.mktemp("pop3")))
    try:
        yield start_pop3(server, **kw)
    finally:
        server.stop()
    report = SANITIZER_REPORT.search(server.log())
    assert not report, "sanitizer report in the log:\n" + server.log()[
        max(0, report.start() - 200):report.start() + 3000]
