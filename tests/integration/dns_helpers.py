"""A throwaway authoritative DNS server for the tests: Debian's dnsmasq on
127.0.0.1, answering from a config written in the test's tmp dir, never
forwarding anywhere. Names under the local zones (test. by default) that
were not declared answer NXDOMAIN at once, a declared name without the
asked type answers NOERROR with no data (RFC 2308 NODATA).

    def test_x(dnsmasq):
        dnsmasq.mx("example.test", "mx1.example.test", 10)
        dnsmasq.a("mx1.example.test", "127.0.0.1")
        dnsmasq.start()
        ... "resolver 127.0.0.1:%d;" % dnsmasq.port ...

query() is a tiny raw DNS client (UDP, RFC 1035 4.1) for the fixture's
self-check and for tests that want to see what the server answers.
Standard library only; every wait is bounded.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import TIMEOUT, free_port, terminate, wait_for

DNSMASQ = os.environ.get("DNSMASQ") or shutil.which(
    "dnsmasq", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

# RFC 1035 3.2.2 and RFC 3596 2.1: the types the fixture declares.
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16,
         "AAAA": 28}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
# RFC 1035 4.1.1 RCODE values.
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split(".") if name.strip(".") else []:
        raw = label.encode("idna" if not label.isascii() else "ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _read_name(msg, off, depth=0):
    """The name at off (RFC 1035 4.1.4 compression followed) and the
    offset after it in the record."""
    labels = []
    end = None
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if depth > 16:
                raise ValueError("compression loop")
            ptr = struct.unpack("!H", msg[off:off + 2])[0] & 0x3FFF
            if end is None:
                end = off + 2
            off = ptr
            depth += 1
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels) + ".", (end if end is not None else off)


def _rdata(msg, rtype, off, rdlen):
    if rtype == TYPES["A"]:
        return socket.inet_ntop(socket.AF_INET, msg[off:off + 4])
    if rtype == TYPES["AAAA"]:
        return socket.inet_ntop(socket.AF_INET6, msg[off:off + 16])
    if rtype == TYPES["MX"]:
        pref = struct.unpack("!H", msg[off:off + 2])[0]
        return (pref, _read_name(msg, off + 2)[0])
    if rtype == TYPES["CNAME"]:
        return _read_name(msg, off)[0]
    return msg[off:off + rdlen]


class Answer:
    """rcode and answer records [(name, type name, data)] of a reply; MX
    data is (preference, host) with host ending in a dot."""

    def __init__(self, msg):
        self.id, flags, qd, an, _, _ = struct.unpack("!6H", msg[:12])
        self.rcode = flags & 0xF
        self.aa = bool(flags & 0x0400)
        off = 12
        for _ in range(qd):
            off = _read_name(msg, off)[1] + 4
        self.records = []
        for _ in range(an):
            name, off = _read_name(msg, off)
            rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            self.records.append((name, TYPE_NAMES.get(rtype, rtype),
                                 _rdata(msg, rtype, off, rdlen)))
            off += rdlen

    def of(self, rtype):
        return [r[2] for r in self.records if r[1] == rtype]

    def __repr__(self):
        return "Answer(rcode=%d, %r)" % (self.rcode, self.records)


def query(port, name, rtype="A", timeout=1.0, host="127.0.0.1"):
    """One UDP query (RD set) to host:port; the Answer, or None when
    nothing came back within timeout seconds."""
    qid = random.randrange(65536)
    msg = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0)
    msg += _encode_name(name) + struct.pack("!HH", TYPES[rtype], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, (host, port))
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return None
            if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                return Answer(data)


def dead_port():
    """A loopback UDP port nobody answers on (for a resolver that times
    out): bound by nobody, and a port the other tests are not handed.
    ICMP port-unreachable makes c-ares try the next try at once, which is
    just as much 'no answer' for its caller."""
    return free_port()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port (UDP and TCP), authoritative for the
    names declared with mx() a() aaaa() null_mx() txt() cname()
    refused() unanswered()
    before start() (or before restart(), to change them)."""

    def __init__(self, root, zones=("test",)):
        if not DNSMASQ:
            pytest.skip("no dnsmasq (apt-get install dnsmasq-base)")
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.conf_path = os.path.join(root, "dnsmasq.conf")
        self.log_path = os.path.join(root, "dnsmasq.log")
        self.zones = list(zones)
        self.port = None
        self.proc = None
        self._logf = None
        self.clear()

    # ---- records -------------------------------------------------------

    def clear(self):
        """Forget every declared record (then declare, then restart)."""
        self.lines = []

    def mx(self, domain, host, pref=10):
        """An MX record domain -> host with preference pref
        (RFC 5321 5.1)."""
        self.lines.append("mx-host=%s,%s,%d" % (domain, host, pref))
        return self

    def null_mx(self, domain):
        """RFC 7505 null MX: the one MX with preference 0 and host "."."""
        return self.mx(domain, ".", 0)

    def a(self, name, address):
        """An A record (dotted quad)."""
        self.lines.append("host-record=%s,%s" % (name, address))
        return self

    def aaaa(self, name, address):
        """An AAAA record (any IPv6 text form)."""
        return self.a(name, address)

    def txt(self, name, text):
        """A TXT record: a name that exists without A, AAAA or MX."""
        self.lines.append('txt-record=%s,"%s"' % (name, text))
        return self

    def cname(self, alias, target):
        """alias CNAME target (target must be declared in this server)."""
        self.lines.append("cname=%s,%s" % (alias, target))
        return self

    def refused(self, domain):
        """Queries for domain and below answer REFUSED at once (a server
        for the domain that is not there: dnsmasq's "server=/d/#" with no
        upstream): a temporary failure for a resolver."""
        self.lines.append("server=/%s/#" % domain)
        return self

    def unanswered(self, domain):
        """Queries for domain and below get no answer at all: dnsmasq
        forwards them to a loopback port nobody answers on (a timeout for
        a resolver; dnsmasq itself gives up silently)."""
        self.lines.append("server=/%s/127.0.0.1#%d" % (domain, dead_port()))
        return self

    def _config(self):
        out = ["# written by tests/integration/dns_helpers.py",
               # Never the system's resolvers, nor /etc/hosts.
               "no-resolv", "no-hosts", "no-poll",
               "listen-address=127.0.0.1", "bind-interfaces",
               # No cache between our records and the answers.
               "cache-size=0", "log-queries"]
        # RFC 1035 4.3.1: names under a local zone are answered here,
        # NXDOMAIN when unknown, never forwarded.
        out += ["local=/%s/" % zone for zone in self.zones]
        return "\n".join(out + self.lines) + "\n"

    # ---- process -------------------------------------------------------

    def start(self):
        """Write the config, start dnsmasq on a free port and wait until it
        answers (bounded by TIMEOUT)."""
        with open(self.conf_path, "w") as f:
            f.write(self._config())
        if self.port is None:
            self.port = free_port()
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [DNSMASQ, "--keep-in-foreground", "--conf-file=" + self.conf_path,
             "--port=%d" % self.port, "--pid-file=", "--user=root",
             "--group=root", "--log-facility=-"],
            stdin=subprocess.DEVNULL, stdout=self._logf,
            stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("dnsmasq exited with %d:\n%s" % (
                    self.proc.returncode, self.log()))
            return query(self.port, "ready.invalid.%s" % self.zones[0],
                         "A", timeout=0.2) is not None
        wait_for("dnsmasq to answer on port %d" % self.port, ready)
        return self

    def stop(self):
        if self.proc is None:
            return
        terminate(self.proc)
        self.proc = None
        self._logf.close()

    def restart(self):
        """Stop, rewrite the config from the records declared now and start
        again on the same port."""
        self.stop()
        return self.start()

    def query(self, name, rtype="A", timeout=1.0):
        return query(self.port, name, rtype, timeout)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


@pytest.fixture
def dnsmasq(tmp_path):
    """A Dnsmasq in the test's tmp dir, stopped after the test."""
    server = Dnsmasq(str(tmp_path / "dnsmasq"))
    yield server
    server.stop()
