"""Modules link against nothing of the core: `nm -D` of echo.so and of
every test module shows only libc imports and exports only poshta_module;
a module that calls a core function directly fails to link."""

import glob
import os
import subprocess

import pytest

from conftest import ECHO_SRC, POSHTAD, TEST_MODULES

MODULES = ["echo"] + sorted(os.path.basename(p)[:-2] for p in
                            glob.glob(os.path.join(TEST_MODULES, "*.c")))


def nm(path, *opts):
    """[(type, name, version)] of the dynamic symbols nm lists."""
    out = subprocess.run(["nm", "-D", *opts, path], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    syms = []
    for line in out.splitlines():
        fields = line.split()
        kind, sym = fields[-2], fields[-1]
        name, _, version = sym.partition("@")
        syms.append((kind, name, version.lstrip("@")))
    return syms


@pytest.fixture(scope="module")
def core_symbols():
    return {name for _, name, _ in nm(POSHTAD, "--defined-only")}


@pytest.mark.parametrize("name", MODULES)
def test_exports_only_the_descriptor(sdk, name):
    exported = sorted(n for _, n, _ in nm(sdk.module(name), "--defined-only"))
    assert exported == ([] if name == "no_symbol" else ["poshta_module"])


@pytest.mark.parametrize("name", MODULES)
def test_imports_only_libc(sdk, core_symbols, name):
    for kind, sym, version in nm(sdk.module(name), "--undefined-only"):
        assert not sym.startswith("ps_"), sym
        assert sym not in core_symbols, sym
        # Strong imports must come from glibc; weak ones (__gmon_start__,
        # the TM clone tables) are the toolchain's and may stay unresolved.
        assert kind == "w" or version.startswith("GLIBC_"), (sym, version)


def test_core_symbol_fails_to_link(sdk, tmp_path):
    src = tmp_path / "stray.c"
    src.write_text(
        "#include <poshta/poshta.h>\n"
        "/* From core/module.h: not part of the SDK. */\n"
        "struct ps_module_ctx *ps_module_find(const char *name);\n"
        "static int\nstray_init(struct ps_error *err)\n{\n"
        "\t(void)err;\n\treturn ps_module_find(\"echo\") ? 0 : -1;\n}\n"
        "PS_MODULE_DEFINE(.name = \"stray\", .init = stray_init);\n")
    base = ["cc", "-std=gnu11", *sdk.cflags, "-shared", "-o",
            str(tmp_path / "stray.so"), str(src)]
    # Without -z defs the mistake links silently; with it, it cannot.
    assert subprocess.run(base, capture_output=True,
                          timeout=60).returncode == 0
    r = subprocess.run(base + ["-Wl,-z,defs"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "ps_module_find" in r.stderr


def test_sdk_headers_compile_strict(sdk, tmp_path):
    src = tmp_path / "strict.c"
    src.write_text("#include <poshta/poshta.h>\n"
                   "#include \"echo.h\"\n"
                   "PS_MODULE_DEFINE(.name = \"strict\", .version = \"0\");\n")
    r = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic",
                        "-Wshadow", "-Wstrict-prototypes", "-Werror",
                        *sdk.cflags, "-I" + ECHO_SRC, "-c", "-o",
                        str(tmp_path / "strict.o"), str(src)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
