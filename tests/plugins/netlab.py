"""Helpers for the plugin tests: throw-away network namespaces with unique
names, the C test driver run inside one, sockets opened inside a namespace,
and hand-built IPv4 packets (so the peer is independent of mipd's code)."""
import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import struct
import subprocess
import tempfile
import time

CLONE_NEWNET = 0x40000000

# The test network (see netns_test.py's docstring).
COA, GW, STRANGER = "192.0.2.10", "192.0.2.254", "192.0.2.66"
HA, HA_GW = "198.51.100.1", "198.51.100.254"
HOME, CN = "198.18.0.50", "203.0.113.10"
_libc = ctypes.CDLL(None, use_errno=True)


class Skip(Exception):
    """The test cannot run here (exit 77)."""


class Lab:
    """Namespaces, veths and processes of one test run; cleanup() removes all
    of them, and only them (names carry a random tag, PIDs are recorded)."""

    def __init__(self):
        self.tag = os.urandom(3).hex()
        self.prefix = f"miptt-{self.tag}"
        self.namespaces = []
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix=f"{self.prefix}-")
        self._veths = 0

    def ns(self, short):
        return f"{self.prefix}-{short}"

    def add_ns(self, short):
        name = self.ns(short)
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.ip(short, "link", "set", "lo", "up")
        return name

    def ip(self, short, *args, check=True):
        return run(["ip", "-n", self.ns(short), *args], check=check)

    def ipj(self, short, *args):
        out = run(["ip", "-j", "-n", self.ns(short), *args]).stdout
        return json.loads(out) if out.strip() else []

    def sh(self, short, *cmd, check=True, timeout=30):
        return run(["ip", "netns", "exec", self.ns(short), *cmd], check=check, timeout=timeout)

    def sysctl(self, short, key, value=None):
        path = "/proc/sys/" + key.replace(".", "/")
        if value is None:
            return self.sh(short, "cat", path).stdout.strip()
        self.sh(short, "sh", "-c", f"echo {value} > {path}")
        return None

    def veth(self, a_short, a_name, b_short, b_name):
        # Made in the root namespace under tagged names, moved at once.
        self._veths += 1
        ta, tb = f"mt{self.tag}{self._veths}a", f"mt{self.tag}{self._veths}b"
        run(["ip", "link", "add", ta, "type", "veth", "peer", "name", tb])
        run(["ip", "link", "set", ta, "netns", self.ns(a_short)])
        run(["ip", "link", "set", tb, "netns", self.ns(b_short)])
        self.ip(a_short, "link", "set", ta, "name", a_name)
        self.ip(b_short, "link", "set", tb, "name", b_name)
        self.ip(a_short, "link", "set", a_name, "up")
        self.ip(b_short, "link", "set", b_name, "up")

    def popen(self, short, cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(short), *cmd], **kw)
        self.procs.append(p)
        return p

    def driver(self, short, name="driver"):
        return Driver(self, short, name)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)
        # Veths not yet moved (a failure half way) carry our tag.
        for i in range(1, self._veths + 1):
            run(["ip", "link", "del", f"mt{self.tag}{i}a"], check=False)
        run(["rm", "-rf", self.tmp], check=False)


def run(cmd, check=True, timeout=30):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


