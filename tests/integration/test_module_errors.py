"""The loader refuses bad modules (tests/modules/) with one line naming
the module, its .so path and the reason, and poshtad exits with 1."""

import re
import subprocess

import pytest

from conftest import POSHTAD, TIMEOUT


def start_fails(poshtad, load, *args):
    """Run poshtad on a config loading `load`; return the lines of its
    output that name the failing module's file."""
    poshtad.write_config(poshtad.config(load=load))
    try:
        r = subprocess.run([POSHTAD, *args, "-c", poshtad.conf_path],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("poshtad started with load %s" % " ".join(load))
    assert r.returncode == 1, r.stderr
    return r.stderr


def one_line(output, path):
    lines = [line for line in output.splitlines() if path in line]
    assert len(lines) == 1, "want one line naming %s in:\n%s" % (path,
                                                                  output)
    return lines[0]


def sdk_abi():
    out = subprocess.run([POSHTAD, "-V"], capture_output=True, text=True,
                         timeout=10).stdout
    major, minor = re.search(r"SDK ABI (\d+)\.(\d+)", out).groups()
    return int(major), int(minor)


ABI = sdk_abi()


@pytest.mark.parametrize("args", [("-f",), ("-t",)])
def test_wrong_abi_major(poshtad, sdk, args):
    out = start_fails(poshtad, ["echo", "wrong_abi"], *args)
    line = one_line(out, sdk.module("wrong_abi"))
    assert "wrong_abi" in line.replace(sdk.module("wrong_abi"), "")
    assert "99.0" in line and "%d.%d" % ABI in line


def test_newer_minor(poshtad, sdk):
    line = one_line(start_fails(poshtad, ["new_minor"], "-f"),
                    sdk.module("new_minor"))
    assert "%d.%d" % (ABI[0], ABI[1] + 5) in line and "%d.%d" % ABI in line


def test_no_descriptor(poshtad, sdk):
    line = one_line(start_fails(poshtad, ["no_symbol"], "-f"),
                    sdk.module("no_symbol"))
    assert "no poshta_module symbol" in line


def test_missing_dependency(poshtad, sdk):
    line = one_line(start_fails(poshtad, ["needs_dep"], "-f"),
                    sdk.module("needs_dep"))
    assert "requires module 'not_loaded'" in line


def test_dependency_loaded_too_late(poshtad, sdk):
    line = one_line(start_fails(poshtad, ["echo_filter", "echo"], "-f"),
                    sdk.module("echo_filter"))
    assert "requires module 'echo'" in line


def test_missing_file(poshtad, sdk):
    line = one_line(start_fails(poshtad, ["echo", "does_not_exist"], "-f"),
                    sdk.module("does_not_exist"))
    assert "module 'does_not_exist'" in line
    assert "not found" in line
