#!/usr/bin/python3
"""A scripted mobile node for the agents' self-tests, run inside P-mn.

Deliberately independent of tests/lab/agents/ (its own struct/hmac encoder
and decoder), so a bug shared by both sides cannot hide.  Each subcommand
prints one JSON object on stdout.

  mnsim.py register --home A --ha A --coa A [--dest A] [--bind A] [--flags T] ...
  mnsim.py tunnel-echo --bind COA --ha HA [--encap ipip|gre|minimal] --count N [--reply]
  mnsim.py adverts --iface fa0 --seconds S [--count N] [--solicit-from ADDR]
"""

import argparse
import hashlib
import hmac
import json
import select
import socket
import struct
import sys
import time

NTP_OFFSET = 2208988800
FLAG_BITS = {"S": 0x80, "B": 0x40, "D": 0x20, "M": 0x10, "G": 0x08, "r": 0x04,
             "T": 0x02, "x": 0x01}


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_of(alg, key, data):
    if alg == "hmac-md5":
        return hmac.new(key, data, hashlib.md5).digest()
    return hashlib.md5(key + data + key).digest()  # keyed-MD5 prefix+suffix


def ident_value(text):
    now = time.time()
    if text.startswith("now"):
        off = int(text[3:] or 0)
        sec = int(now) + NTP_OFFSET + off
        return (sec << 32) | (int((now % 1) * 2 ** 32) & 0xFFFFFFFF)
    return int(text, 16)


def build_request(a):
    flags = 0
    for ch in a.flags:
        flags |= FLAG_BITS[ch]
    ident = ident_value(a.ident)
    msg = bytearray()
    msg += bytes([1, flags]) + a.lifetime.to_bytes(2, "big")
    for addr in (a.home, a.ha, a.coa):
        msg += socket.inet_aton(addr)
    msg += ident.to_bytes(8, "big")
    if a.nai:
        nai = a.nai.encode()
        msg += bytes([131, len(nai)]) + nai
    if a.udp_tunnel is not None:
        # RFC 3519 UDP Tunnel Request: type 144, len 6, subtype 0, reserved,
        # flags (F=0x80), encapsulation, reserved(2).
        msg += bytes([144, 6, 0, 0, 0x80 if a.udp_force else 0, a.udp_tunnel, 0, 0])
    for ext in a.raw_ext:
        msg += bytes.fromhex(ext)
    if a.spi is not None:
        msg += bytes([32, 20]) + a.spi.to_bytes(4, "big")
        auth = bytearray(mac_of(a.alg, bytes.fromhex(a.key), bytes(msg)))
        if a.forge:
            auth[0] ^= 0x01
        msg += auth
    for ext in a.post_ext:  # after the MHAE, e.g. an RFC 3012 MN-FA challenge
        msg += bytes.fromhex(ext)
    return bytes(msg), ident


def parse_reply(data, key=None, alg=None):
    if len(data) < 20 or data[0] != 3:
        return {"error": "not a registration reply", "len": len(data)}
    code = data[1]
    life = int.from_bytes(data[2:4], "big")
    ident = int.from_bytes(data[12:20], "big")
    out = {"code": code, "lifetime": life, "home": socket.inet_ntoa(data[4:8]),
           "ha": socket.inet_ntoa(data[8:12]), "ident": "%016x" % ident,
           "ident_high": ident >> 32, "ident_low": ident & 0xFFFFFFFF, "exts": [],
           "auth_ok": None}
    off = 20
    while off + 2 <= len(data):
        t, ln = data[off], data[off + 1]
        body = data[off + 2:off + 2 + ln]
        e = {"type": t, "len": ln}
        if t == 32 and ln >= 4:
            e["spi"] = int.from_bytes(body[:4], "big")
            if key is not None:
                want = mac_of(alg, bytes.fromhex(key), data[:off + 6])
                out["auth_ok"] = hmac.compare_digest(want, bytes(body[4:]))
        elif t == 44 and ln == 6:
            e["code"] = body[1]
            e["keepalive"] = int.from_bytes(body[4:6], "big")
        elif t == 131:
            e["nai"] = bytes(body).decode(errors="replace")
        out["exts"].append(e)
        off += 2 + ln
    return out


def icmp_echo_reply(inner):
    """Turn an IPv4 ICMP echo request into the matching echo reply."""
    ihl = (inner[0] & 15) * 4
    src, dst = inner[12:16], inner[16:20]
    icmp = bytearray(inner[ihl:])
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = csum(bytes(icmp)).to_bytes(2, "big")
    hdr = bytearray(inner[:20])
    hdr[0] = 0x45
    hdr[2:4] = (20 + len(icmp)).to_bytes(2, "big")
    hdr[8] = 64
    hdr[10:12] = b"\0\0"
    hdr[12:16], hdr[16:20] = dst, src
    hdr[10:12] = csum(bytes(hdr)).to_bytes(2, "big")
    return bytes(hdr) + bytes(icmp)


