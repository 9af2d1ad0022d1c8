"""auth_pgsql (issue #8): users, domains and aliases in PostgreSQL.

Conformance: one script of poshtactl commands runs against auth_sqlite
and against auth_pgsql, and every exit status, output and message must
be the same (test_poshtactl.py pins auth_sqlite's own answers). Then
what only PostgreSQL has: the schema (auth_schema, auth_* tables, the
rules it enforces itself), front ends starting at once, a missing
conninfo, a server that is down, connections the server dropped, and
the bound on connections. Then a real poshtad on it: SMTP RCPT (a user,
nobody, an alias, a catch-all, a relay attempt), IMAP and POP3 logins,
the quota, and two front ends sharing one auth database.

Each test gets a fresh database of the session's private cluster
(pg_helpers.py). Users are mostly added with --hash-stdin and a
sha512-crypt hash: yescrypt is slow, slower still under ASan."""

import imaplib
import os
import poplib
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import (BUILDDIR, POSHTAD, SANITIZER_REPORT, TIMEOUT, Poshtad,
                      quote, terminate, wait_for)
from pg_helpers import pg_cluster, pg_db  # noqa: F401 (fixtures)

POSHTACTL = os.path.join(BUILDDIR, "core", "poshtactl")
STAGED = os.path.join(BUILDDIR, "modules", ".staged")

# sha512-crypt of "pw2" with 1000 rounds (as in test_poshtactl.py).
SHA512_PW2 = ("$6$rounds=1000$EZgqM2SijrOFiptN$rK/5kl3tPZ8JgveywENHkhKwzm"
              "dRJSuDNgJS6xgn6.wyRn5oVZlDKHrjf5mnBOxnUE1zBC7jYYIVi1uLuhMWr/")
PW = "pw2"
DOMAIN = "example.test"
ALICE = "alice@example.test"
BOB = "bob@example.test"


def pg_block(conninfo, extra=""):
    return "auth_pgsql {\n\tconninfo %s;\n%s}\n" % (quote(conninfo), extra)


