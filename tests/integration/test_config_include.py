"""include: a glob relative to the including file pulls in conf.d/*.conf
(in name order); what they hold is served; a mistake inside one is
blamed on that file and line."""

import os
import re
import subprocess

from conftest import POSHTAD, TIMEOUT, free_port, quote

GREETING = "hello from conf.d"


def split_config(poshtad, root, listen_text, echo_text, main_extra=""):
    """Write root/poshta.conf (top level only, then include) and
    root/conf.d/{10-listen,20-echo}.conf; returns the main path."""
    confd = os.path.join(root, "conf.d")
    os.makedirs(confd, exist_ok=True)
    main = poshtad.config(listen={}) + main_extra + \
        "include \"conf.d/*.conf\";\n"
    with open(os.path.join(confd, "10-listen.conf"), "w") as f:
        f.write(listen_text)
    with open(os.path.join(confd, "20-echo.conf"), "w") as f:
        f.write(echo_text)
    # Not matched by the glob: must not be read.
    with open(os.path.join(confd, "README"), "w") as f:
        f.write("this is not { valid config\n")
    return poshtad.write_config(main)


def listen_block(poshtad):
    port = poshtad.ports.setdefault("echo", free_port())
    return ("# the listener\nlisten echo 127.0.0.1:%d {\n"
            "\tprotocol echo;\n\tprefix \"inc> \";\n}\n" % port)


def echo_block(greeting):
    return "echo {\n\tgreeting %s;\n}\n" % quote(greeting)


def test_included_blocks_are_served(poshtad):
    split_config(poshtad, poshtad.root, listen_block(poshtad),
                 echo_block(GREETING))
    r = poshtad.check()
    assert r.returncode == 0, r.stderr
    with open(poshtad.conf_path) as f:
        poshtad.start(f.read())
    with poshtad.connect() as c:
        c.expect("+OK " + GREETING)
        c.command("included prefix", "inc> included prefix")
        c.command("QUIT", "+OK bye")


def test_include_resolves_against_including_file(poshtad, tmp_path):
    """The relative glob is taken from the main file's folder, not from
    the working directory poshtad runs in."""
    split_config(poshtad, poshtad.root, listen_block(poshtad),
                 echo_block(GREETING))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([POSHTAD, "-t", "-c", poshtad.conf_path],
                       cwd=str(elsewhere), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    # And from inside the folder, with a relative -c.
    r = subprocess.run([POSHTAD, "-t", "-c", "poshta.conf"],
                       cwd=poshtad.root, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr


def test_second_block_in_later_file(poshtad):
    """Files are read in name order: a second echo block, in the later
    file, is the one blamed."""
    split_config(poshtad, poshtad.root, listen_block(poshtad)
                 + echo_block("first"), echo_block("second"))
    r = poshtad.check()
    assert r.returncode == 1
    blamed = os.path.join(poshtad.root, "conf.d", "20-echo.conf")
    assert re.search(re.escape(blamed) + r":1:", r.stderr), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_syntax_error_in_included_file(poshtad):
    bad = ("# line 1\n"
           "echo {\n"
           "\tgreeting \"missing semicolon\"\n"     # line 3
           "}\n")
    split_config(poshtad, poshtad.root, listen_block(poshtad), bad)
    r = poshtad.check()
    assert r.returncode == 1, r
    out = r.stderr.strip()
    assert len(out.splitlines()) == 1, out
    blamed = os.path.join(poshtad.root, "conf.d", "20-echo.conf")
    m = re.search(re.escape(blamed) + r":(\d+):", out)
    assert m, "the included file is not named: %r" % out
    assert int(m.group(1)) in (3, 4), out
    assert "poshta.conf:" not in out, "blamed on the main file: %r" % out


def test_unknown_directive_in_included_listen_block(poshtad):
    listen = listen_block(poshtad).replace("\tprotocol echo;\n",
                                           "\tprotocol echo;\n"
                                           "\tfrobnicate 1;\n")
    split_config(poshtad, poshtad.root, listen, echo_block(GREETING))
    r = poshtad.check()
    assert r.returncode == 1
    blamed = os.path.join(poshtad.root, "conf.d", "10-listen.conf")
    assert re.search(re.escape(blamed) + r":4:", r.stderr), r.stderr
