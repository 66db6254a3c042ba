"""I/O plumbing shared by the lab's agents: a poll-based event loop with
timers, TUN devices, raw and packet sockets (with classic BPF filters), `ip`
and sysctl helpers that remember what they changed, and the request log."""

import errno
import fcntl
import heapq
import itertools
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

IP_PKTINFO = 8
SO_ATTACH_FILTER = 26
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


# ---------------------------------------------------------------- event loop

class Loop:
    """One thread, poll(), monotonic timers; SIGTERM/SIGINT stop it."""

    def __init__(self):
        self._poll = select.poll()
        self._readers = {}
        self._timers = []
        self._seq = itertools.count()
        self._cancelled = set()
        self.running = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.add_reader(self._wake_r.fileno(), self._drain_wake)
        self.stop_reason = None
        self.on_error = None  # callable(exc, where): a failing callback must not kill the agent

    def _call(self, cb, args, where):
        try:
            cb(*args)
        except Exception as e:
            if self.on_error is None:
                raise
            self.on_error(e, where)

    def _drain_wake(self):
        try:
            while self._wake_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def install_signal_handlers(self):
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)

        def handler(signum, _frame):
            self.stop("signal %d" % signum)
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def add_reader(self, fd, callback):
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._readers[fd] = callback
        self._poll.register(fd, select.POLLIN)

    def remove_reader(self, fd):
        fd = fd if isinstance(fd, int) else fd.fileno()
        if self._readers.pop(fd, None) is not None:
            self._poll.unregister(fd)

    def call_later(self, delay, callback, *args):
        handle = next(self._seq)
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay), handle, callback, args))
        return handle

    def cancel(self, handle):
        if handle is not None:
            self._cancelled.add(handle)

    def stop(self, reason="stop"):
        self.stop_reason = reason
        self.running = False

    def run(self):
        self.running = True
        while self.running:
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, handle, cb, args = heapq.heappop(self._timers)
                if handle in self._cancelled:
                    self._cancelled.discard(handle)
                    continue
                self._call(cb, args, "timer %s" % getattr(cb, "__name__", cb))
                if not self.running:
                    return
            timeout = 1000
            if self._timers:
                timeout = max(0, min(timeout, int((self._timers[0][0] - time.monotonic()) * 1000) + 1))
            try:
                events = self._poll.poll(timeout)
            except InterruptedError:
                continue
            for fd, ev in events:
                cb = self._readers.get(fd)
                if cb is not None:
                    self._call(cb, (), "reader %s" % getattr(cb, "__name__", cb))
                if not self.running:
                    return


# ---------------------------------------------------------------- system changes

class System:
    """Runs `ip` and writes sysctls, remembering every change so cleanup()
    can undo them in reverse order (routes, rules, proxy ARP, TUNs, sysctls)."""

    def __init__(self, log):
        self.log = log
        self._undo = []  # (key, argv or callable)

    def ip(self, *args, check=True):
        argv = ["ip"] + [str(a) for a in args]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0 and check:
            raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
        return r

    def ip_change(self, do, undo, key=None):
        """Apply `ip do...` and remember `ip undo...` (keyed, so forget(key)
        undoes it early)."""
        self.ip(*do)
        self._undo.append((key or tuple(do), list(undo)))

    def undo(self, key):
        """Undo (now) every remembered change registered under key."""
        keep = []
        for k, u in self._undo:
            if k == key:
                self._run_undo(u)
            else:
                keep.append((k, u))
        self._undo = keep

    def has(self, key):
        return any(k == key for k, _ in self._undo)

    def _run_undo(self, u):
        try:
            if callable(u):
                u()
            else:
                self.ip(*u, check=False)
        except Exception as e:  # cleanup must go on
            self.log.event("cleanup-error", error=str(e))

    def sysctl(self, name, value):
        path = "/proc/sys/" + name.replace(".", "/")
        with open(path) as f:
            old = f.read().strip()
        if old != str(value):
            with open(path, "w") as f:
                f.write(str(value))
            self._undo.append((("sysctl", name), lambda p=path, o=old: _write(p, o)))

    def on_cleanup(self, key, fn):
        self._undo.append((key, fn))

    def cleanup(self):
        while self._undo:
            _, u = self._undo.pop()
            self._run_undo(u)


def _write(path, value):
    with open(path, "w") as f:
        f.write(value)


def iface_mac(ifname):
    with open("/sys/class/net/%s/address" % ifname) as f:
        return f.read().strip()


def iface_index(ifname):
    return socket.if_nametoindex(ifname)


# ---------------------------------------------------------------- sockets