def is_echo_request(inner):
    return len(inner) >= 28 and inner[9] == 1 and inner[(inner[0] & 15) * 4] == 8


def cmd_register(a):
    msg, ident = build_request(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.iface:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    s.bind((a.bind or a.coa, a.sport))
    t0 = time.monotonic()
    s.sendto(msg, (a.dest or a.ha, 434))
    out = {"sent": {"ident": "%016x" % ident, "len": len(msg), "src_port": s.getsockname()[1]},
           "reply": None, "replies": []}
    deadline = t0 + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        data, src = s.recvfrom(65535)
        if data and data[0] == 4:
            continue  # tunnel data before the reply: ignore here
        rep = parse_reply(data, a.key, a.alg)
        rep["from"] = list(src)
        rep["elapsed"] = round(time.monotonic() - t0, 4)
        out["replies"].append(rep)
        if out["reply"] is None:
            out["reply"] = rep
        if not a.collect:
            break
    print(json.dumps(out), flush=True)
    if a.serve_echo and out["reply"] and out["reply"]["code"] == 0:
        print(json.dumps({"served": serve_udp_echo(s, a)}), flush=True)


def serve_udp_echo(s, a):
    """RFC 3519 tunnel data: answer ICMP echo requests inside, back through
    the same socket (and so the same NAT mapping)."""
    got = answered = 0
    deadline = time.monotonic() + a.serve_timeout
    while answered < a.serve_echo and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        data, src = s.recvfrom(65535)
        if len(data) < 4 or data[0] != 4 or data[1] != 4:
            continue
        got += 1
        inner = data[4:]
        if is_echo_request(inner):
            s.sendto(bytes([4, 4, 0, 0]) + icmp_echo_reply(inner), (a.ha, 434))
            answered += 1
    return {"tunnel_data_received": got, "echo_replies_sent": answered}


PROTO = {"ipip": 4, "gre": 47, "minimal": 55}


def ipv4_header(src, dst, proto, payload_len, ttl=64):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0, 0, ttl, proto,
                              0, src, dst))
    h[10:12] = csum(bytes(h)).to_bytes(2, "big")
    return bytes(h)


def unwrap(kind, packet):
    """The inner IPv4 packet of a received tunnel packet (outer header
    included, as raw sockets return it), or None."""
    ihl = (packet[0] & 15) * 4
    body = packet[ihl:]
    if kind == "ipip":
        return body
    if kind == "gre":
        if len(body) < 4 or body[0:4] != b"\0\0\x08\0":
            return None
        return body[4:]
    # RFC 2004 minimal forwarding header: proto, S|reserved, checksum,
    # original destination, [original source].
    if len(body) < 8 or csum(body[:12 if body[1] & 0x80 else 8]) != 0:
        return None
    hlen = 12 if body[1] & 0x80 else 8
    src = body[8:12] if body[1] & 0x80 else packet[12:16]
    return ipv4_header(src, body[4:8], body[0], len(body) - hlen, ttl=packet[8]) + body[hlen:]


def wrap(kind, inner, encapsulator):
    if kind == "ipip":
        return inner
    if kind == "gre":
        return b"\0\0\x08\0" + inner
    ihl = (inner[0] & 15) * 4
    src, dst = inner[12:16], inner[16:20]
    s_bit = src != socket.inet_aton(encapsulator)
    fwd = bytearray([inner[9], 0x80 if s_bit else 0, 0, 0]) + dst + (src if s_bit else b"")
    fwd[2:4] = csum(bytes(fwd)).to_bytes(2, "big")
    return bytes(fwd) + inner[ihl:]


