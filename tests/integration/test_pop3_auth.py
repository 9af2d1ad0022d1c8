"""pop3.so's AUTHORIZATION state: USER and PASS (RFC 1939 7, a password
with spaces), the response codes of RFC 2449 8 and RFC 3206 ([AUTH] for
bad credentials, [SYS/TEMP] for backend trouble), AUTH (RFC 5034: the
list without an argument, PLAIN with and without an initial response,
LOGIN, "*" to cancel), UTF8 (RFC 6856), commands that need a login,
QUIT before one, and logins pipelined with what follows.

One server for the module; every test has users of its own."""

import base64
import os

import pytest

from pop3_helpers import message, shared_pop3


@pytest.fixture(scope="module")
def env(sdk, certs, tmp_path_factory):
    yield from shared_pop3(sdk, certs, tmp_path_factory,
                           listeners=("pop3", "imap", "smtp"))


def b64(text):
    if isinstance(text, str):
        text = text.encode()
    return base64.b64encode(text).decode()


def plain(user, password):
    return b64("\0%s\0%s" % (user, password))


def in_transaction(c, count=0):
    """c is logged in: STAT answers with the maildrop."""
    assert c.ok("STAT").startswith("+OK %d " % count)


# ---- USER / PASS --------------------------------------------------------

def test_user_pass(env):
    user = env.new_user()
    env.append(user, message())
    c = env.raw()
    assert c.ok("USER " + user).startswith("+OK")
    # The whole rest of the line is the password, spaces and all.
    assert " " in env.passwords[user]
    assert c.ok("PASS " + env.passwords[user]).startswith("+OK")
    in_transaction(c, 1)
    c.quit()


def test_bad_password_then_retry(env):
    user = env.new_user()
    c = env.raw()
    c.ok("USER " + user)
    c.err("PASS wrong", code="AUTH")
    # Back in AUTHORIZATION: the client may try again.
    c.err("STAT")
    c.ok("USER " + user)
    c.ok("PASS " + env.passwords[user])
    in_transaction(c)
    c.quit()


def test_pass_again_needs_user_again(env):
    """RFC 1939 7, PASS: "may only be given in the AUTHORIZATION state
    immediately after a successful USER command". After a failed PASS a
    second PASS is not right after USER: -ERR, right password or not, and
    no password is checked; USER again, then PASS, gets in."""
    user = env.new_user()
    c = env.raw()
    c.ok("USER " + user)
    c.err("PASS wrong", code="AUTH")
    reply = c.err("PASS " + env.passwords[user])
    assert not reply.startswith("-ERR [AUTH]"), reply
    c.err("STAT")
    c.login(user, env.passwords[user])
    in_transaction(c)
    c.quit()


def test_other_command_between_user_and_pass(env):
    """RFC 1939 7: PASS right after USER; a CAPA in between forgets the
    USER."""
    user = env.new_user()
    c = env.raw()
    c.ok("USER " + user)
    c.capa()
    c.err("PASS " + env.passwords[user])
    c.err("STAT")
    c.login(user, env.passwords[user])
    in_transaction(c)
    c.quit()


def test_password_prefix_is_not_enough(env):
    """PASS takes the whole argument: the first word of a password with
    spaces is a wrong password."""
    user = env.new_user()
    c = env.raw()
    c.ok("USER " + user)
    c.err("PASS " + env.passwords[user].split()[0], code="AUTH")
    c.quit()


def test_unknown_user(env):
    """An unknown user fails like a bad password: at PASS with [AUTH],
    or at USER (RFC 1939 7 allows either)."""
    c = env.raw()
    reply = c.cmd("USER nobody@example.test")
    if reply.startswith("+OK"):
        c.err("PASS whatever", code="AUTH")
    c.quit()


def test_pass_without_user(env):
    user = env.new_user()
    c = env.raw()
    c.err("PASS " + env.passwords[user])
    c.err("STAT")
    c.quit()


