"""poshtactl migrate between storage backends (sqlite, maildir, and pgsql
when storage_pgsql is built). Mail is made over IMAP on a real poshtad
(flags, keywords, internal dates with zones, a hierarchy with a
\\Noselect parent, subscriptions, special use, UID gaps) and with
import-mbox (a big mailbox), then goes sqlite -> maildir -> sqlite (and
-> pgsql -> sqlite). Each store is read back with the hidden
migrate-dump, whose record stream (core/ctl_migrate.h) this file parses
on its own, and the last one through IMAP FETCH as well: bodies byte for
byte, flags, keywords, dates, UIDs and UIDVALIDITY as they were. Resume:
a stream cut short and a migrate killed mid-way, run again, leave no
message twice and none missing."""

import os
import random
import signal
import sqlite3
import struct
import subprocess

import pytest

from conftest import TIMEOUT, quote, wait_for
from imap_helpers import ALICE, BOB, IMAP_LISTENERS, ImapEnv
from pg_helpers import pg_cluster, pg_db  # noqa: F401 (fixtures, for pgsql)
from smtp_helpers import Ctl, backends
from test_poshtactl import POSHTACTL

SPECIAL_USE = 0x7f00
SUBSCRIBED, NOSELECT, NONEXISTENT = 0x10, 0x01, 0x20
# What each backend reports alike: the rest (\HasChildren...) may differ.
ATTRS = SPECIAL_USE | SUBSCRIBED | NOSELECT | NONEXISTENT
ARCHIVE, SENT = 0x200, 0x2000


def pgsql_built(env):
    return os.path.exists(os.path.join(env.poshtad.sdk.moduledir,
                                       "storage_pgsql.so"))


# ---- the record stream, read independently of the C reader ------------


def parse_stream(data):
    """The users of a migrate-dump stream: {user: {mailbox: dict}}, each
    mailbox with attrs, uidvalidity, uidnext and msgs {uid: dict}."""
    users, pos, user, mbox, msg = {}, 0, None, None, None

    def take(n):
        nonlocal pos
        assert pos + n <= len(data), "stream cut short"
        out = data[pos:pos + n]
        pos += n
        return out

    t, n = struct.unpack(">cI", take(5))
    assert t == b"H" and take(n) == b"poshta-migrate\0\0\0\x01"
    while True:
        t, n = struct.unpack(">cI", take(5))
        p = take(n)
        if t == b"Z":
            assert pos == len(data)
            return users
        if t == b"U":
            user = users.setdefault(p.decode(), {})
        elif t == b"M":
            attrs, uv, un, count = struct.unpack(">IIII", p[:16])
            mbox = user[p[16:].decode()] = dict(
                attrs=attrs, uidvalidity=uv, uidnext=un, count=count,
                msgs={}, skipped=[])
        elif t == b"S":
            mbox["skipped"].append(struct.unpack(">I", p)[0])
        elif t == b"m":
            uid, flags, date, tz, size, nkw = struct.unpack(
                ">IIqiQH", p[:30])
            kws, rest = [], p[30:]
            for _ in range(nkw):
                kws.append(rest[1:1 + rest[0]].decode())
                rest = rest[1 + rest[0]:]
            assert rest == b""
            msg = mbox["msgs"][uid] = dict(flags=flags, date=date, tz=tz,
                                           size=size, keywords=sorted(kws),
                                           body=b"")
        elif t == b"D":
            msg["body"] += p
        elif t == b"E":
            assert len(msg["body"]) == msg["size"]
        else:
            assert t == b"u", t


# ---- stores -------------------------------------------------------------