def cmd_tunnel_echo(a):
    """Receive tunnelled packets from the HA on a raw socket; optionally
    answer echo requests through a reverse tunnel of the same kind."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO[a.encap])
    s.bind((a.bind, 0))
    seen = []
    replied = 0
    deadline = time.monotonic() + a.timeout
    print(json.dumps({"ready": True}), flush=True)
    while len(seen) < a.count and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        data, src = s.recvfrom(65535)
        inner = unwrap(a.encap, data)
        if inner is None or len(inner) < 20:
            seen.append({"outer_src": src[0], "undecodable": True})
            continue
        rec = {"outer_src": src[0], "outer_dst": socket.inet_ntoa(data[16:20]),
               "inner_src": socket.inet_ntoa(inner[12:16]),
               "inner_dst": socket.inet_ntoa(inner[16:20]), "inner_proto": inner[9],
               "echo_request": is_echo_request(inner)}
        seen.append(rec)
        if a.reply and rec["echo_request"]:
            s.sendto(wrap(a.encap, icmp_echo_reply(inner), a.bind), (a.ha, 0))
            replied += 1
    print(json.dumps({"packets": seen, "replied": replied}), flush=True)


def parse_advert(data):
    ihl = (data[0] & 15) * 4
    ttl = data[8]
    src = socket.inet_ntoa(data[12:16])
    dst = socket.inet_ntoa(data[16:20])
    icmp = data[ihl:]
    if icmp[0] != 9:
        return None
    rec = {"src": src, "dst": dst, "ttl": ttl, "csum_ok": csum(bytes(icmp)) == 0,
           "num": icmp[4], "lifetime": int.from_bytes(icmp[6:8], "big")}
    off = 8 + icmp[4] * icmp[5] * 4
    while off < len(icmp):
        t = icmp[off]
        if t == 0:
            rec["pad"] = True
            off += 1
            continue
        ln = icmp[off + 1]
        body = icmp[off + 2:off + 2 + ln]
        if t == 16:
            rec["seq"] = int.from_bytes(body[0:2], "big")
            rec["reg_lifetime"] = int.from_bytes(body[2:4], "big")
            rec["flags"] = body[4]
            rec["coas"] = [socket.inet_ntoa(body[i:i + 4]) for i in range(6, ln, 4)]
        elif t == 19:
            rec["prefix_lengths"] = list(body)
        elif t == 24:
            rec["challenge"] = bytes(body).hex()
        off += 2 + ln
    return rec


def cmd_adverts(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    if a.ready:
        print(json.dumps({"ready": True}), flush=True)
    if a.solicit_from:
        send_solicit(a.iface, a.solicit_from)
    out = []
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        data, _ = s.recvfrom(65535)
        rec = parse_advert(data)
        if rec is not None:
            rec["t"] = round(time.time(), 4)
            out.append(rec)
            if a.count and len(out) >= a.count:
                break
    print(json.dumps({"adverts": out}))


def send_solicit(iface, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
    s.bind((src, 0))
    msg = bytearray([10, 0, 0, 0, 0, 0, 0, 0])
    msg[2:4] = csum(bytes(msg)).to_bytes(2, "big")
    s.sendto(bytes(msg), ("224.0.0.11", 0))
    s.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register")
    r.add_argument("--home", required=True)
    r.add_argument("--ha", required=True)
    r.add_argument("--coa", required=True)
    r.add_argument("--dest")
    r.add_argument("--bind")
    r.add_argument("--sport", type=int, default=0)
    r.add_argument("--iface")
    r.add_argument("--lifetime", type=int, default=600)
    r.add_argument("--flags", default="")
    r.add_argument("--spi", type=int)
    r.add_argument("--alg", default="hmac-md5")
    r.add_argument("--key")
    r.add_argument("--ident", default="now")
    r.add_argument("--forge", action="store_true")
    r.add_argument("--nai")
    r.add_argument("--udp-tunnel", type=int)
    r.add_argument("--udp-force", action="store_true")
    r.add_argument("--raw-ext", action="append", default=[], help="hex, before the MHAE")
    r.add_argument("--post-ext", action="append", default=[], help="hex, after the MHAE")
    r.add_argument("--timeout", type=float, default=3.0)
    r.add_argument("--collect", action="store_true", help="wait the whole timeout")
    r.add_argument("--serve-echo", type=int, default=0)
    r.add_argument("--serve-timeout", type=float, default=10.0)
    e = sub.add_parser("tunnel-echo")
    e.add_argument("--encap", choices=sorted(PROTO), default="ipip")
    e.add_argument("--bind", required=True)
    e.add_argument("--ha", required=True)
    e.add_argument("--count", type=int, default=3)
    e.add_argument("--timeout", type=float, default=10.0)
    e.add_argument("--reply", action="store_true")
    v = sub.add_parser("adverts")
    v.add_argument("--iface", required=True)
    v.add_argument("--seconds", type=float, default=3.0)
    v.add_argument("--count", type=int, default=0)
    v.add_argument("--solicit-from")
    v.add_argument("--ready", action="store_true", help="print a ready line first")
    a = ap.parse_args()
    {"register": cmd_register, "tunnel-echo": cmd_tunnel_echo, "adverts": cmd_adverts}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