def test_user_and_pass_after_login(env):
    user = env.new_user()
    c = env.login(user)
    c.err("USER " + user)
    c.err("PASS " + env.passwords[user])
    c.err("AUTH PLAIN " + plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_commands_need_a_login(env):
    user = env.new_user()
    env.append(user, message())
    c = env.raw()
    for cmd in ("STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "UIDL",
                "TOP 1 0", "RSET", "NOOP"):
        c.err(cmd)
    c.login(user, env.passwords[user])
    in_transaction(c, 1)
    c.quit()


def test_quit_before_login(env):
    c = env.raw()
    assert c.ok("QUIT").startswith("+OK")
    c.expect_eof()


def test_pipelined_login_failure_and_success(env):
    """A pipelined client sees each answer in turn, the delay of a
    failed login included (RFC 2449 6.6)."""
    user = env.new_user()
    c = env.raw()
    c.send("USER %s\r\nPASS wrong\r\nSTAT\r\nUSER %s\r\nPASS %s\r\n"
           "STAT\r\nQUIT\r\n" % (user, user, env.passwords[user]))
    assert c.status().startswith("+OK")
    assert c.status().startswith("-ERR [AUTH]")
    assert c.status().startswith("-ERR")
    assert c.status().startswith("+OK")
    assert c.status().startswith("+OK")
    assert c.status() == "+OK 0 0"
    assert c.status().startswith("+OK")
    c.expect_eof()


# ---- AUTH (RFC 5034) ----------------------------------------------------

def test_pipelined_auth_plain(env):
    user = env.new_user()
    c = env.raw()
    c.send("AUTH PLAIN %s\r\nSTAT\r\nNOOP\r\nQUIT\r\n"
           % plain(user, env.passwords[user]))
    assert c.status().startswith("+OK")
    assert c.status() == "+OK 0 0"
    assert c.status().startswith("+OK")
    assert c.status().startswith("+OK")
    c.expect_eof()


def test_auth_lists_mechanisms(env):
    c = env.raw()
    status, lines = c.lines("AUTH")
    assert sorted(lines) == ["LOGIN", "PLAIN"]
    c.quit()


def test_auth_plain_initial_response(env):
    user = env.new_user()
    c = env.raw()
    assert c.ok("AUTH PLAIN " + plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_plain_continuation(env):
    user = env.new_user()
    c = env.raw()
    c.sendline("AUTH PLAIN")
    # RFC 5034 4: "+" SP and the (here empty) base64 challenge.
    c.expect("+ ")
    c.ok(plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_mechanism_any_case(env):
    user = env.new_user()
    c = env.raw()
    c.ok("auth plain " + plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_login(env):
    user = env.new_user()
    c = env.raw()
    c.sendline("AUTH LOGIN")
    line = c.readline()
    assert line.startswith("+ "), line
    c.sendline(b64(user))
    line = c.readline()
    assert line.startswith("+ "), line
    c.ok(b64(env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_cancel(env):
    """RFC 5034 4: "*" cancels and the server MUST answer -ERR; the client
    may log in afterwards."""
    user = env.new_user()
    c = env.raw()
    c.sendline("AUTH PLAIN")
    c.expect("+ ")
    c.err("*")
    c.sendline("AUTH LOGIN")
    assert c.readline().startswith("+ ")
    c.sendline(b64(user))
    assert c.readline().startswith("+ ")
    c.err("*")
    c.err("STAT")
    c.ok("AUTH PLAIN " + plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_failures(env):
    user = env.new_user()
    c = env.raw()
    c.err("AUTH PLAIN " + plain(user, "wrong"), code="AUTH")
    c.sendline("AUTH PLAIN")
    c.expect("+ ")
    c.err(plain(user, "wrong"), code="AUTH")
    c.sendline("AUTH LOGIN")
    assert c.readline().startswith("+ ")
    c.sendline(b64(user))
    assert c.readline().startswith("+ ")
    c.err(b64("wrong"), code="AUTH")
    c.err("AUTH FROB")
    c.err("AUTH PLAIN !!!not-base64!!!")
    c.err("AUTH PLAIN =")  # an empty response (RFC 5034 4) is no login
    c.sendline("AUTH PLAIN")
    c.expect("+ ")
    c.err("%%%")
    c.err("STAT")
    # None of it got in the way.
    c.ok("AUTH PLAIN " + plain(user, env.passwords[user]))
    in_transaction(c)
    c.quit()


def test_auth_resp_codes_on_user_pass_and_auth(env):
    """AUTH-RESP-CODE (RFC 3206 4): every failed login says [AUTH] or
    [SYS/...] first."""
    user = env.new_user()
    c = env.raw()
    caps, lines = c.capa()
    assert "AUTH-RESP-CODE" in caps and "RESP-CODES" in caps
    c.ok("USER " + user)
    reply = c.err("PASS nope", code="AUTH")
    assert reply[len("-ERR [AUTH]"):].strip(), "a text after the code"
    c.quit()


# ---- Backend trouble ----------------------------------------------------

def test_backend_trouble_is_sys_temp(env):
    """A user whose mail database cannot be opened: -ERR [SYS/TEMP] (RFC
    3206 4), at PASS and at AUTH; the session and other users carry on."""
    user = env.new_user()
    local, domain = user.split("@")
    folder = os.path.join(env.poshtad.state, "mail", domain)
    os.makedirs(folder, exist_ok=True)
    db = os.path.join(folder, local + ".db")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    # A folder where the database should be: SQLite cannot open it.
    os.makedirs(db)
    try:
        c = env.raw()
        c.ok("USER " + user)
        c.err("PASS " + env.passwords[user], code="SYS/TEMP")
        c.err("AUTH PLAIN " + plain(user, env.passwords[user]),
              code="SYS/TEMP")
        c.err("STAT")
        other = env.new_user()
        c.login(other, env.passwords[other])
        in_transaction(c)
        c.quit()
    finally:
        os.rmdir(db)
    # Once the trouble is gone, the user gets in.
    assert env.stat(user) == (0, 0)


# ---- UTF8 (RFC 6856) ----------------------------------------------------

def test_utf8_command_and_utf8_password(env):
    # poshtactl hashes this one itself: UTF-8 all the way.
    user = env.new_user(password="pässwörd ✓ ключ", cheap=False)
    c = env.raw()
    assert c.ok("UTF8").startswith("+OK")
    c.ok("USER " + user)
    c.ok("PASS " + env.passwords[user])
    in_transaction(c)
    c.quit()


def test_utf8_only_in_authorization(env):
    """RFC 6856 2: UTF8 is valid in the AUTHORIZATION state only."""
    user = env.new_user()
    c = env.login(user)
    c.err("UTF8")
    in_transaction(c)
    c.quit()
