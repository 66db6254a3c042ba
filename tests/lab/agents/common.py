"""Pieces both agents share: configuration loading, counters, fault knobs,
the agent-advertisement sender/solicitation answerer (RFC 1256 + RFC 5944
section 2), the link-layer sniffer that learns a request's sender MAC, and
the control commands common to both agents."""

import collections
import ipaddress
import json
import os
import random
import socket
import struct
import time

import mipwire as w
import netio

SOL_RAW = 255
ICMP_FILTER = 1
PACKET_OUTGOING = 4


def load_config(path, defaults, required):
    with open(path) as f:
        cfg = json.load(f)
    missing = [k for k in required if k not in cfg]
    if missing:
        raise SystemExit("%s: missing keys %s" % (path, ", ".join(missing)))
    out = dict(defaults)
    out.update(cfg)
    return out


class Counters:
    """Nested counters rendered as plain JSON."""

    def __init__(self):
        self.c = collections.Counter()
        self.denied = collections.Counter()

    def inc(self, key, n=1):
        self.c[key] += n

    def deny(self, code):
        self.denied[str(code)] += 1

    def snapshot(self):
        d = dict(self.c)
        d["denied"] = dict(self.denied)
        return d

    def reset(self):
        self.c.clear()
        self.denied.clear()


class Faults:
    """Fault knobs driven from the control socket."""

    def __init__(self):
        self.drop_requests = 0
        self.force_code = None
        self.force_count = 0
        self.delay = 0.0
        self.silent = False

    def take_drop(self):
        if self.drop_requests > 0:
            self.drop_requests -= 1
            return True
        return False

    def take_force(self):
        if self.force_code is None or self.force_count == 0:
            return None
        if self.force_count > 0:
            self.force_count -= 1
        code = self.force_code
        if self.force_count == 0:
            self.force_code = None
        return code

    def snapshot(self):
        return {"drop_requests": self.drop_requests, "force_code": self.force_code,
                "force_count": self.force_count, "delay_replies": self.delay,
                "silent": self.silent}

    def command(self, req):
        """Handle a fault command; returns the answer or None if not ours."""
        cmd = req["cmd"]
        if cmd == "drop_requests":
            self.drop_requests = int(req.get("count", req.get("n", 1)))
        elif cmd == "force_code":
            code = req.get("code")
            if code is None:
                self.force_code, self.force_count = None, 0
            else:
                code = int(code)
                if not 0 <= code <= 255:
                    raise ValueError("code must be 0..255")
                self.force_code, self.force_count = code, int(req.get("count", 1))
        elif cmd == "delay_replies":
            self.delay = float(req.get("seconds", req.get("delay", 0.0)))
            if self.delay < 0:
                raise ValueError("seconds must be >= 0")
        elif cmd == "silent":
            on = req.get("on", True)
            if isinstance(on, str):
                on = on.lower() in ("on", "true", "1", "yes")
            self.silent = bool(on)
        elif cmd == "clear_faults":
            self.__init__()
        else:
            return None
        return {"faults": self.snapshot()}