class Ctl:
    """poshtactl on a config of its own in root."""

    def __init__(self, root, load, body, module_dir=STAGED):
        self.root = root
        self.state = os.path.join(root, "state")
        self.conf = os.path.join(root, "poshtactl.conf")
        os.makedirs(root, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("state_dir %s;\nmodule_dir %s;\nload %s;\n%s" % (
                quote(self.state), quote(module_dir), " ".join(load), body))

    def run(self, *args, stdin=""):
        return subprocess.run([POSHTACTL, "-c", self.conf] + list(args),
                              input=stdin, capture_output=True, text=True,
                              timeout=TIMEOUT * 6)

    def ok(self, *args, stdin=""):
        r = self.run(*args, stdin=stdin)
        assert r.returncode == 0 and r.stderr == "", (args, r)
        return r.stdout

    def fail(self, *args, stdin=""):
        r = self.run(*args, stdin=stdin)
        assert r.returncode == 1, (args, r)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("poshtactl: "), r
        return lines[0]

    def add_user(self, address):
        self.ok("user", "add", address, "--hash-stdin",
                stdin=SHA512_PW2 + "\n")


def pg_ctl(root, conninfo, extra=""):
    return Ctl(root, ["auth_pgsql"], pg_block(conninfo, extra))


def sqlite_ctl(root):
    return Ctl(root, ["auth_sqlite"], "")


# ---- conformance with auth_sqlite ------------------------------------

LABEL = "d" * 63
LONG_DOMAIN = ".".join([LABEL] * 3) + "." + "e" * 61     # 253 octets
HOPS = ["hop%d@example.test" % i for i in range(10)] + ["end@example.test"]

# (stdin, args...): run in order against both backends.
SCRIPT = [
    ("", "domain", "add", "example.test"),
    ("", "domain", "add", "Other.EXAMPLE"),
    ("", "domain", "add", "other.example"),
    ("", "domain", "add", "no_underscores.test"),
    ("", "domain", "add", "a..b"),
    ("", "domain", "add", "-a.test"),
    ("", "domain", "add", "x" * 64 + ".test"),
    ("", "domain", "add", LONG_DOMAIN),
    ("", "domain", "add", LONG_DOMAIN + "xyz"),
    ("", "domain", "list"),
    # yescrypt, once: the path poshtactl really takes.
    ("s3cret pass\n", "user", "add", "Alice@Example.Test",
     "--password-stdin"),
    ("s3cret pass\n", "user", "verify", ALICE, "--password-stdin"),
    ("wrong\n", "user", "verify", ALICE, "--password-stdin"),
    (SHA512_PW2 + "\n", "user", "add", BOB, "--hash-stdin"),
    (SHA512_PW2 + "\n", "user", "add", "BOB@example.test", "--hash-stdin"),
    (SHA512_PW2 + "\n", "user", "add", "x@nowhere.test", "--hash-stdin"),
    (SHA512_PW2 + "\n", "user", "add", "carol@other.example",
     "--hash-stdin"),
    (SHA512_PW2 + "\n", "user", "add", "l" * 64 + "@" + LONG_DOMAIN,
     "--hash-stdin"),
] + [
    (SHA512_PW2 + "\n", "user", "add", bad, "--hash-stdin")
    for bad in ("no-at-sign", "two@@example.test", ".dot@example.test",
                "a..b@example.test", "sp ace@example.test",
                "x" * 65 + "@example.test", "ctl\x01@example.test",
                "alice@", "@example.test", "j\u00f6rg@example.test")
] + [
    ("$6$a b\n", "user", "add", "dave@example.test", "--hash-stdin"),
    ("", "user", "list"),
    ("", "user", "list", "Other.Example"),
    ("", "user", "list", "nowhere.test"),
    ("pw2\n", "user", "verify", "BOB@example.test", "--password-stdin"),
    ("pw2\n", "user", "verify", "nobody@example.test", "--password-stdin"),
    ("pw2\n", "user", "verify", "not an address", "--password-stdin"),
    ("", "user", "disable", BOB),
    ("pw2\n", "user", "verify", BOB, "--password-stdin"),
    ("", "user", "list", DOMAIN),
    ("", "user", "enable", BOB),
    ("pw2\n", "user", "verify", BOB, "--password-stdin"),
    ("", "quota", "set", BOB, "1G"),
    ("", "quota", "set", BOB, "1536k"),
    ("", "user", "list", DOMAIN),
    ("", "quota", "set", BOB, "0"),
    ("", "quota", "set", BOB, "lots"),
    ("", "user", "list", DOMAIN),
] + [
    ("pw\n", *args) for args in (
        ("user", "passwd", "ghost@example.test", "--password-stdin"),
        ("user", "del", "ghost@example.test"),
        ("user", "enable", "ghost@example.test"),
        ("user", "disable", "ghost@example.test"),
        ("quota", "set", "ghost@example.test", "1G"))
] + [
    ("", "alias", "add", "Postmaster@example.test", ALICE),
    ("", "alias", "add", "team@example.test", "staff@example.test"),
    ("", "alias", "add", "team@example.test", BOB),
    ("", "alias", "add", "team@example.test", "BOB@example.test"),
    ("", "alias", "add", "staff@example.test", ALICE),
    ("", "alias", "add", "staff@example.test", BOB),
    ("", "alias", "add", "staff@example.test", "friend@remote.test"),
    ("", "alias", "add", "x@nowhere.test", ALICE),
    ("", "alias", "add", "x@example.test", "not an address"),
    ("", "alias", "add", "@nowhere.test", ALICE),
    ("", "alias", "list"),
    ("", "alias", "resolve", "Alice@Example.test"),
    ("", "alias", "resolve", "team@example.test"),
    ("", "alias", "resolve", "postmaster@example.test"),
    ("", "alias", "add", "loop1@example.test", "loop2@example.test"),
    ("", "alias", "add", "loop2@example.test", "loop1@example.test"),
    ("", "alias", "resolve", "loop1@example.test"),
    ("", "alias", "add", BOB, BOB),
    ("", "alias", "add", BOB, ALICE),
    ("", "alias", "resolve", BOB),
    ("", "alias", "resolve", "nobody@example.test"),
    ("", "alias", "resolve", "someone@remote.test"),
    # RFC 6531: a UTF-8 local part is another server's to judge, in a
    # domain not ours; in ours it names nobody.
    ("", "alias", "resolve", "j\u00f6rg@remote.test"),
    ("", "alias", "resolve", "j\u00f6rg@example.test"),
    ("", "alias", "resolve", "j\u00f6rg@bad_domain"),
    ("", "alias", "add", "@example.test", ALICE),
    ("", "alias", "resolve", "nobody@example.test"),
    ("", "alias", "resolve", BOB),
    ("", "user", "disable", ALICE),
    ("", "alias", "resolve", "nobody@example.test"),
    ("", "alias", "resolve", ALICE),
    ("", "user", "enable", ALICE),
] + [
    ("", "alias", "add", a, b) for a, b in zip(HOPS, HOPS[1:])
] + [
    (SHA512_PW2 + "\n", "user", "add", "end@example.test", "--hash-stdin"),
    ("", "alias", "resolve", HOPS[2]),
    ("", "alias", "resolve", HOPS[0]),
    ("", "alias", "del", "team@example.test", BOB),
    ("", "alias", "del", "team@example.test", BOB),
    ("", "alias", "del", "team@example.test"),
    ("", "alias", "del", "team@example.test"),
    ("", "alias", "del", "@example.test"),
    ("", "alias", "list"),
    ("", "alias", "add", "info@other.example", ALICE),
    ("", "user", "del", BOB),
    ("", "user", "del", BOB),
    ("", "domain", "del", "OTHER.example"),
    ("", "domain", "del", "other.example"),
    ("", "user", "list"),
    ("", "alias", "list"),
    ("", "domain", "list"),
    ("", "domain", "del", LONG_DOMAIN),
    ("", "domain", "list"),
]


def transcript(ctl):
    out = []
    for stdin, *args in SCRIPT:
        r = ctl.run(*args, stdin=stdin)
        out.append((tuple(args), r.returncode, r.stdout, r.stderr))
    return out


def test_same_answers_as_auth_sqlite(tmp_path, pg_db):
    ours = transcript(pg_ctl(str(tmp_path / "pg"), pg_db))
    theirs = transcript(sqlite_ctl(str(tmp_path / "sqlite")))
    for mine, ref in zip(ours, theirs):
        assert mine == ref
    # And the script did what it says (both could be wrong together).
    answers = {o[0]: o for o in ours}
    assert answers[("alias", "resolve", "team@example.test")][2] == (
        "bob@example.test\tlocal\nalice@example.test\tlocal\n"
        "friend@remote.test\tremote\n")
    assert "not in a local domain" in answers[
        ("alias", "resolve", "j\u00f6rg@remote.test")][3]
    assert "nested deeper than 8" in answers[
        ("alias", "resolve", HOPS[0])][3]
    assert ours[-1][1:] == (0, "example.test\n", "")
    assert sum(1 for o in ours if o[1] == 0) > 40


# ---- what PostgreSQL adds --------------------------------------------

def test_schema_and_its_rules(tmp_path, pg_db, pg_cluster):
    ctl = pg_ctl(str(tmp_path), pg_db)
    ctl.ok("domain", "add", DOMAIN)
    ctl.add_user(ALICE)
    ctl.ok("alias", "add", "@example.test", ALICE)
    dbname = pg_db.split("dbname=")[1].split()[0]

    def psql(sql):
        return pg_cluster.psql(sql, dbname).strip()
    assert psql("SELECT version FROM auth_schema") == "1"
    assert psql("SELECT string_agg(tablename, ' ' ORDER BY tablename) "
                "FROM pg_tables WHERE schemaname = 'public'") == (
        "auth_aliases auth_domains auth_schema auth_users")
    assert psql("SELECT hash FROM auth_users") == SHA512_PW2
    # The schema itself refuses what name.c would: upper case, no '@',
    # a user outside its domain, a second schema row.
    for sql in ("INSERT INTO auth_domains VALUES ('Example.org')",
                "INSERT INTO auth_domains VALUES ('a@b')",
                "INSERT INTO auth_users (address, domain, hash) VALUES "
                "('Bob@example.test', 'example.test', 'x')",
                "INSERT INTO auth_users (address, domain, hash) VALUES "
                "('bob@other.test', 'example.test', 'x')",
                "INSERT INTO auth_users (address, domain, hash) VALUES "
                "('alice@example.test', 'example.test', 'x')",
                "INSERT INTO auth_users (address, domain, hash, quota) "
                "VALUES ('bob@example.test', 'example.test', 'x', -1)",
                "INSERT INTO auth_aliases VALUES "
                "('@example.test', 'Alice@example.test', 'example.test')",
                "INSERT INTO auth_schema (version) VALUES (1)"):
        with pytest.raises(subprocess.CalledProcessError):
            psql(sql)
    # A newer schema than the module knows is refused, not touched.
    psql("UPDATE auth_schema SET version = 99")
    line = ctl.fail("domain", "list")
    assert "auth_schema version 99 is newer" in line, line


def test_front_ends_starting_at_once(tmp_path, pg_db, pg_cluster):
    """Eight poshtactl on an empty database: the advisory lock lets one
    create the schema; every one succeeds, and it is made once."""
    ctls = [pg_ctl(str(tmp_path / str(i)), pg_db) for i in range(8)]
    procs = [subprocess.Popen([POSHTACTL, "-c", c.conf, "domain", "list"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in ctls]
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT * 6)
        assert p.returncode == 0 and out == "" and err == "", err
    dbname = pg_db.split("dbname=")[1].split()[0]
    assert pg_cluster.psql("SELECT count(*), max(version) FROM auth_schema",
                           dbname).strip() == "1|1"


def test_conninfo_required(tmp_path):
    """Checked with the rest of the config, before anything starts."""
    for body, where in (("auth_pgsql {\n}\n", "poshtactl.conf:4: block "
                         "'auth_pgsql' lacks"),
                        ("", "module 'auth_pgsql': missing")):
        ctl = Ctl(str(tmp_path), ["auth_pgsql"], body)
        line = ctl.fail("domain", "list")
        assert where in line and "required directive 'conninfo'" in line, (
            line)
        r = subprocess.run([POSHTAD, "-t", "-c", ctl.conf], text=True,
                           capture_output=True, timeout=TIMEOUT)
        assert r.returncode != 0 and "'conninfo'" in r.stderr, r


def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_server_unreachable(tmp_path):
    ctl = pg_ctl(str(tmp_path), "host=127.0.0.1 port=%d dbname=x user=x "
                 "connect_timeout=2" % closed_port())
    line = ctl.fail("domain", "list")
    assert "auth_pgsql" in line and "cannot connect to PostgreSQL" in line, (
        line)


def test_bad_password_in_conninfo(tmp_path, pg_db):
    info = pg_db.replace("password=", "password=wrong")
    line = pg_ctl(str(tmp_path), info).fail("domain", "list")
    assert "password authentication failed" in line, line
    # libpq's message names the user, never the password.
    assert "poshta-test-password" not in line, line


# ---- a server on it --------------------------------------------------

LISTEN = {
    "smtp": {"protocol": "smtp", "role": "mx"},
    "imap": {"protocol": "imap", "tls": "starttls",
             "auth_plaintext": "allow"},
    "pop3": {"protocol": "pop3", "tls": "starttls",
             "auth_plaintext": "allow"},
}


def server_body(poshtad, conninfo, connections=4, extra=""):
    return ("storage_sqlite {\n\tpath %s;\n}\n" % quote(
        os.path.join(poshtad.state, "mail"))
        + pg_block(conninfo, "\tconnections %d;\n%s" % (connections,
                                                         extra)))


def start_server(poshtad, conninfo, workers=1, connections=4, extra="",
                 smtp=""):
    """smtp: directives for smtp.so's block (the server's only)."""
    body = server_body(poshtad, conninfo, connections, extra)
    text = poshtad.config(load=("storage_sqlite", "auth_pgsql", "smtp",
                                "imap", "pop3"),
                          listen=LISTEN, workers=workers, tls=True,
                          body=body + ("smtp {\n%s}\n" % smtp if smtp
                                       else ""),
                          top="auth_failure_delay 50ms;")
    poshtad.start(text, workers=workers)
    ctl = Ctl(poshtad.root, ["storage_sqlite", "auth_pgsql"], body,
              module_dir=poshtad.sdk.moduledir)
    return ctl


def seed(ctl):
    ctl.ok("domain", "add", DOMAIN)
    ctl.add_user(ALICE)
    ctl.add_user(BOB)
    ctl.ok("alias", "add", "team@example.test", ALICE)
    ctl.ok("alias", "add", "team@example.test", BOB)


def rcpt(poshtad, address):
    with smtplib.SMTP("127.0.0.1", poshtad.ports["smtp"], timeout=TIMEOUT,
                      local_hostname="client.test") as s:
        s.ehlo()
        s.mail("x@remote.test")
        code, text = s.rcpt(address)
        return code, text.decode()


def send(poshtad, to, subject):
    with smtplib.SMTP("127.0.0.1", poshtad.ports["smtp"], timeout=TIMEOUT,
                      local_hostname="client.test") as s:
        s.sendmail("x@remote.test", [to], "From: x@remote.test\r\nTo: %s\r\n"
                   "Subject: %s\r\n\r\nhello\r\n" % (to, subject))


def imap_login(poshtad, user, password):
    m = imaplib.IMAP4("127.0.0.1", poshtad.ports["imap"], timeout=TIMEOUT)
    try:
        m.login(user, password)
    except imaplib.IMAP4.error:
        m.shutdown()
        return None
    return m


def pop3_login(poshtad, user, password):
    p = poplib.POP3("127.0.0.1", poshtad.ports["pop3"], timeout=TIMEOUT)
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto:
        p.close()
        return None
    return p


def subjects(m, mailbox="INBOX"):
    typ, _ = m.select(mailbox)
    assert typ == "OK"
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return sorted(part[1].decode().strip() for part in data
                  if isinstance(part, tuple))


def test_smtp_imap_pop3_quota(poshtad, pg_db):
    ctl = start_server(poshtad, pg_db)
    seed(ctl)
    assert rcpt(poshtad, "Alice@Example.Test")[0] == 250
    code, text = rcpt(poshtad, "nobody@example.test")
    assert (code, text[:5]) == (550, "5.1.1"), text
    code, text = rcpt(poshtad, "someone@remote.test")
    assert (code, text) == (550, "5.7.1 Relaying denied"), text
    send(poshtad, "team@example.test", "to the team")
    # No catch-all yet; then one, and mail to nobody reaches alice.
    ctl.ok("alias", "add", "@example.test", ALICE)
    assert rcpt(poshtad, "nobody@example.test")[0] == 250
    send(poshtad, "nobody@example.test", "caught")

    m = imap_login(poshtad, ALICE, PW)
    assert m is not None
    assert subjects(m) == ["Subject: caught", "Subject: to the team"]
    m.logout()
    m = imap_login(poshtad, BOB, PW)
    assert subjects(m) == ["Subject: to the team"]
    m.logout()
    assert imap_login(poshtad, ALICE, "wrong") is None
    assert imap_login(poshtad, "nobody@example.test", PW) is None
    p = pop3_login(poshtad, BOB, PW)
    assert p is not None and p.stat()[0] == 1
    p.quit()
    assert pop3_login(poshtad, BOB, "wrong") is None

    # Disabled: no login, no mail; enabled again: both at once.
    ctl.ok("user", "disable", BOB)
    assert imap_login(poshtad, BOB, PW) is None
    assert pop3_login(poshtad, BOB, PW) is None
    assert rcpt(poshtad, BOB)[0] == 550
    ctl.ok("user", "enable", BOB)
    assert pop3_login(poshtad, BOB, PW) is not None

    # The quota the auth backend holds, as IMAP reports it (RFC 9208).
    ctl.ok("quota", "set", ALICE, "10M")
    m = imap_login(poshtad, ALICE, PW)
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    quota = [d for d in data[1] if d]
    assert len(quota) == 1 and quota[0].decode().endswith(
        " 10240)"), data
    m.logout()
    assert ctl.ok("quota", "get", ALICE).endswith(", limit 10M\n")

    # Gone with its mail: the team alias now reaches alice alone.
    ctl.ok("user", "del", BOB, "--purge")
    assert ctl.ok("user", "list") == ALICE + "\tenabled\t10M\n"
    assert rcpt(poshtad, BOB)[0] == 250     # the catch-all
    assert ctl.ok("alias", "resolve", "team@example.test") == (
        ALICE + "\tlocal\n")
    assert imap_login(poshtad, BOB, PW) is None


def backend_pids(pg_cluster, dbname):
    return pg_cluster.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND "
        "application_name = 'poshta auth_pgsql'" % dbname).strip()


def test_connections_dropped_and_bounded(poshtad, pg_db, pg_cluster):
    """The server drops every connection (a restart, an administrator's
    pg_terminate_backend): the next call reconnects. Many logins at once
    never open more than `connections`: the pool's four threads take
    turns on the one connection."""
    ctl = start_server(poshtad, pg_db, connections=1)
    seed(ctl)
    dbname = pg_db.split("dbname=")[1].split()[0]
    assert imap_login(poshtad, ALICE, PW) is not None
    killed = pg_cluster.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = '%s' AND application_name = 'poshta auth_pgsql'"
        % dbname).strip()
    assert int(killed) >= 1
    assert imap_login(poshtad, ALICE, PW) is not None
    assert rcpt(poshtad, BOB)[0] == 250
    poshtad.wait_log(r"auth_pgsql: connection lost, reconnecting")

    results = []
    seen = []

    def login():
        m = imap_login(poshtad, BOB, PW)
        results.append(m is not None)
        seen.append(int(backend_pids(pg_cluster, dbname)))
        if m:
            m.logout()
    threads = [threading.Thread(target=login) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    assert results == [True] * 8
    # One worker, connections 1.
    assert max(seen) == 1, seen


def test_locked_table_is_a_temporary_failure(poshtad, pg_db, pg_cluster):
    """A statement waiting longer than `timeout` (on an administrator's
    lock) fails: RCPT gets 451 4.3.0 in about that time, not when the
    lock goes, and the same connection serves the next one."""
    # RCPT asks the backend each time (no recipient cache).
    ctl = start_server(poshtad, pg_db, connections=1, extra="\ttimeout 1s;\n",
                       smtp="\trecipient_cache_ttl 0;\n")
    seed(ctl)
    assert rcpt(poshtad, ALICE)[0] == 250
    dbname = pg_db.split("dbname=")[1].split()[0]
    locker = subprocess.Popen(
        ["psql", "-X", "-q", pg_db, "-c", "BEGIN; LOCK TABLE auth_users; "
         "SELECT pg_sleep(%d); COMMIT" % (TIMEOUT * 2)],
        env=dict(os.environ, PGAPPNAME="locker"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("the lock", lambda: pg_cluster.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON "
            "c.oid = l.relation WHERE c.relname = 'auth_users' AND "
            "l.mode = 'AccessExclusiveLock' AND l.granted",
            dbname).strip() == "1")
        t0 = time.monotonic()
        code, text = rcpt(poshtad, ALICE)
        took = time.monotonic() - t0
        assert (code, text[:5]) == (451, "4.3.0"), text
        assert 0.9 < took < TIMEOUT * 0.8, took
    finally:
        # The server's end holds the lock, whatever happens to psql.
        pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM "
                        "pg_stat_activity WHERE application_name = 'locker'")
        locker.wait(TIMEOUT)
    assert rcpt(poshtad, ALICE)[0] == 250


def test_two_front_ends_share_users(sdk, certs, tmp_path, pg_db):
    """Two poshtad with state dirs of their own on one auth database: a
    user added, disabled or given a new password through one is seen
    at once on the other."""
    a = Poshtad(sdk, certs, str(tmp_path / "a"))
    b = Poshtad(sdk, certs, str(tmp_path / "b"))
    try:
        ctl_a = start_server(a, pg_db)
        start_server(b, pg_db)
        ctl_a.ok("domain", "add", DOMAIN)
        assert imap_login(b, ALICE, PW) is None
        assert rcpt(b, ALICE)[0] == 550
        ctl_a.add_user(ALICE)
        m = imap_login(b, ALICE, PW)
        assert m is not None
        m.logout()
        assert rcpt(b, ALICE)[0] == 250
        assert pop3_login(a, ALICE, PW) is not None
        ctl_a.ok("user", "passwd", ALICE, "--password-stdin",
                 stdin="new pass\n")
        assert imap_login(b, ALICE, PW) is None
        m = imap_login(b, ALICE, "new pass")
        assert m is not None
        m.logout()
        ctl_a.ok("user", "disable", ALICE)
        assert imap_login(b, ALICE, "new pass") is None
        assert pop3_login(b, ALICE, "new pass") is None
    finally:
        a.stop()
        b.stop()
    for server in (a, b):
        assert not SANITIZER_REPORT.search(server.log()), server.log()


def test_worker_start_fails_clearly(poshtad):
    """A database that is not there: the worker says so, in one line
    naming the module, and the master keeps trying."""
    info = "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2" % (
        closed_port())
    text = poshtad.config(load=("storage_sqlite", "auth_pgsql", "smtp"),
                          listen={"smtp": LISTEN["smtp"]}, workers=1,
                          body=server_body(poshtad, info))
    # The config is good: only a worker can find the server missing.
    r = poshtad.check(text)
    assert r.returncode == 0, r.stderr
    # Not poshtad.start(): it waits for workers that never come up.
    with open(poshtad.log_path, "ab") as logf:
        proc = subprocess.Popen([POSHTAD, "-f", "-c", poshtad.conf_path],
                                stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT)
        try:
            poshtad.wait_log(r"module 'auth_pgsql': worker init failed: "
                             r"cannot connect to PostgreSQL")
        finally:
            terminate(proc)
