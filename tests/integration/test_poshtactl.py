"""poshtactl with auth_sqlite (and storage_sqlite where a command needs
mail), both from the build tree: every command, what it prints, and one
clear line on stderr with exit status 1 for each error (2 for usage).
auth_sqlite's resolve and verify are checked through `alias resolve` and
`user verify`."""

import os
import sqlite3
import stat
import subprocess

import pytest

from conftest import BUILDDIR, TIMEOUT, quote

POSHTACTL = os.path.join(BUILDDIR, "core", "poshtactl")
STAGED = os.path.join(BUILDDIR, "modules", ".staged")


class Ctl:
    """A config in a temporary folder and poshtactl runs against it."""

    def __init__(self, root, load=None, body=""):
        self.root = root
        self.state = os.path.join(root, "state")
        self.users_db = os.path.join(self.state, "users.db")
        self.conf = os.path.join(root, "poshta.conf")
        if load is None:
            load = ["storage_sqlite", "auth_sqlite"]
        self.write(load, body)

    def write(self, load, body=""):
        with open(self.conf, "w") as f:
            f.write("state_dir %s;\nmodule_dir %s;\n" % (
                quote(self.state), quote(STAGED)))
            if load:
                f.write("load %s;\n" % " ".join(load))
            f.write(body)

    def run(self, *args, stdin="", code=0, timeout=TIMEOUT * 6):
        r = subprocess.run([POSHTACTL, "-c", self.conf] + list(args),
                           input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        assert r.returncode == code, "poshtactl %s: exit %d, not %d\n%s%s" % (
            " ".join(args), r.returncode, code, r.stdout, r.stderr)
        return r

    def ok(self, *args, stdin=""):
        """Run a command that must succeed; its stdout."""
        r = self.run(*args, stdin=stdin)
        assert r.stderr == "", r.stderr
        return r.stdout

    def fail(self, *args, stdin=""):
        """Run a command that must fail; its one line of stderr."""
        r = self.run(*args, stdin=stdin, code=1)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("poshtactl: "), (
            r.stderr)
        return lines[0]

    def add_user(self, address, password="s3cret pass"):
        self.ok("user", "add", address, "--password-stdin",
                stdin=password + "\n")

    def lines(self, *args):
        return self.ok(*args).splitlines()


@pytest.fixture
def ctl(tmp_path):
    c = Ctl(str(tmp_path))
    c.ok("domain", "add", "example.test")
    return c


def test_domains(ctl):
    ctl.ok("domain", "add", "Other.EXAMPLE")
    assert ctl.lines("domain", "list") == ["example.test", "other.example"]
    assert "domain other.example exists" in ctl.fail(
        "domain", "add", "other.example")
    assert "bad domain" in ctl.fail("domain", "add", "no_underscores.test")
    assert "bad domain" in ctl.fail("domain", "add", "a..b")
    assert "bad domain" in ctl.fail("domain", "add", "x" * 64 + ".test")
    ctl.ok("domain", "del", "OTHER.example")
    assert ctl.lines("domain", "list") == ["example.test"]
    assert "no domain other.example" in ctl.fail(
        "domain", "del", "other.example")


def test_user_add_and_list(ctl):
    ctl.add_user("Alice@Example.Test")
    ctl.add_user("bob@example.test")
    assert ctl.lines("user", "list") == [
        "alice@example.test\tenabled\tnone",
        "bob@example.test\tenabled\tnone"]
    ctl.ok("domain", "add", "other.test")
    ctl.add_user("carol@other.test")
    assert ctl.lines("user", "list", "other.test") == [
        "carol@other.test\tenabled\tnone"]
    assert len(ctl.lines("user", "list")) == 3
    assert "no domain nowhere.test" in ctl.fail("user", "list",
                                                 "nowhere.test")


def test_database_holds_hashes(ctl):
    ctl.add_user("alice@example.test", "correct horse")
    assert stat.S_IMODE(os.stat(ctl.users_db).st_mode) == 0o600
    with sqlite3.connect(ctl.users_db) as db:
        (hash_,), = db.execute("SELECT hash FROM users")
        (version,), = db.execute("PRAGMA user_version")
        (mode,), = db.execute("PRAGMA journal_mode")
    assert hash_.startswith("$y$") and "correct horse" not in hash_
    assert version == 1 and mode == "wal"


def test_user_add_errors(ctl):
    ctl.add_user("alice@example.test")
    assert "user alice@example.test exists" in ctl.fail(
        "user", "add", "ALICE@example.test", "--password-stdin",
        stdin="x\n")
    assert "no domain nowhere.test" in ctl.fail(
        "user", "add", "alice@nowhere.test", "--password-stdin",
        stdin="x\n")
    for bad in ("no-at-sign", "two@@example.test", ".dot@example.test",
                "a..b@example.test", "sp ace@example.test",
                "x" * 65 + "@example.test", "ctl\x01@example.test",
                "alice@", "@example.test"):
        assert "bad address" in ctl.fail(
            "user", "add", bad, "--password-stdin", stdin="x\n"), bad
    assert "empty password" in ctl.fail(
        "user", "add", "bob@example.test", "--password-stdin", stdin="\n")
    assert "no password given" in ctl.fail(
        "user", "add", "bob@example.test", "--password-stdin")
    # Without --password-stdin the password comes from a terminal only.
    assert "use --password-stdin" in ctl.fail(
        "user", "add", "bob@example.test", stdin="x\n")
    assert ctl.lines("user", "list") == ["alice@example.test\tenabled\tnone"]


def test_address_bounds(ctl):
    """RFC 5321 4.5.3.1: 64 octets of local part, 255 of domain."""
    label = "d" * 63
    domain = ".".join([label] * 3) + "." + "e" * 61     # 253 octets
    ctl.ok("domain", "add", domain)
    longest = "l" * 64 + "@" + domain
    ctl.add_user(longest)
    assert ctl.lines("user", "list", domain) == [longest + "\tenabled\tnone"]
    assert "bad domain" in ctl.fail("domain", "add", domain + "xyz")


def test_verify_passwd_enable_disable(ctl):
    ctl.add_user("alice@example.test", "first one")
    ok = ctl.ok("user", "verify", "alice@example.test", "--password-stdin",
                stdin="first one\n")
    assert ok == "password accepted for alice@example.test\n"
    assert "authentication failed" in ctl.fail(
        "user", "verify", "alice@example.test", "--password-stdin",
        stdin="wrong\n")
    assert "authentication failed" in ctl.fail(
        "user", "verify", "nobody@example.test", "--password-stdin",
        stdin="first one\n")
    ctl.ok("user", "passwd", "Alice@example.test", "--password-stdin",
           stdin="second one\r\n")
    ctl.ok("user", "verify", "alice@example.test", "--password-stdin",
           stdin="second one\n")
    ctl.ok("user", "disable", "alice@example.test")
    assert ctl.lines("user", "list") == ["alice@example.test\tdisabled\tnone"]
    assert "authentication failed" in ctl.fail(
        "user", "verify", "alice@example.test", "--password-stdin",
        stdin="second one\n")
    ctl.ok("user", "enable", "alice@example.test")
    ctl.ok("user", "verify", "alice@example.test", "--password-stdin",
           stdin="second one\n")


# sha512-crypt of "pw2" with 1000 rounds, made by another system.
SHA512_PW2 = ("$6$rounds=1000$EZgqM2SijrOFiptN$rK/5kl3tPZ8JgveywENHkhKwzm"
              "dRJSuDNgJS6xgn6.wyRn5oVZlDKHrjf5mnBOxnUE1zBC7jYYIVi1uLuhMWr/")


def test_hash_stdin_keeps_a_foreign_hash(ctl):
    ctl.ok("user", "add", "carol@example.test", "--hash-stdin",
           stdin=SHA512_PW2 + "\n")
    ctl.ok("user", "verify", "carol@example.test", "--password-stdin",
           stdin="pw2\n")
    assert "not a yescrypt" in ctl.fail(
        "user", "passwd", "carol@example.test", "--hash-stdin",
        stdin="pw2\n")
    assert "character" in ctl.fail(
        "user", "passwd", "carol@example.test", "--hash-stdin",
        stdin="$6$a b\n")
    # A refused hash changed nothing.
    ctl.ok("user", "verify", "carol@example.test", "--password-stdin",
           stdin="pw2\n")
    assert "unknown option" in ctl.run(
        "user", "verify", "carol@example.test", "--hash-stdin",
        code=2).stderr


def test_unknown_user(ctl):
    for args in (("user", "passwd", "ghost@example.test",
                  "--password-stdin"),
                 ("user", "del", "ghost@example.test"),
                 ("user", "enable", "ghost@example.test"),
                 ("user", "disable", "ghost@example.test"),
                 ("quota", "set", "ghost@example.test", "1G")):
        assert "no user ghost@example.test" in ctl.fail(*args,
                                                        stdin="pw\n"), args


def test_user_del(ctl):
    ctl.add_user("alice@example.test")
    ctl.add_user("bob@example.test")
    ctl.ok("user", "del", "alice@example.test")
    assert ctl.lines("user", "list") == ["bob@example.test\tenabled\tnone"]


def test_domain_del_cascades(ctl):
    ctl.ok("domain", "add", "other.test")
    ctl.add_user("alice@example.test")
    ctl.add_user("carol@other.test")
    ctl.ok("alias", "add", "info@example.test", "alice@example.test")
    ctl.ok("alias", "add", "info@other.test", "alice@example.test")
    ctl.ok("domain", "del", "example.test")
    assert ctl.lines("user", "list") == ["carol@other.test\tenabled\tnone"]
    assert ctl.lines("alias", "list") == [
        "info@other.test\talice@example.test"]


def test_aliases(ctl):
    ctl.add_user("alice@example.test")
    ctl.add_user("bob@example.test")
    ctl.ok("alias", "add", "Postmaster@example.test", "alice@example.test")
    ctl.ok("alias", "add", "team@example.test", "alice@example.test")
    ctl.ok("alias", "add", "team@example.test", "bob@example.test")
    ctl.ok("alias", "add", "team@example.test", "friend@remote.test")
    assert ctl.lines("alias", "list") == [
        "postmaster@example.test\talice@example.test",
        "team@example.test\talice@example.test",
        "team@example.test\tbob@example.test",
        "team@example.test\tfriend@remote.test"]
    assert "exists" in ctl.fail("alias", "add", "team@example.test",
                                "BOB@example.test")
    assert "no domain nowhere.test" in ctl.fail(
        "alias", "add", "x@nowhere.test", "alice@example.test")
    assert "bad address" in ctl.fail("alias", "add", "x@example.test",
                                     "not an address")
    ctl.ok("alias", "del", "team@example.test", "bob@example.test")
    assert len(ctl.lines("alias", "list")) == 3
    ctl.ok("alias", "del", "team@example.test")
    assert ctl.lines("alias", "list") == [
        "postmaster@example.test\talice@example.test"]
    assert "no alias team@example.test" in ctl.fail(
        "alias", "del", "team@example.test")


def test_resolve(ctl):
    ctl.add_user("alice@example.test")
    ctl.add_user("bob@example.test")
    resolve = lambda a: ctl.lines("alias", "resolve", a)  # noqa: E731
    assert resolve("Alice@Example.test") == ["alice@example.test\tlocal"]
    # Aliases of aliases, a remote target and a duplicate reached twice.
    ctl.ok("alias", "add", "team@example.test", "staff@example.test")
    ctl.ok("alias", "add", "team@example.test", "bob@example.test")
    ctl.ok("alias", "add", "staff@example.test", "alice@example.test")
    ctl.ok("alias", "add", "staff@example.test", "bob@example.test")
    ctl.ok("alias", "add", "staff@example.test", "friend@remote.test")
    assert resolve("team@example.test") == [
        "bob@example.test\tlocal", "alice@example.test\tlocal",
        "friend@remote.test\tremote"]
    # A loop ends where it started; an alias to itself keeps the mailbox.
    ctl.ok("alias", "add", "loop1@example.test", "loop2@example.test")
    ctl.ok("alias", "add", "loop2@example.test", "loop1@example.test")
    assert "no mailbox for loop1@example.test" in ctl.fail(
        "alias", "resolve", "loop1@example.test")
    ctl.ok("alias", "add", "bob@example.test", "bob@example.test")
    ctl.ok("alias", "add", "bob@example.test", "alice@example.test")
    assert resolve("bob@example.test") == ["alice@example.test\tlocal",
                                           "bob@example.test\tlocal"]
    # Unknown here, not ours, and a catch-all after the exact names.
    assert "no mailbox for nobody@example.test" in ctl.fail(
        "alias", "resolve", "nobody@example.test")
    assert "not in a local domain" in ctl.fail(
        "alias", "resolve", "someone@remote.test")
    ctl.ok("alias", "add", "@example.test", "alice@example.test")
    assert resolve("nobody@example.test") == ["alice@example.test\tlocal"]
    assert resolve("bob@example.test") == ["alice@example.test\tlocal",
                                           "bob@example.test\tlocal"]
    # A disabled user receives nothing, and the catch-all does not apply.
    ctl.ok("user", "disable", "alice@example.test")
    assert "no mailbox for nobody@example.test" in ctl.fail(
        "alias", "resolve", "nobody@example.test")
    assert "no mailbox for alice@example.test" in ctl.fail(
        "alias", "resolve", "alice@example.test")


def test_resolve_depth_bound(ctl):
    ctl.add_user("end@example.test")
    chain = ["hop%d@example.test" % i for i in range(10)] + [
        "end@example.test"]
    for a, b in zip(chain, chain[1:]):
        ctl.ok("alias", "add", a, b)
    assert ctl.lines("alias", "resolve", chain[2]) == [
        "end@example.test\tlocal"]
    assert "nested deeper than 8" in ctl.fail("alias", "resolve", chain[0])


def test_quota_set(ctl):
    ctl.add_user("alice@example.test")
    for given, shown in (("1G", "1G"), ("500M", "500M"), ("1536k", "1536K"),
                         ("1000", "1000"), ("0", "none")):
        ctl.ok("quota", "set", "alice@example.test", given)
        assert ctl.lines("user", "list") == [
            "alice@example.test\tenabled\t" + shown]
    for bad in ("lots", "1x", "1.5G", "1G5", ""):
        assert "bad size" in ctl.fail("quota", "set", "alice@example.test",
                                      bad), bad


def test_quota_get_and_mailbox_list(ctl):
    ctl.add_user("alice@example.test")
    assert ctl.ok("quota", "get", "alice@example.test") == (
        "alice@example.test: 0 bytes in 0 messages, no limit\n")
    ctl.ok("quota", "set", "alice@example.test", "1G")
    assert ctl.ok("quota", "get", "alice@example.test") == (
        "alice@example.test: 0 bytes in 0 messages, limit 1G\n")
    mbox = os.path.join(ctl.root, "in.mbox")
    with open(mbox, "wb") as f:
        f.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
                b"Subject: one\n\nhello\n\n"
                b"From MAILER-DAEMON Thu Jan  1 00:00:01 2026\n"
                b"Subject: two\nStatus: RO\n\nworld\n\n")
    assert ctl.ok("import-mbox", "alice@example.test", mbox) == (
        "imported 2 messages into INBOX\n")
    size = len(b"Subject: one\r\n\r\nhello\r\n") * 2
    assert ctl.ok("quota", "get", "alice@example.test") == (
        "alice@example.test: %d bytes in 2 messages, limit 1G\n" % size)
    inbox = ctl.lines("mailbox", "list", "alice@example.test")
    assert [line.split("\t")[:4] for line in inbox] == [
        ["INBOX", "2", "1", str(size)]]
    assert "no user ghost@example.test" in ctl.fail(
        "mailbox", "list", "ghost@example.test")
    assert "no user ghost@example.test" in ctl.fail(
        "quota", "get", "ghost@example.test")


