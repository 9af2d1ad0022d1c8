"""Config validation: each mistake is reported as file:line before
anything starts; -t on a good file says ok; -V gives the SDK ABI."""

import re
import subprocess

import pytest

from conftest import POSHTAD, TIMEOUT, quote

# (what is wrong, text appended to a good config, lines it may be blamed
# on counted from the first appended line)
MISTAKES = [
    ("unknown directive", "frobnicate 3;\n", (0,)),
    ("bad value", "workers many;\n", (0,)),
    ("bad duration", "idle_timeout 10 parsecs;\n", (0,)),
    ("missing semicolon", "echo {\n\tgreeting \"hi\"\n}\n", (1, 2)),
    ("unknown module block", "nosuchmodule {\n\tx 1;\n}\n", (0,)),
    ("unknown directive in a module block", "echo {\n\tcolour red;\n}\n",
     (1,)),
]


def blamed(output, path):
    m = re.search(re.escape(path) + r":(\d+):", output)
    assert m, "no %s:LINE: in %r" % (path, output)
    return int(m.group(1))


@pytest.mark.parametrize("what,extra,lines", MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_mistake_reported_with_line(poshtad, what, extra, lines):
    good = poshtad.config()
    first = good.count("\n") + 1
    r = poshtad.check(good + extra)
    assert r.returncode == 1, r
    out = r.stderr.strip()
    assert blamed(out, poshtad.conf_path) in [first + n for n in lines], out
    assert len(out.splitlines()) == 1, out


def test_error_in_included_file(poshtad, tmp_path):
    inc = tmp_path / "extra.conf"
    inc.write_text("# a comment\necho {\n\tgreeting;\n}\n")
    r = poshtad.check(poshtad.config() + "include %s;\n" % quote(str(inc)))
    assert r.returncode == 1
    assert blamed(r.stderr, str(inc)) == 3, r.stderr


def test_listen_directive_outside_listen(poshtad):
    # prefix is PS_SCOPE_LISTEN: valid in echo's listen blocks only.
    text = poshtad.config(listen={"e": {"prefix": quote("> ")}})
    assert poshtad.check(text).returncode == 0
    lines = text.splitlines()
    at = lines.index("workers 1;") + 1
    lines.insert(at, "prefix \"x\";")
    r = poshtad.check("\n".join(lines) + "\n")
    assert r.returncode == 1
    assert blamed(r.stderr, poshtad.conf_path) == at + 1, r.stderr


def test_good_config(poshtad, certs):
    text = poshtad.config(load=("echo", "echo_filter"), tls=True, listen={
        "e": {"prefix": quote("> "), "max_line": "2k",
              "idle_timeout": "30s", "max_connections": "10"},
        "es": {"tls": "implicit"},
    }, body="echo {\n\tgreeting %s;\n}\n" % quote("hi # not a comment"))
    r = poshtad.check(text)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout + r.stderr


def test_version():
    r = subprocess.run([POSHTAD, "-V"], capture_output=True, text=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0
    assert "SDK ABI 1.6" in r.stdout + r.stderr
