"""Blocks inside a module's block (SDK 1.5), through
tests/modules/conf_blocks.c: values and defaults read back in a worker,
several blocks in file order, every mistake reported by -t as file:line,
and the config reference listing the blocks."""

import re
import subprocess

import pytest

from conftest import POSHTAD, TIMEOUT, quote

LOAD = ("echo", "conf_blocks")

BODY = """conf_blocks {
\tlabel "two relays";
\trelayhost smtp.provider.test:587 {
\t\tauth user "pass word";
\t\ttls required;
\t\tweight 3;
\t}
\tlimits {
\t}
\trelayhost [::1]:25 { weight 1; timeout 2m; }
}
"""


def line_of(text, needle):
    return text.splitlines().index(needle) + 1


def test_values_read_back(poshtad):
    text = poshtad.config(load=LOAD, body=BODY)
    poshtad.start(text)
    m = poshtad.wait_log(r"conf_blocks: blocks relayhost=(\d+) limits=(\d+) "
                         r"label=(.*) dup_name=(-?\d+) dup_block=(-?\d+) "
                         r"bad_size=(-?\d+) late=(-?\d+)")
    assert m.groups() == ("2", "1", "two relays", "-5", "-5", "-3", "-6")
    first = poshtad.wait_log(r"relayhost\[0\] at=(.*):(\d+) addr=(\S+) "
                             r"auth=(.*)\|(.*) tls=(\d+) timeout_ms=(\d+) "
                             r"weight=(\d+)")
    assert first.group(1) == poshtad.conf_path
    assert int(first.group(2)) == line_of(
        text, "\trelayhost smtp.provider.test:587 {")
    assert first.groups()[2:] == ("smtp.provider.test:587", "user",
                                  "pass word", "2", "30000", "3")
    # The second block: defaults inside it, its own values, file order.
    second = poshtad.wait_log(r"relayhost\[1\] at=\S+ addr=(\S+) "
                              r"auth=(.*)\|(.*) tls=(\d+) timeout_ms=(\d+) "
                              r"weight=(\d+)")
    assert second.groups() == ("[::1]:25", "-", "-", "1", "120000", "1")
    limits = poshtad.wait_log(r"limits max_rate=(\d+) nwords=(\d+)")
    assert limits.groups() == ("10", "0")


def test_no_blocks_written(poshtad):
    poshtad.start(load=LOAD)
    m = poshtad.wait_log(r"conf_blocks: blocks relayhost=(\d+) limits=(\d+) "
                         r"label=(\S+)")
    assert m.groups() == ("0", "0", "probe")
    assert "limits max_rate" not in poshtad.log()


# (what is wrong, the block text, the line blamed counted from the block's
# first line, part of the message)
MISTAKES = [
    ("unknown directive inside", "relayhost a.test:25 {\n\tweight 1;\n"
     "\tcolour red;\n}\n", 2, "unknown directive 'colour'"),
    ("typo inside", "relayhost a.test:25 {\n\twieght 1;\n}\n", 1,
     "(did you mean 'weight'?)"),
    ("bad argument", "relayhost a.test {\n\tweight 1;\n}\n", 0,
     "relayhost: expected host:port"),
    ("bad value inside", "relayhost a.test:25 {\n\tweight 1;\n"
     "\ttls maybe;\n}\n", 2, "tls: expected one of 'none', 'optional', "
     "'required', got 'maybe'"),
    ("missing required directive", "relayhost a.test:25 {\n"
     "\ttls none;\n}\n", 0,
     "block 'relayhost' lacks required directive 'weight'"),
    ("given twice without MULTI", "limits { }\n\nlimits { }\n", 2,
     "block 'limits' given twice"),
    ("without braces", "relayhost a.test:25;\n", 0,
     "'relayhost' is a block: relayhost ARGUMENTS { ... }"),
    ("arguments where none", "limits 5 { }\n", 0,
     "'limits' takes no arguments"),
    ("block nested in block", "limits {\n\trelayhost a.test:25 { }\n}\n",
     1, "unknown directive 'relayhost'"),
]


@pytest.mark.parametrize("what,block,offset,msg", MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_mistake_reported_with_line(poshtad, what, block, offset, msg):
    body = "conf_blocks {\n" + block + "}\n"
    text = poshtad.config(load=LOAD, body=body)
    first = line_of(text, "conf_blocks {") + 1
    r = poshtad.check(text)
    assert r.returncode == 1, r
    out = r.stderr.strip()
    assert len(out.splitlines()) == 1, out
    want = "%s:%d: " % (poshtad.conf_path, first + offset)
    assert want in out and msg in out, out


def test_good_blocks_pass_check(poshtad):
    r = poshtad.check(poshtad.config(load=LOAD, body=BODY))
    assert r.returncode == 0, r.stderr


def test_reference_lists_blocks(poshtad):
    path = poshtad.write_config(poshtad.config(load=LOAD))
    r = subprocess.run([POSHTAD, "-d", "-c", path], capture_output=True,
                       text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    ref = r.stdout
    head = ("## `conf_blocks` module: `relayhost ARGUMENTS { }` inside its "
            "block")
    assert head in ref, ref
    part = ref[ref.index(head):]
    assert ("a relay to send mail through. Arguments: address (the relay, "
            "host:port). Repeatable.") in part
    for row in ("| `auth` | words |", "| `tls` | none \\| optional \\| "
                "required | `optional` |", "| `weight` | integer 1..100 |"):
        assert row in part, part
    assert re.search(r"## `conf_blocks` module: `limits \{ \}` inside its "
                     r"block\n\nArguments: none\.\n", ref), ref
    assert "| `max_rate` | integer 1..1000 | `10` |" in ref
