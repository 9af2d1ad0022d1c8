"""imap.so against hostile input: over-long lines and literals refused
without reading them (no "+"), LITERAL+ past the limit, nesting too deep,
floods of BAD, mailbox names that try to leave the user's store or carry
NUL, 8-bit junk in quoted strings, and memory that does not grow with
what a client throws at it."""

import time

import pytest

from imap_helpers import shared_imap, start_imap

OPTS = {"listeners": ("imap", "smtp"),
        "imap_opts": {"max_command_size": "64k"}}


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    # The tests log in as alice and read none of her mail: they can share
    # a server, as an attacker's sessions would.
    yield from shared_imap(sdk, certs, tmp_path_factory, **OPTS)


@pytest.fixture
def own_env(poshtad):
    """A server of the test's own: the workers' peak memory is what this
    test alone made it."""
    return start_imap(poshtad, **OPTS)


def vmhwm(env):
    total = 0
    for pid in env.poshtad.workers():
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total


def test_oversized_sync_literal_refused_before_reading(env):
    r = env.raw()
    r.send("a LOGIN {100000000}\r\n")
    line = r.line()
    assert line.startswith(b"a NO") or line.startswith(b"a BAD"), line
    assert b"+" not in line[:1]
    # The session goes on.
    lines, tagged = r.command("NOOP")
    assert tagged.endswith(b"OK NOOP completed")


def test_oversized_nonsync_literal(env):
    """RFC 7888 4: LITERAL- servers refuse "{n+}" over 4096; the octets
    are read and dropped, or the connection is closed."""
    r = env.raw()
    r.send(b"a LOGIN {5000+}\r\n" + b"x" * 5000 + b" pw\r\n")
    line = r.line()
    assert line.startswith(b"a NO") or line.startswith(b"a BAD") or \
        line.startswith(b"* BYE"), line


def test_line_too_long(env):
    r = env.raw()
    r.send("a NOOP " + "x" * 70000 + "\r\n")
    line = r.line()
    assert line.startswith(b"a BAD") or line.startswith(b"* BAD") or \
        line.startswith(b"* BYE"), line


def test_nesting_too_deep(env):
    r = env.raw()
    lines, tagged = r.command("ID " + "(" * 200 + ")" * 200)
    assert b" BAD " in tagged
    lines, tagged = r.command("NOOP")
    assert tagged.endswith(b"OK NOOP completed")


def test_eight_bit_in_quoted_refused(env):
    r = env.login()
    lines, tagged = r.command('SELECT "Entw\xfcrfe"'.encode("latin-1")
                              .decode("latin-1"))
    assert b" BAD " in tagged or b" NO " in tagged


@pytest.mark.parametrize("name", [
    "../bob@example.test/INBOX", "/INBOX", "INBOX/../../x", "%", "*",
    "..", "INBOX/..", "~bob",
])
def test_names_do_not_leave_the_store(env, name):
    env.deliver("bob@example.test", subject="private")
    r = env.login()
    lines, tagged = r.command('SELECT "%s"' % name)
    assert tagged.startswith(b"t2 NO") or tagged.startswith(b"t2 BAD"), (
        name, tagged)
    assert not [l for l in lines if b"EXISTS" in l]


def test_nul_in_mailbox_name(env):
    r = env.login()
    r.send(b"a SELECT {7+}\r\nIN\x00BOX\r\n"[:-2] + b"\r\n")
    lines, tagged = r.until("a")
    assert tagged.startswith(b"a NO") or tagged.startswith(b"a BAD")


def test_bad_flood_closes(env):
    r = env.raw()
    r.send("".join("x%d FROB\r\n" % i for i in range(500)))
    deadline = time.monotonic() + 10
    seen_bye = False
    while time.monotonic() < deadline:
        try:
            line = r.line()
        except (EOFError, ConnectionResetError):
            break
        if line.startswith(b"* BYE"):
            seen_bye = True
    assert seen_bye


def test_memory_flat_under_junk(own_env):
    """Thousands of refused literals and long lines leave the workers'
    peak memory where a few left it."""
    env = own_env
    r = env.login()
    junk = b"SELECT {60000+}\r\n" + b"y" * 60000 + b"\r\n"
    for i in range(20):
        r.send(b"a%d " % i + junk)
        lines, tagged = r.until("a%d" % i)
        assert tagged.startswith(b"a%d NO" % i), tagged
    base = vmhwm(env)
    for i in range(300):
        r.send(b"b%d " % i + junk)
        r.until("b%d" % i)
    assert vmhwm(env) - base < 4096, "peak memory grew"