def open_tun(name, system, mtu=1500):
    """Create TUN `name` (IFF_TUN|IFF_NO_PI), bring it up; returns the fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    ifr = struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    system.ip("link", "set", "dev", name, "mtu", mtu, "up")
    system.on_cleanup(("tun", name), lambda: os.close(fd))
    return fd


def raw_socket(proto, bind_addr=None, rcvbuf=4 << 20, device=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, rcvbuf)
    if device:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    if bind_addr:
        s.bind((bind_addr, 0))
    s.setblocking(False)
    return s


def udp_socket(addr, port, rcvbuf=4 << 20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind((addr, port))
    s.setblocking(False)
    return s


def recv_pktinfo(s, size=65535):
    """recvmsg with IP_PKTINFO: (data, (addr, port), ifindex, local_dst)."""
    data, anc, _flags, src = s.recvmsg(size, socket.CMSG_SPACE(12))
    ifindex, dst = 0, None
    for level, typ, cdata in anc:
        if level == socket.IPPROTO_IP and typ == IP_PKTINFO and len(cdata) >= 12:
            ifindex = struct.unpack("I", cdata[:4])[0]
            dst = socket.inet_ntoa(cdata[8:12])
    return data, src, ifindex, dst


def bpf_program(instructions):
    """Pack a list of (code, jt, jf, k) classic BPF instructions."""
    import ctypes
    buf = b"".join(struct.pack("HBBI", *i) for i in instructions)
    cbuf = ctypes.create_string_buffer(buf, len(buf))
    prog = struct.pack("HL", len(instructions), ctypes.addressof(cbuf))
    return prog, cbuf  # keep cbuf alive until setsockopt returns


# BPF opcodes used below.
_LDB_ABS = 0x30
_LDH_ABS = 0x28
_LDW_ABS = 0x20
_LDXB_MSH = 0xB1
_LDH_IND = 0x48
_LDB_IND = 0x50
_JEQ_K = 0x15
_JSET_K = 0x45
_RET_K = 0x06


# AF_PACKET SOCK_DGRAM filter (offsets from the IP header): accept
# unfragmented UDP to port 434 and ICMP type 10 (agent solicitations).
BPF_MIP_AND_SOLICIT = [
    (_LDB_ABS, 0, 0, 9),           # 0 A = ip proto
    (_JEQ_K, 0, 5, 17),            # 1 udp ? 2 : 7
    (_LDH_ABS, 0, 0, 6),           # 2 A = flags/frag
    (_JSET_K, 9, 0, 0x1FFF),       # 3 fragment offset ? drop(13) : 4
    (_LDXB_MSH, 0, 0, 0),          # 4 X = ihl
    (_LDH_IND, 0, 0, 2),           # 5 A = udp dport
    (_JEQ_K, 8, 7, 434),           # 6 434 ? accept(15) : drop(14)
    (_JEQ_K, 0, 6, 1),             # 7 icmp ? 8 : drop(14)
    (_LDH_ABS, 0, 0, 6),           # 8 A = flags/frag
    (_JSET_K, 4, 0, 0x1FFF),       # 9 fragment ? drop(14) : 10
    (_LDXB_MSH, 0, 0, 0),          # 10 X = ihl
    (_LDB_IND, 0, 0, 0),           # 11 A = icmp type
    (_JEQ_K, 2, 1, 10),            # 12 type 10 ? accept(15) : drop(14)
    (_RET_K, 0, 0, 0),             # 13 drop
    (_RET_K, 0, 0, 0),             # 14 drop
    (_RET_K, 0, 0, 0xFFFF),        # 15 accept
]


def bpf_ip_dst_in(addresses):
    """Accept IP packets whose destination is one of addresses."""
    prog = [(_LDW_ABS, 0, 0, 16)]
    n = len(addresses)
    for i, a in enumerate(addresses):
        k = struct.unpack("!I", socket.inet_aton(a))[0]
        # jump to accept (at index 1+n+1) when equal
        prog.append((_JEQ_K, n - i, 0, k))
    prog.append((_RET_K, 0, 0, 0))
    prog.append((_RET_K, 0, 0, 0xFFFF))
    return prog


def packet_socket(ifname, proto=ETH_P_IP, bpf=None, rcvbuf=1 << 20):
    """AF_PACKET SOCK_DGRAM socket on ifname; recvfrom gives the sender MAC."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(proto))
    if bpf is not None:
        prog, keep = bpf_program(bpf)
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
        del keep
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((ifname, proto))
    s.setblocking(False)
    return s


def send_link(s, ifname, proto, mac, payload):
    """Send payload (an IP packet or ARP) to mac on ifname."""
    s.sendto(payload, (ifname, proto, 0, 0, bytes.fromhex(mac.replace(":", ""))))


def drain(sock_or_fd, handler, limit=256, size=65535):
    """Read up to limit datagrams without blocking, calling handler(data, addr)."""
    for _ in range(limit):
        try:
            if isinstance(sock_or_fd, int):
                data, addr = os.read(sock_or_fd, size), None
            else:
                data, addr = sock_or_fd.recvfrom(size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.ENOPROTOOPT, errno.ECONNREFUSED,
                           errno.EHOSTUNREACH, errno.ENETUNREACH):
                if e.errno == errno.EAGAIN:
                    return
                continue
            raise
        handler(data, addr)


# ---------------------------------------------------------------- log

class Log:
    """One JSON object per line: every request, reply and notable event."""

    def __init__(self, path, name):
        self.name = name
        self.f = open(path, "a", buffering=1) if path else sys.stderr
        self.errors = 0

    def internal_error(self, exc, where):
        """Log a bug with its traceback (also to stderr) and carry on."""
        import traceback
        self.errors += 1
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        self.event("internal-error", where=where, error="%s: %s" % (type(exc).__name__, exc),
                   traceback="".join(tb))
        sys.stderr.write("".join(tb))
        sys.stderr.flush()

    def event(self, kind, **fields):
        rec = {"t": round(time.time(), 6), "agent": self.name, "event": kind}
        rec.update(fields)
        self.f.write(json.dumps(rec, sort_keys=False, default=str) + "\n")