class Store:
    """A configuration of its own: one storage backend, the users
    database every store here shares (auth is not what migrates)."""

    def __init__(self, env, name, backend, conninfo=None, users_db=None,
                 mail=None):
        self.env, self.name, self.backend = env, name, backend
        root = env.poshtad.root
        self.state = os.path.join(root, name + "-state")
        os.makedirs(self.state, exist_ok=True)
        self.conf = os.path.join(root, name + ".conf")
        users_db = users_db or os.path.join(env.poshtad.state, "users.db")
        body = {
            "sqlite": "storage_sqlite {\n\tpath %s;\n}\n" % quote(
                mail or os.path.join(self.state, "mail")),
            "maildir": "storage_maildir {\n\tpath %s;\n}\n" % quote(
                os.path.join(self.state, "vhosts")),
            "pgsql": "storage_pgsql {\n\tconninfo %s;\n}\n" % quote(
                conninfo or ""),
        }[backend]
        with open(self.conf, "w") as f:
            f.write("state_dir %s;\nmodule_dir %s;\n" % (
                quote(self.state), quote(env.poshtad.sdk.moduledir)))
            f.write("load storage_%s auth_sqlite;\n" % backend)
            f.write(body + "auth_sqlite {\n\tpath %s;\n}\n" % quote(
                users_db))

    def dump(self, *users, replies=None):
        """The stream of users; with replies (UIDs, one per mailbox that
        may hold messages), as the target would answer."""
        extra = ["--replies"] if replies is not None else []
        r = subprocess.run([POSHTACTL, "-c", self.conf, "migrate-dump"] +
                           extra + ["--"] + list(users),
                           input=b"".join(struct.pack(">I", u)
                                          for u in replies or ()),
                           capture_output=True, timeout=TIMEOUT * 6)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def ctl(self, *args, code=0, stdin=b""):
        r = subprocess.run([POSHTACTL, "-c", self.conf] + list(args),
                           input=stdin, capture_output=True,
                           timeout=TIMEOUT * 6)
        assert r.returncode == code, "exit %d, not %d\n%s%s" % (
            r.returncode, code, r.stdout.decode(), r.stderr.decode())
        return r.stdout.decode(), r.stderr.decode()


def migrate(src, dst, *users, code=0):
    r = subprocess.run([POSHTACTL, "migrate", "--from", src.conf, "--to",
                        dst.conf] + list(users), capture_output=True,
                       text=True, timeout=TIMEOUT * 20)
    assert r.returncode == code, "migrate: exit %d, not %d\n%s%s" % (
        r.returncode, code, r.stdout, r.stderr)
    return r


def source_store(env):
    """The poshtad's own store, as poshtactl sees it (sqlite)."""
    s = Store.__new__(Store)
    s.env, s.name, s.backend = env, "source", "sqlite"
    s.conf, s.state = env.ctl.conf, env.poshtad.state
    return s


def same_mail(a, b, uids=True):
    """Two parsed streams hold the same users, mailboxes and messages;
    with uids, the same UIDs and UIDVALIDITY as well."""
    assert sorted(a) == sorted(b)
    for user in a:
        assert sorted(a[user]) == sorted(b[user]), user
        for name, ma in a[user].items():
            mb = b[user][name]
            assert ma["attrs"] & ATTRS == mb["attrs"] & ATTRS, name
            la, lb = ma["msgs"], mb["msgs"]
            if uids:
                assert ma["uidvalidity"] == mb["uidvalidity"], name
                assert sorted(la) == sorted(lb), name
                assert la == lb, name
                if la:
                    assert mb["uidnext"] > max(lb)
            else:
                assert [la[u] for u in sorted(la)] == [
                    lb[u] for u in sorted(lb)], name


# ---- mail ---------------------------------------------------------------