class Sniffer:
    """AF_PACKET view of the agent's link: learns the MAC each registration
    request came from (the UDP socket cannot say) and hands solicitations,
    with their MAC, to a callback."""

    def __init__(self, loop, ifname, on_solicit=None):
        self.ifname = ifname
        self.sock = netio.packet_socket(ifname, netio.ETH_P_IP, netio.BPF_MIP_AND_SOLICIT)
        self.send_sock = netio.packet_socket(ifname, netio.ETH_P_IP, bpf=[(0x06, 0, 0, 0)])
        self.arp_sock = netio.packet_socket(ifname, netio.ETH_P_ARP, bpf=[(0x06, 0, 0, 0)])
        self.on_solicit = on_solicit
        self.macs = collections.OrderedDict()
        loop.add_reader(self.sock, self.drain)

    def drain(self):
        netio.drain(self.sock, self._frame)

    def _frame(self, data, addr):
        if addr[2] == PACKET_OUTGOING:
            return
        mac = addr[4].hex(":")
        try:
            ip = w.parse_ipv4(data)
        except w.WireError:
            return
        if ip.proto == 17:
            try:
                sport, _dport, payload = w.parse_udp(ip, verify=False)
            except w.WireError:
                return
            self.macs[(ip.src, sport, payload)] = mac
            while len(self.macs) > 512:
                self.macs.popitem(last=False)
        elif ip.proto == 1 and self.on_solicit is not None:
            try:
                t, _code = w.parse_icmp(ip.payload)
            except w.WireError:
                return
            if t == w.ICMP_ROUTER_SOLICIT:
                self.on_solicit(ip, mac)

    def mac_of(self, src, payload):
        """The MAC of the frame that carried this UDP payload from src, if seen."""
        self.drain()
        return self.macs.get((src[0], src[1], bytes(payload)))

    def send_ip(self, mac, packet):
        netio.send_link(self.send_sock, self.ifname, netio.ETH_P_IP, mac, packet)

    def send_arp(self, payload, mac="ff:ff:ff:ff:ff:ff"):
        netio.send_link(self.arp_sock, self.ifname, netio.ETH_P_ARP, mac, payload)

    def close(self):
        for s in (self.sock, self.send_sock, self.arp_sock):
            s.close()


