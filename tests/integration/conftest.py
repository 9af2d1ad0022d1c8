"""Shared fixtures for the integration tests.

Once per session: install the built tree into a temporary DESTDIR, build
sdk/examples/echo, greylist and xcount (with their own Makefiles) and every
tests/modules/*.c against that installed SDK, and make two self-signed
certificates. Per test: a Poshtad that writes a config, runs `poshtad -f`
on free loopback ports and stops it afterwards, and LineClient to talk to
it. Standard library only; every wait is bounded.
"""

import collections
import glob
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("POSHTA_TOP_SRCDIR") or os.path.dirname(
    os.path.dirname(HERE))
BUILDDIR = os.environ.get("POSHTA_TOP_BUILDDIR") or SRCDIR
POSHTAD = os.environ.get("POSHTAD") or os.path.join(BUILDDIR, "core",
                                                    "poshtad")
TIMEOUT = 10.0  # seconds: the bound on every wait in these tests
TEST_MODULES = os.path.join(SRCDIR, "tests", "modules")
ECHO_SRC = os.path.join(SRCDIR, "sdk", "examples", "echo")
GREYLIST_SRC = os.path.join(SRCDIR, "sdk", "examples", "greylist")
XCOUNT_SRC = os.path.join(SRCDIR, "sdk", "examples", "xcount")


def quote(text):
    """A config string literal for text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The ports free_port() handed out last: the kernel may offer a port again
# as soon as it is closed, before the server that is to take it has bound
# it (two listeners of one config got the same one).
GIVEN_PORTS = collections.deque(maxlen=256)
# tests/integration/run's pytest processes each take ports of their own
# share (POSHTA_TEST_JOB of POSHTA_TEST_JOBS), so two never pick the same.
# Port // 2: Linux gives bind() odd ports.
JOB = int(os.environ.get("POSHTA_TEST_JOB", "0"))
JOBS = int(os.environ.get("POSHTA_TEST_JOBS", "1"))


def free_port():
    for _ in range(10000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in GIVEN_PORTS and port // 2 % JOBS == JOB:
            GIVEN_PORTS.append(port)
            return port
    raise AssertionError("no free port but those just handed out")


def clean_env(**extra):
    """The environment for sub-makes: none of the outer make's flags
    (its jobserver descriptors are not passed on)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update(extra)
    return env


def run(cmd, what, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300, **kw)
    if r.returncode != 0:
        pytest.fail("%s failed (exit %d): %s\n%s" % (
            what, r.returncode, " ".join(cmd), r.stdout[-4000:]))
    return r.stdout


class SDK:
    """The staged install and the modules built against it."""

    def __init__(self, root):
        self.dest = os.path.join(root, "dest")
        self.moduledir = os.path.join(root, "modules")
        os.makedirs(self.moduledir)
        run(["make", "-s", "-C", BUILDDIR, "install", "DESTDIR=" + self.dest],
            "installing the build tree", env=clean_env())
        pcs = glob.glob(os.path.join(self.dest, "**", "poshta-sdk.pc"),
                        recursive=True)
        if not pcs:
            pytest.fail("make install put no poshta-sdk.pc under " + self.dest)
        self.env = clean_env(PKG_CONFIG_PATH=os.path.dirname(pcs[0]),
                             PKG_CONFIG_SYSROOT_DIR=self.dest)
        self.cflags = run(["pkg-config", "--cflags", "poshta-sdk"],
                          "pkg-config", env=self.env).split()

        # The in-tree modules as installed (storage and auth backends).
        for so in glob.glob(os.path.join(self.dest, "**", "poshta",
                                          "modules", "*.so"), recursive=True):
            shutil.copy(so, self.moduledir)

        # The examples, built the way their READMEs say, from a copy (the
        # source tree may be read-only under distcheck).
        for name, src in (("echo", ECHO_SRC), ("greylist", GREYLIST_SRC),
                          ("xcount", XCOUNT_SRC)):
            copy = os.path.join(root, name)
            shutil.copytree(src, copy)
            run(["make", "-C", copy, "install", "CFLAGS=-O2 -g -Werror",
                 "MODULEDIR=" + self.moduledir],
                "building sdk/examples/" + name, env=self.env)

        # Test modules: one .c each, same flags as the example.
        exports = os.path.join(root, "exports.map")
        with open(exports, "w") as f:
            f.write("{ global: poshta_module; local: *; };\n")
        cc = os.environ.get("CC") or "cc"
        self.test_modules = []
        for src in sorted(glob.glob(os.path.join(TEST_MODULES, "*.c"))):
            name = os.path.basename(src)[:-2]
            out = os.path.join(self.moduledir, name + ".so")
            run([cc, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"]
                + self.cflags + ["-I" + ECHO_SRC, "-shared", "-Wl,-z,defs",
                                 "-Wl,--version-script=" + exports,
                                 "-o", out, src],
                "building tests/modules/%s.c" % name, env=self.env)
            self.test_modules.append(name)

    def module(self, name):
        return os.path.join(self.moduledir, name + ".so")


@pytest.fixture(scope="session")
def sdk(tmp_path_factory):
    if not os.access(POSHTAD, os.X_OK):
        pytest.fail("no poshtad at %s (run make first)" % POSHTAD)
    return SDK(str(tmp_path_factory.mktemp("sdk")))


class Certs:
    """Two self-signed EC certificates: the default one for localhost and
    127.0.0.1, and one for other.test that SNI must pick."""

    def __init__(self, root):
        self.cert, self.key = self._make(root, "localhost",
                                         "DNS:localhost,IP:127.0.0.1")
        self.other_cert, self.other_key = self._make(root, "other",
                                                     "DNS:other.test")

    @staticmethod
    def _make(root, name, san):
        cert = os.path.join(root, name + ".crt")
        key = os.path.join(root, name + ".key")
        cn = "other.test" if name == "other" else "localhost"
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san,
             "-keyout", key, "-out", cert], "openssl req " + name)
        return cert, key

    def client_context(self, cafile=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile or self.cert)
        return ctx


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