def test_user_del_purge(ctl):
    mbox = os.path.join(ctl.root, "in.mbox")
    with open(mbox, "wb") as f:
        f.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
                b"Subject: kept\n\nbody\n")
    for purge in (False, True):
        ctl.add_user("alice@example.test")
        ctl.ok("import-mbox", "alice@example.test", mbox)
        ctl.ok("user", "del", "alice@example.test",
               *(["--purge"] if purge else []))
        assert ctl.lines("user", "list") == []
        # A user added again under the address finds what was kept.
        ctl.add_user("alice@example.test")
        inbox = ctl.lines("mailbox", "list", "alice@example.test")
        assert inbox[0].split("\t")[:2] == ["INBOX", "0" if purge else "1"]
        ctl.ok("user", "del", "alice@example.test", "--purge")


def test_usage_errors(ctl):
    for args in ((), ("frobnicate",), ("user",), ("user", "add"),
                 ("user", "add", "a@example.test", "extra"),
                 ("user", "add", "a@example.test", "--purge"),
                 ("domain", "list", "--bogus"),
                 ("export-mbox", "a@example.test", "--mailbox")):
        r = ctl.run(*args, code=2)
        assert "usage: poshtactl" in r.stderr, args
    r = subprocess.run([POSHTACTL, "-h"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0 and "import-mbox ADDRESS FILE" in r.stdout


def test_config_errors(tmp_path):
    ctl = Ctl(str(tmp_path), load=["auth_sqlite"],
              body="auth_sqlite { bogus 1; }\n")
    assert "poshta.conf:4" in ctl.fail("domain", "list")
    ctl.conf = str(tmp_path / "missing.conf")
    assert "No such file" in ctl.fail("domain", "list")


def test_no_backend(tmp_path):
    ctl = Ctl(str(tmp_path), load=[])
    assert "no auth backend loaded" in ctl.fail("domain", "list")
    ctl.write(["auth_sqlite"])
    ctl.ok("domain", "add", "example.test")
    ctl.add_user("alice@example.test")
    assert "no storage backend loaded" in ctl.fail(
        "mailbox", "list", "alice@example.test")
    assert "no storage backend loaded" in ctl.fail(
        "user", "del", "alice@example.test", "--purge")


def test_unusable_database(tmp_path):
    # Tests run as root, which permissions do not stop: a folder where
    # the database file should be cannot be opened by anyone.
    db = tmp_path / "users.db"
    db.mkdir()
    ctl = Ctl(str(tmp_path), load=["auth_sqlite"],
              body="auth_sqlite { path %s; }\n" % quote(str(db)))
    line = ctl.fail("domain", "list")
    assert "auth_sqlite" in line and str(db) in line, line
