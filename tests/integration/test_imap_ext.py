"""The "imap.ext" interface (<poshta/imap.h>) through the example module
sdk/examples/xcount, built out of tree against the installed SDK: its
CAPABILITY word, its command in the state it names only, an answer that
comes later from a job over the storage SDK, and pipelined commands that
wait for it."""

import re

import pytest

from imap_helpers import ALICE, ImapEnv
from smtp_helpers import PASSWORDS, Ctl, backends


@pytest.fixture
def env(poshtad):
    ctl = Ctl(poshtad)
    ctl.seed(PASSWORDS, aliases=())
    listen = {"imap": {"protocol": "imap", "auth_plaintext": "allow"},
              "smtp": {"protocol": "smtp", "role": "mx"}}
    poshtad.start(poshtad.config(
        load=("storage_sqlite", "auth_sqlite", "smtp", "imap", "xcount"),
        listen=listen, body=backends(poshtad)))
    return ImapEnv(poshtad, ctl)


def test_capability_word(env):
    r = env.raw()
    lines, tagged = r.command("CAPABILITY")
    assert b" XCOUNT" in lines[0]


def test_count_selected_mailbox(env):
    env.deliver(ALICE, subject="one")
    env.deliver(ALICE, subject="two")
    r = env.login()
    lines, tagged = r.command("XCOUNT")
    assert tagged == b"t2 BAD Command not valid in this state"
    r.ok("SELECT INBOX")
    lines, tagged = r.command("xcount")
    assert tagged == b"t4 OK XCOUNT completed"
    m = re.match(rb"\* XCOUNT MESSAGES 2 SEEN 0 FLAGGED 0 DELETED 0 "
                 rb"OCTETS (\d+)$", lines[0])
    assert m and int(m.group(1)) > 100, lines


def test_arguments_and_pipelining(env):
    env.deliver(ALICE)
    r = env.login()
    r.ok("SELECT INBOX")
    lines, tagged = r.command("XCOUNT now")
    assert tagged == b"t3 BAD XCOUNT takes no arguments"
    # The pending command holds the next ones back: replies in order.
    r.send("a XCOUNT\r\nb NOOP\r\nc XCOUNT\r\n")
    for tag in "abc":
        lines, tagged = r.until(tag)
        assert tagged.startswith(tag.encode() + b" OK"), tagged
    assert lines[0].startswith(b"* XCOUNT MESSAGES 1 ")