class LineClient:
    """A CRLF line client with bounded waits, plain or TLS."""

    def __init__(self, sock, timeout=TIMEOUT):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def sendline(self, line):
        self.send(line + "\r\n")

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed; unread: %r" % self.buf)
        self.buf += data

    def readline(self):
        """The next line, without its CR LF."""
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def expect(self, expected):
        line = self.readline()
        assert line == expected, "expected %r, got %r" % (expected, line)
        return line

    def command(self, line, expected):
        self.sendline(line)
        return self.expect(expected)

    def expect_eof(self, timeout=TIMEOUT):
        """The server closes without sending anything more."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLEOFError):
                data = b""
            if not data:
                break
            self.buf += data
        assert self.buf == b"", "unexpected data before close: %r" % self.buf

    def starttls(self, ctx, server_hostname="localhost"):
        assert self.buf == b"", "plaintext after the STARTTLS reply: %r" % (
            self.buf,)
        self.sock = ctx.wrap_socket(self.sock,
                                    server_hostname=server_hostname)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def listening(port, host=None):
    """Whether something listens on port (on host, a dotted quad, when
    given: two servers may listen on one port at 127.0.0.2 and 127.0.0.3),
    from /proc/net/tcp: checking this way opens no connection the server
    would count."""
    want = ":%04X" % port
    if host is not None:
        # /proc/net/tcp shows the address as the host-order hex of the
        # 32-bit word in network order.
        want = "%08X" % struct.unpack("<I", socket.inet_aton(host))[0] + want
    try:
        with open("/proc/net/tcp") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex((host or "127.0.0.1", port)) == 0
    for row in rows:
        fields = row.split()
        if fields[1].endswith(want) and fields[3] == "0A":
            return True
    return False


def children(pid):
    """The child pids of pid (the master's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        pass
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return sorted(found)


def sanitized(program=POSHTAD):
    """True when program links AddressSanitizer's runtime, whose
    quarantine keeps freed memory: RSS bounds mean nothing there."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True,
                         timeout=30).stdout
    return "libasan" in out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def wait_for(what, fn, timeout=TIMEOUT, interval=0.05):
    """Poll fn until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def terminate(proc):
    """SIGTERM proc and wait; SIGKILL after TIMEOUT."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(TIMEOUT)


class Poshtad:
    """One poshtad under test: config, state dir, ports, process, log.
    Its listeners are on host (another loopback address for a second
    server on the same port, e.g. a receiving MX at 127.0.0.2)."""

    def __init__(self, sdk, certs, root, host="127.0.0.1"):
        self.host = host
        self.sdk = sdk
        self.certs = certs
        self.root = root
        self.state = os.path.join(root, "state")
        os.makedirs(self.state)
        self.conf_path = os.path.join(root, "poshta.conf")
        self.log_path = os.path.join(root, "poshtad.log")
        self.ports = {}
        self.proc = None
        self._logf = None
        self._workers = []

    # ---- config --------------------------------------------------------

    def config(self, load=("echo",), listen=None, workers=1, tls=False,
               body="", log_level="info", top=""):
        """Config text. listen maps a listen block name to its directives
        ({"tls": "implicit", "prefix": quote("> ")}); protocol defaults to
        echo. tls adds a top-level tls block with both certificates. Ports
        stay the same for a name across calls (for reloads)."""
        out = [
            "# written by tests/integration/conftest.py",
            "workers %d;" % workers,
            "state_dir %s;" % quote(self.state),
            "module_dir %s;" % quote(self.sdk.moduledir),
            "pid_file %s;" % quote(os.path.join(self.root, "poshtad.pid")),
            "log_level %s;" % log_level,
            "hostname localhost;",
            "shutdown_timeout 5s;",
        ]
        if load:
            out.append("load %s;" % " ".join(load))
        if top:
            out.append(top)
        if tls:
            out += [
                "tls {",
                "\tcertificate %s;" % quote(self.certs.cert),
                "\tkey %s;" % quote(self.certs.key),
                "\tcertificate %s;" % quote(self.certs.other_cert),
                "\tkey %s;" % quote(self.certs.other_key),
                "}",
            ]
        for name, opts in (listen if listen is not None
                           else {"echo": {}}).items():
            if name not in self.ports:
                self.ports[name] = free_port()
            port = self.ports[name]
            out.append("listen %s %s:%d {" % (name, self.host, port))
            opts = dict(opts)
            out.append("\tprotocol %s;" % opts.pop("protocol", "echo"))
            for key, value in opts.items():
                out.append("\t%s %s;" % (key, value))
            out.append("}")
        if body:
            out.append(body)
        return "\n".join(out) + "\n"

    def write_config(self, text, path=None):
        with open(path or self.conf_path, "w") as f:
            f.write(text)
        return path or self.conf_path

    def check(self, text=None, path=None):
        """Run `poshtad -t` on text (or path); returns the CompletedProcess."""
        if text is not None:
            path = self.write_config(text, path)
        return subprocess.run([POSHTAD, "-t", "-c", path or self.conf_path],
                              stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TIMEOUT)

    # ---- process -------------------------------------------------------

    def start(self, text=None, **kw):
        """Write the config (text, or config(**kw)) and start poshtad -f;
        return once every listener is listening and the workers forked."""
        self.write_config(text if text is not None else self.config(**kw))
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [POSHTAD, "-f", "-c", self.conf_path], stdin=subprocess.DEVNULL,
            stdout=self._logf, stderr=subprocess.STDOUT)
        want = kw.get("workers", 1)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("poshtad exited with %d:\n%s" % (
                    self.proc.returncode, self.log()))
            host = None if self.host == "127.0.0.1" else self.host
            return (all(listening(p, host) for p in self.ports.values())
                    and len(self.workers()) >= want)
        wait_for("poshtad to listen", ready)
        return self

    def workers(self):
        if self.proc is None or self.proc.poll() is not None:
            return []
        self._workers = children(self.proc.pid)
        return self._workers

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM, wait (SIGKILL after TIMEOUT); returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.workers()
            terminate(self.proc)
        # Workers must not outlive their master; reap any that would.
        for pid in self._workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._logf.close()
        return self.proc.returncode

    def kill_all(self):
        """kill -9 the master and every worker (a crash of everything),
        reap the master and wait until the workers are gone."""
        workers = self.workers()
        for pid in [self.proc.pid] + workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(TIMEOUT)
        for pid in workers:
            # Not our children: wait until they are gone (or zombies).
            deadline = time.monotonic() + TIMEOUT
            while os.path.exists("/proc/%d" % pid):
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                            break
                except OSError:
                    break
                assert time.monotonic() < deadline, "worker %d lives" % pid
                time.sleep(0.01)
        self._logf.close()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=TIMEOUT):
        """The first match of the regex pattern in the log, waiting for it."""
        rx = re.compile(pattern)
        try:
            return wait_for("log line /%s/" % pattern,
                            lambda: rx.search(self.log()), timeout)
        except AssertionError:
            raise AssertionError("no /%s/ in the log:\n%s" % (
                pattern, self.log()[-4000:])) from None

    # ---- clients -------------------------------------------------------

    def connect(self, name="echo", ctx=None, server_hostname="localhost",
                rcvbuf=None, sndbuf=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        sock.settimeout(TIMEOUT)
        sock.connect((self.host, self.ports[name]))
        if ctx is not None:
            sock = ctx.wrap_socket(sock, server_hostname=server_hostname)
        return LineClient(sock)


# Reports of sanitizer builds (configure --enable-asan --enable-ubsan): a
# worker that hit one may have been replaced without any test noticing.
SANITIZER_REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")


@pytest.fixture
def poshtad(sdk, certs, tmp_path):
    server = Poshtad(sdk, certs, str(tmp_path))
    yield server
    server.stop()
    report = SANITIZER_REPORT.search(server.log())
    assert not report, "sanitizer report in the log:\n" + server.log()[
        max(0, report.start() - 200):report.start() + 3000]