def message(i, size=0):
    filler = b"".join(b"line %d of message %d\r\n" % (k, i)
                      for k in range(size // 24))
    return (b"From: a@example.test\r\nSubject: message %d\r\n\r\n"
            b"Body of %d, 8-bit \xc3\xa9 and \xff bytes.\r\n%s"
            % (i, i, filler))


# (mailbox, flags, date) for the IMAP appends.
APPENDS = [
    ("INBOX", r"(\Seen $Label1 custom)", '"01-Jan-2020 10:00:00 +0530"'),
    ("INBOX", r"(\Answered \Flagged)", '"29-Feb-2024 23:59:59 -0800"'),
    ("INBOX", r"()", '"15-Jun-2001 12:00:00 +0000"'),
    ("INBOX", r"(\Draft kw2)", '"31-Dec-1999 00:00:01 +1200"'),
    ("INBOX", r"(\Seen)", '"02-Jan-2020 10:00:00 +0100"'),
    ("Archive", r"(\Seen \Deleted)", '"03-Mar-2010 03:03:03 -0330"'),
    ("Archive", r"(\Seen Done)", '"04-Apr-2011 04:04:04 +0400"'),
    ("Work/Projects/2026", r"(Urgent \Flagged)",
     '"05-May-2026 05:05:05 +0000"'),
]


def seed(env, user=ALICE, big=0):
    """Alice's mail on the poshtad; a UID gap in INBOX, a \\Noselect
    parent (Work), a subscribed name that does not exist (Gone)."""
    m = env.imaplib(user)
    for cmd in ('CREATE Archive (USE (\\Archive))',
                'CREATE Sent (USE (\\Sent))', 'CREATE Work/Projects/2026',
                'DELETE Work', 'SUBSCRIBE INBOX', 'SUBSCRIBE Archive',
                'SUBSCRIBE Work/Projects', 'SUBSCRIBE Gone'):
        name, rest = cmd.split(" ", 1)
        typ, data = m._simple_command(name, rest)
        assert typ == "OK", (cmd, data)
    for i, (mbox, flags, date) in enumerate(APPENDS):
        typ, data = m.append(mbox, flags, date, message(i, 300 * i))
        assert typ == "OK", data
    # A gap at UID 2 of INBOX (RFC 3501 2.3.1.1: UIDs need not be dense).
    m.select("INBOX")
    assert m.uid("STORE", "2", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert m.expunge()[0] == "OK"
    m.logout()
    if big:
        mbox = b"".join(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2015\n" +
                        message(1000 + i, 2000).replace(b"\r\n", b"\n") +
                        b"\n" for i in range(big))
        env.ctl.result("import-mbox", user, "-", "--mailbox", "Bulk",
                       stdin=mbox)


@pytest.fixture
def env(poshtad):
    ctl = Ctl(poshtad)
    ctl.seed()
    poshtad.start(poshtad.config(
        load=("storage_sqlite", "auth_sqlite", "imap"),
        listen={"imap": IMAP_LISTENERS["imap"]}, tls=True,
        body=backends(poshtad)))
    return ImapEnv(poshtad, ctl)


def fetch_all(env, user, mailbox):
    """UID -> (flags, internal date, body) over IMAP."""
    m = env.imaplib(user)
    typ, _ = m.select('"%s"' % mailbox, readonly=True)
    assert typ == "OK"
    typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK"
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode()
        uid = int(head.split("UID ")[1].split()[0])
        flags = head.split("FLAGS (")[1].split(")")[0].split()
        date = head.split('INTERNALDATE "')[1].split('"')[0]
        out[uid] = (sorted(flags), date, item[1])
    m.logout()
    return out


# ---- tests --------------------------------------------------------------


def chain(env, request):
    backends_ = ["maildir"]
    if pgsql_built(env):
        backends_.append("pgsql")
    stores = [source_store(env)]
    for i, b in enumerate(backends_ + ["sqlite"]):
        conninfo = request.getfixturevalue("pg_db") if b == "pgsql" else None
        stores.append(Store(env, "s%d-%s" % (i, b), b, conninfo))
    return stores


def test_round_trip_keeps_everything(env, request):
    seed(env)
    before_imap = fetch_all(env, ALICE, "INBOX")
    assert sorted(before_imap) == [1, 3, 4, 5]
    stores = chain(env, request)
    want = parse_stream(stores[0].dump(ALICE))
    inbox = want[ALICE]["INBOX"]
    assert inbox["msgs"][1]["keywords"] == ["$Label1", "custom"]
    assert inbox["msgs"][1]["tz"] == 330 and inbox["msgs"][4]["tz"] == 720
    assert want[ALICE]["Work"]["attrs"] & NOSELECT
    assert want[ALICE]["Gone"]["attrs"] & NONEXISTENT
    assert want[ALICE]["Archive"]["attrs"] & (ARCHIVE | SUBSCRIBED) == (
        ARCHIVE | SUBSCRIBED)
    for src, dst in zip(stores, stores[1:]):
        r = migrate(src, dst, ALICE)
        assert "%s: 7 mailboxes, 7 messages copied, 0 already there" % (
            ALICE) in r.stdout, (src.name, dst.name, r.stdout)
        same_mail(want, parse_stream(dst.dump(ALICE)))
    # The last store through IMAP: what the first one served, byte for
    # byte, with the same UIDs, flags and internal dates (and zones).
    env.poshtad.stop()
    last = stores[-1]
    env.poshtad.start(env.poshtad.config(
        load=("storage_sqlite", "auth_sqlite", "imap"),
        listen={"imap": IMAP_LISTENERS["imap"]}, tls=True,
        body="storage_sqlite {\n\tpath %s;\n}\nauth_sqlite {\n\tpath %s;\n}\n"
        % (quote(os.path.join(last.state, "mail")),
           quote(os.path.join(env.poshtad.state, "users.db")))))
    assert fetch_all(env, ALICE, "INBOX") == before_imap
    m = env.imaplib(ALICE)
    typ, data = m.status("INBOX", "(UIDVALIDITY)")
    assert str(inbox["uidvalidity"]).encode() in data[0]
    typ, data = m.list()
    assert any(b"\\Archive" in d and b"Archive" in d for d in data), data
    typ, data = m.lsub()
    assert any(b"Gone" in d for d in data), data
    m.logout()


def test_again_copies_nothing(env):
    seed(env)
    src, dst = source_store(env), Store(env, "t", "maildir")
    migrate(src, dst)
    r = migrate(src, dst)
    assert "%s: 7 mailboxes, 0 messages copied, 7 already there" % ALICE \
        in r.stdout, r.stdout
    # Mail that arrived at the source since then follows on the next run.
    m = env.imaplib(ALICE)
    assert m.append("INBOX", r"(\Seen)", None, message(99))[0] == "OK"
    m.logout()
    r = migrate(src, dst)
    assert "1 messages copied, 7 already there" in r.stdout, r.stdout
    same_mail(parse_stream(src.dump(ALICE)), parse_stream(dst.dump(ALICE)))


def test_source_leaves_out_what_the_target_has(env):
    """--replies: the source sends only an 'S' record for each message
    below the UID the target asked for, without reading it."""
    seed(env)
    src = source_store(env)
    # Archive, INBOX, Sent, Work/Projects, Work/Projects/2026 hold mail.
    got = parse_stream(src.dump(ALICE, replies=[0xffffffff, 4, 1, 1, 1]))
    mine = got[ALICE]
    assert mine["Archive"]["msgs"] == {} and mine["Archive"]["skipped"] == [
        1, 2]
    assert sorted(mine["INBOX"]["msgs"]) == [4, 5]
    assert mine["INBOX"]["skipped"] == [1, 3]
    assert len(mine["Work/Projects/2026"]["msgs"]) == 1
    # A target that stops answering stops the source.
    r = subprocess.run([POSHTACTL, "-c", src.conf, "migrate-dump",
                        "--replies", ALICE], input=b"\0\0\0\1",
                       capture_output=True, timeout=TIMEOUT * 6)
    assert r.returncode == 1 and b"the target stopped answering" in (
        r.stderr), r.stderr


def test_stream_cut_short_then_resumed(env):
    """A source that stops mid-way: the batches committed stay, the open
    one goes; the next run copies the rest, nothing twice."""
    seed(env, big=450)
    src, dst = source_store(env), Store(env, "t", "sqlite")
    stream = src.dump(ALICE)
    cut = len(stream) * 2 // 3
    out, err = dst.ctl("migrate-load", code=1, stdin=stream[:cut])
    assert "ended" in err and "stopped:" in out, (out, err)
    part = parse_stream(dst.dump(ALICE))[ALICE]["Bulk"]["msgs"]
    assert 0 < len(part) < 450 and len(part) % 100 == 0, len(part)
    r = migrate(src, dst, ALICE)
    # Archive (2 messages) comes before Bulk, the rest after it.
    assert "%d messages copied, %d already there" % (
        450 - len(part) + 5, len(part) + 2) in r.stdout, r.stdout
    same_mail(parse_stream(stream), parse_stream(dst.dump(ALICE)))


def test_killed_then_resumed(env):
    seed(env, big=1500)
    src, dst = source_store(env), Store(env, "t", "maildir")
    bulk = os.path.join(dst.state, "vhosts", "example.test", "alice",
                        "Maildir", ".Bulk")

    def copied():
        n = 0
        for sub in ("new", "cur"):
            try:
                n += len(os.listdir(os.path.join(bulk, sub)))
            except FileNotFoundError:
                pass
        return n

    p = subprocess.Popen([POSHTACTL, "migrate", "--from", src.conf, "--to",
                          dst.conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for("a few batches", lambda: copied() >= 200, timeout=TIMEOUT * 10)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=TIMEOUT)
    assert copied() < 1500, "migrate finished before it was killed"
    migrate(src, dst)
    same_mail(parse_stream(src.dump(ALICE)), parse_stream(dst.dump(ALICE)))


@pytest.mark.parametrize("same_uidvalidity", [False, True])
def test_target_mailbox_with_other_mail(env, same_uidvalidity):
    """A target mailbox that held other mail keeps its UIDVALIDITY: the
    messages get new UIDs, and a progress file stops a second run from
    copying them again. Also when its UIDVALIDITY is the source's by
    chance (two stores that made a mailbox in the same second)."""
    seed(env)
    src, dst = source_store(env), Store(env, "t", "sqlite")
    mbox = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2015\nSubject: x\n\nx\n"
    dst.ctl("import-mbox", ALICE, "-", "--mailbox", "Archive", stdin=mbox)
    uv = parse_stream(src.dump(ALICE))[ALICE]["Archive"]["uidvalidity"]
    with sqlite3.connect(os.path.join(dst.state, "mail", "example.test",
                                      "alice.db")) as db:
        db.execute("UPDATE mailbox SET uidvalidity = ? WHERE name = ?",
                   (uv if same_uidvalidity else uv + 1000, "Archive"))
    r = migrate(src, dst, ALICE)
    assert "Archive: new UIDs (the target mailbox held other mail)" in \
        r.stdout, r.stdout
    assert "7 messages copied, 0 already there" in r.stdout
    r = migrate(src, dst, ALICE)
    assert "0 messages copied, 7 already there" in r.stdout, r.stdout
    got = parse_stream(dst.dump(ALICE))[ALICE]["Archive"]["msgs"]
    want = parse_stream(src.dump(ALICE))[ALICE]["Archive"]["msgs"]
    assert len(got) == 3
    assert [got[u] for u in sorted(got)][1:] == [want[u]
                                                 for u in sorted(want)]


def test_same_store_twice(env):
    """Migrating a store onto itself (two configurations, one path)
    copies nothing: every mailbox is its own copy."""
    seed(env)
    src = source_store(env)
    same = Store(env, "same", "sqlite",
                 mail=os.path.join(env.poshtad.state, "mail"))
    before = src.dump(ALICE)
    r = migrate(src, same, ALICE)
    assert "7 mailboxes, 0 messages copied, 7 already there" in r.stdout, (
        r.stdout)
    same_mail(parse_stream(before), parse_stream(src.dump(ALICE)))


def test_every_user_when_none_named(env):
    seed(env)
    m = env.imaplib(BOB)
    assert m.append("INBOX", None, None, message(7))[0] == "OK"
    m.logout()
    src, dst = source_store(env), Store(env, "t", "maildir")
    r = migrate(src, dst)
    assert "%s: 1 mailboxes, 1 messages copied" % BOB in r.stdout, r.stdout
    assert "%s: 7 mailboxes, 7 messages copied" % ALICE in r.stdout
    same_mail(parse_stream(src.dump()), parse_stream(dst.dump()))


def test_errors(env):
    src, dst = source_store(env), Store(env, "t", "maildir")

    def fails(args, code, text):
        r = subprocess.run([POSHTACTL, "migrate"] + args,
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == code and text in r.stderr, (args, r)

    fails(["--to", dst.conf], 2, "--from CONF is required")
    fails(["--from", src.conf], 2, "--to CONF is required")
    fails(["--from", src.conf, "--to", src.conf], 2, "same configuration")
    fails(["--from", "/nonexistent.conf", "--to", dst.conf], 2,
          "/nonexistent.conf")
    fails(["--from", src.conf, "--to", dst.conf, "--bogus"], 2,
          "unknown option")
    fails(["--from", src.conf, "--to", dst.conf, "nobody@example.test"], 1,
          "nobody@example.test")
    # A target whose auth backend does not know the user.
    other = Store(env, "other", "sqlite",
                  users_db=os.path.join(env.poshtad.root, "other.db"))
    fails(["--from", src.conf, "--to", other.conf, ALICE], 1,
          "not known to the target's auth backend")
    # migrate-load reads only its own stream.
    for bad in (b"", b"From x\n", b"H\0\0\0\x12poshta-migrate\0\0\0\x02",
                random.Random(1).randbytes(300)):
        out, err = dst.ctl("migrate-load", code=1, stdin=bad)
        assert err.startswith("poshtactl: migration stream, byte "), err
    # migrate is not in the usage twice, its helpers not at all.
    r = subprocess.run([POSHTACTL, "-h"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert "migrate --from CONF --to CONF [USER...]" in r.stdout
    assert "migrate-dump" not in r.stdout and "migrate-load" not in r.stdout
