"""imap.so's QUOTA (RFC 9208): GETQUOTAROOT and GETQUOTA report the one
root "" of a user with a limit, STORAGE in units of 1024 octets with the
store's usage; a user without a limit has no root; SETQUOTA is refused
(NOPERM): limits are the administrator's."""

import math
import re

import pytest

from imap_helpers import ALICE, BOB, shared_imap

CAROL = "carol@example.test"


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    # alice 1 MiB; carol 1500 octets, not a whole number of KiB; bob none.
    yield from shared_imap(sdk, certs, tmp_path_factory,
                           quotas=[(ALICE, "1m"), (CAROL, "1500")])


def ok(r, cmd):
    lines, tagged = r.command(cmd)
    assert re.match(rb"t\d+ OK ", tagged), (cmd, lines, tagged)
    return lines


def refused(r, cmd, status, code=None):
    lines, tagged = r.command(cmd)
    want = status.encode() + (b" [" + code.encode() + b"]" if code else b"")
    assert tagged.split(b" ", 1)[1].startswith(want), (cmd, lines, tagged)
    assert lines == [], lines


def used_bytes(env, user):
    out = env.ctl.ok("quota", "get", user)
    return int(re.search(r": (\d+) bytes", out).group(1))


def test_capabilities(env):
    r = env.login(ALICE)
    words = ok(r, "CAPABILITY")[0].split()
    assert b"QUOTA" in words and b"QUOTA=RES-STORAGE" in words
    # No SETQUOTA for users, so no QUOTASET (RFC 9208 3.2); no MESSAGE
    # limit exists, so no QUOTA=RES-MESSAGE.
    assert b"QUOTASET" not in words and b"QUOTA=RES-MESSAGE" not in words


def test_getquotaroot_with_a_limit(env):
    r = env.login(ALICE)
    assert ok(r, "GETQUOTAROOT INBOX") == [
        b'* QUOTAROOT INBOX ""',
        b'* QUOTA "" (STORAGE %d 1024)' % math.ceil(
            used_bytes(env, ALICE) / 1024),
    ]
    env.deliver(ALICE, body="Subject: big\r\n\r\n" + "x" * 5000 + "\r\n")
    used = used_bytes(env, ALICE)
    assert used > 5000
    # Every mailbox shares the root; the name comes back as stored.
    ok(r, "CREATE Archive/2024")
    refused(r, "GETQUOTAROOT archive/2024", "NO", "NONEXISTENT")
    lines = ok(r, "GETQUOTAROOT Archive/2024")
    assert lines == [b'* QUOTAROOT Archive/2024 ""',
                     b'* QUOTA "" (STORAGE %d 1024)' % math.ceil(used / 1024)]
    assert ok(r, "GETQUOTAROOT inbox")[0] == b'* QUOTAROOT INBOX ""'
    assert ok(r, 'GETQUOTA ""') == [lines[1]]
    # A \Noselect mailbox exists; a missing one has no root.
    ok(r, "DELETE Archive")
    assert ok(r, "GETQUOTAROOT Archive")[0] == b'* QUOTAROOT Archive ""'
    refused(r, "GETQUOTAROOT Nothing", "NO", "NONEXISTENT")
    refused(r, 'GETQUOTA "other"', "NO", "NONEXISTENT")
    refused(r, "GETQUOTA INBOX", "NO", "NONEXISTENT")


def test_getquotaroot_without_a_limit(env):
    # RFC 9208 4.2.2: a mailbox under no quota root: QUOTAROOT without a
    # root, and no QUOTA.
    r = env.login(BOB)
    assert ok(r, "GETQUOTAROOT INBOX") == [b"* QUOTAROOT INBOX"]
    refused(r, 'GETQUOTA ""', "NO", "NONEXISTENT")


def test_kib_rounding(env):
    # 1500 octets are 2 units of 1024 (rounded up, like the usage, so
    # usage under the limit never reads as past it).
    env.deliver(CAROL, body="Subject: s\r\n\r\nhi\r\n")
    used = used_bytes(env, CAROL)
    assert 0 < used < 1024
    r = env.login(CAROL)
    assert ok(r, 'GETQUOTA ""') == [b'* QUOTA "" (STORAGE 1 2)']


def test_setquota_refused(env):
    r = env.login(ALICE)
    refused(r, 'SETQUOTA "" (STORAGE 100000)', "NO", "NOPERM")
    refused(r, 'SETQUOTA "" ()', "NO", "NOPERM")
    refused(r, 'SETQUOTA "" (STORAGE)', "BAD")
    refused(r, 'SETQUOTA "" (STORAGE many)', "BAD")
    refused(r, 'SETQUOTA ""', "BAD")
    refused(r, "GETQUOTA", "BAD")
    refused(r, "GETQUOTAROOT", "BAD")
    refused(r, "GETQUOTAROOT INBOX Other", "BAD")
    # Still 1 MiB.
    assert ok(r, 'GETQUOTA ""')[0].endswith(b" 1024)")


def test_imaplib_getquotaroot(env):
    m = env.imaplib(ALICE)
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    assert data[0] == [b'INBOX ""']
    assert re.match(rb'"" \(STORAGE \d+ 1024\)$', data[1][0])
    typ, data = m.getquota('""')
    assert typ == "OK" and data[0].endswith(b" 1024)")
    m.logout()
    m = env.imaplib(BOB)
    assert m.getquotaroot("INBOX") == ("OK", [[b"INBOX"], [None]])
    m.logout()


def test_quota_before_login(env):
    r = env.raw()
    refused(r, "GETQUOTAROOT INBOX", "BAD")
    refused(r, 'GETQUOTA ""', "BAD")