class Advertiser:
    """Periodic ICMP agent advertisements (TTL 1) and answers to
    solicitations.  Sequence numbers start at 0 and wrap from 0xffff to 256
    (RFC 5944 2.1.1) so a node can tell a reboot (sequence < 256) from a wrap."""

    def __init__(self, loop, sniffer, counters, faults, log, ifname, address, interval,
                 lifetime, reg_lifetime, flags, coas, prefix_length, dest="224.0.0.1",
                 challenge=False, pad=False, flags2=0, solicit_reply="unicast",
                 enabled=True, preference=0):
        self.loop = loop
        self.sniffer = sniffer
        self.counters = counters
        self.faults = faults
        self.log = log
        self.ifname = ifname
        self.address = address
        self.interval = interval
        self.lifetime = lifetime
        self.reg_lifetime = reg_lifetime
        self.flags = flags
        self.flags2 = flags2
        self.coas = list(coas)
        self.prefix_length = prefix_length
        self.dest = dest
        self.pad = pad
        self.preference = preference
        self.challenge_on = challenge
        self.challenges = collections.deque(maxlen=64)  # (bytes, monotonic sent)
        self.solicit_reply = solicit_reply
        self.enabled = enabled
        self.seq = 0
        self.last_sent = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        # Send-only: block every ICMP type from queueing on this socket.
        self.sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", 0xFFFFFFFF))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
        mreqn = struct.pack("4s4si", socket.inet_aton("224.0.0.11"), socket.inet_aton(address),
                            netio.iface_index(ifname))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        self.sock.bind((address, 0))
        self.timer = None
        if enabled:
            self.timer = loop.call_later(0.05, self._tick)

    def next_seq(self):
        s = self.seq
        self.seq = 256 if self.seq >= 0xFFFF else self.seq + 1
        return s

    def reset_sequence(self, to=0):
        """Restart at `to` (0 = like a reboot; other values let tests reach
        the wrap quickly)."""
        if not 0 <= to <= 0xFFFF:
            raise ValueError("sequence number must be 0..65535")
        self.seq = to

    def _challenge(self):
        if not self.challenge_on:
            return None
        c = os.urandom(16)
        self.challenges.append((c, time.monotonic()))
        return c

    def check_challenge(self, value, window):
        """0 when value is one of the last `window` challenges, else the
        RFC 3012 code: 104 unknown, 106 stale."""
        recent = list(self.challenges)[-window:]
        if any(c == value for c, _ in recent):
            return 0
        if any(c == value for c, _ in self.challenges):
            return 106
        return 104

    def build(self):
        seq = self.next_seq()
        msg = w.build_agent_advertisement(
            [(self.address, self.preference)], self.lifetime, seq, self.reg_lifetime,
            self.flags, self.coas, [self.prefix_length], challenge=self._challenge(),
            flags2=self.flags2, pad=self.pad)
        return seq, msg

    def set_interval(self, seconds):
        """New period, effective now (the next advertisement is due in
        `seconds`, not at the end of the old period)."""
        if seconds <= 0:
            raise ValueError("adv_interval must be > 0")
        self.interval = seconds
        self.loop.cancel(self.timer)
        self.timer = self.loop.call_later(seconds, self._tick)

    def _tick(self):
        self.timer = self.loop.call_later(self.interval, self._tick)
        if self.faults.silent or not self.enabled:
            return
        self.send_multicast("periodic")

    def send_multicast(self, why):
        seq, msg = self.build()
        try:
            self.sock.sendto(msg, (self.dest, 0))
        except OSError as e:
            self.log.event("advert-error", error=str(e))
            return
        self.counters.inc("advertisements_sent")
        self.last_sent = {"seq": seq, "time": time.time(), "why": why, "dest": self.dest}

    def on_solicit(self, ip, mac):
        self.counters.inc("solicitations_received")
        if self.faults.silent or not self.enabled:
            return
        net = ipaddress.ip_network("%s/%d" % (self.address, self.prefix_length), strict=False)
        src = ip.src
        if self.solicit_reply == "multicast" or src == "0.0.0.0":
            self.send_multicast("solicited")
        else:
            # Unicast to the soliciting node at link layer: its source may be a
            # home address that is not on this link (RFC 5944 2.4 / 3.7.2.3).
            seq, msg = self.build()
            pkt = w.build_ipv4(self.address, src, 1, msg, ttl=1,
                               ident=random.randrange(65536))
            self.sniffer.send_ip(mac, pkt)
            self.counters.inc("advertisements_sent")
            self.last_sent = {"seq": seq, "time": time.time(), "why": "solicited",
                              "dest": src, "on_link": ipaddress.ip_address(src) in net}
        self.counters.inc("solicitations_answered")
        self.log.event("solicitation", src=src, mac=mac)

    def snapshot(self):
        return {"next_seq": self.seq, "interval": self.interval, "lifetime": self.lifetime,
                "reg_lifetime": self.reg_lifetime,
                "flags": w.flags_str(self.flags, w.ADV_FLAG_LETTERS),
                "coas": self.coas, "dest": self.dest, "last_sent": self.last_sent,
                "enabled": self.enabled}

    def close(self):
        self.loop.cancel(self.timer)
        self.sock.close()


def send_reply_via_link(sniffer, src_addr, dst, dport, mac, payload, sport=w.MIP_PORT):
    """Registration reply built by hand and sent to a MAC: for nodes whose
    address is not routable on this link (RFC 5944 3.7.2.3)."""
    pkt = w.build_ipv4(src_addr, dst, 17, w.build_udp(src_addr, dst, sport, dport, payload),
                       ttl=64, ident=random.randrange(65536))
    sniffer.send_ip(mac, pkt)


def pick_ident_fields(data):
    """Best-effort (home, ha, ident) from a message too broken to decode, so
    a 'poorly formed' reply can still be addressed; None if too short."""
    if len(data) < 24 or data[0] != w.REG_REQUEST:
        return None
    home, ha = w.b2ip(data[4:8]), w.b2ip(data[8:12])
    ident = struct.unpack("!Q", data[16:24])[0]
    return home, ha, ident


def unknown_nonskippable(msg, known, before=None):
    """First extension type in 0..127 that we do not know (RFC 5944 1.9:
    such a message is rejected as poorly formed), or None."""
    for e in msg.exts:
        if before is not None and e.start >= before:
            break
        if e.type < 128 and e.type not in known:
            return e.type
    return None