class Driver:
    """tests/plugins/driver.c inside a namespace: one command, one answer."""

    def __init__(self, lab, short, name):
        self.lab = lab
        self.errpath = os.path.join(lab.tmp, f"{name}.stderr")
        self.err = open(self.errpath, "w")
        exe = os.environ["MIP_PLUGINS_DRIVER"]
        self.p = lab.popen(short, [exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=self.err, text=True, bufsize=1)
        first = self._readline(10)
        if first != "ready":
            raise RuntimeError(f"driver did not start: {first!r} {self.stderr()}")

    def _readline(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            raise RuntimeError(f"driver did not answer in {timeout}s; stderr: {self.stderr()}")
        return self.p.stdout.readline().rstrip("\n")

    def cmd(self, line, timeout=15):
        """(ok, rest) for one command."""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ans = self._readline(timeout)
        if ans.startswith("ok"):
            return True, ans[3:]
        if ans.startswith("error"):
            return False, ans[6:]
        raise RuntimeError(f"odd answer {ans!r} to {line!r}; stderr: {self.stderr()}")

    def ok(self, line, timeout=15):
        good, rest = self.cmd(line, timeout)
        if not good:
            raise AssertionError(f"{line!r} failed: {rest}")
        return rest

    def stats(self):
        return json.loads(self.ok("stats"))

    def stderr(self):
        self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def quit(self):
        """Frees everything; the driver must exit 0 (sanitizers report here)."""
        self.ok("quit")
        rc = self.p.wait(timeout=20)
        if rc != 0:
            raise AssertionError(f"driver exited {rc}: {self.stderr()}")

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=10)

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def in_netns(ns):
    """Runs the body with this thread in namespace ns: sockets made there
    stay there."""
    mine = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        _libc.setns(mine, CLONE_NEWNET)
        os.close(mine)
        os.close(target)


def ns_socket(ns, family, kind, proto=0):
    with in_netns(ns):
        return socket.socket(family, kind, proto)


def topology(lab, home=False):
    for n in ("mn", "rt", "ha"):
        lab.add_ns(n)
    lab.veth("mn", "mn0", "rt", "r0")
    lab.veth("rt", "r1", "ha", "ha0")
    lab.ip("mn", "addr", "add", f"{COA}/24", "dev", "mn0")
    lab.ip("rt", "addr", "add", f"{GW}/24", "dev", "r0")
    lab.ip("rt", "addr", "add", f"{STRANGER}/24", "dev", "r0")
    lab.ip("rt", "addr", "add", f"{HA_GW}/24", "dev", "r1")
    lab.ip("ha", "addr", "add", f"{HA}/24", "dev", "ha0")
    lab.sysctl("rt", "net.ipv4.ip_forward", 1)
    lab.ip("mn", "route", "add", "default", "via", GW)
    lab.ip("ha", "route", "add", "default", "via", HA_GW)
    if home:
        lab.add_ns("home")
        lab.veth("mn", "home0", "home", "h0")
        lab.ip("home", "addr", "add", "198.18.0.254/24", "dev", "h0")


# ---- packets ---------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def aton(a):
    return socket.inet_aton(a)


def ipv4(src, dst, proto, payload, tos=0, ttl=64, ident=0x4242, flags=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident, flags, ttl, proto, 0,
                    aton(src), aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def icmp_echo(ident, seq, data, kind=8):
    m = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def parse_ipv4(b):
    ihl = (b[0] & 15) * 4
    tot = struct.unpack("!H", b[2:4])[0]
    return {"ihl": ihl, "tos": b[1], "ttl": b[8], "proto": b[9],
            "src": socket.inet_ntoa(b[12:16]), "dst": socket.inet_ntoa(b[16:20]),
            "header": b[:ihl], "payload": b[ihl:tot], "csum_ok": csum(b[:ihl]) == 0}


def minimal_encap(inner, src, dst):
    """RFC 2004 as an independent home agent would do it: modified header
    plus a 12-byte forwarding header (S set)."""
    p = parse_ipv4(inner)
    fwd = struct.pack("!BBH4s4s", p["proto"], 0x80, 0, aton(p["dst"]), aton(p["src"]))
    fwd = fwd[:2] + struct.pack("!H", csum(fwd)) + fwd[4:]
    h = bytearray(p["header"])
    h[9] = 55
    h[2:4] = struct.pack("!H", len(inner) + 12)
    h[12:16] = aton(src)
    h[16:20] = aton(dst)
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", csum(bytes(h)))
    return bytes(h) + fwd + inner[p["ihl"]:]


def minimal_decap(outer):
    """The inner packet of a minimal-encapsulated one, checking the
    forwarding header's checksum."""
    p = parse_ipv4(outer)
    fwd = p["payload"][:12 if p["payload"][1] & 0x80 else 8]
    if csum(fwd) != 0:
        raise AssertionError("minimal forwarding header checksum is wrong")
    src = socket.inet_ntoa(fwd[8:12]) if len(fwd) == 12 else p["src"]
    return ipv4(src, socket.inet_ntoa(fwd[4:8]), fwd[0], p["payload"][len(fwd):], tos=p["tos"],
                ttl=p["ttl"], flags=0)


def recv_until(sock, timeout, pred):
    """The first datagram on sock for which pred(data) is true, or None."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if r:
            data = sock.recv(65535)
            if pred(data):
                return data
