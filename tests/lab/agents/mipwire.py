"""Wire formats for the lab's independent agents, written from the RFC text:
Mobile IPv4 registration (RFC 5944, 2794, 3012, 3024, 3519), agent discovery
(RFC 1256 + RFC 5944 section 2), authenticators, and IPIP/GRE/minimal/UDP
tunnel encapsulation (RFC 2003, 2784, 2004, 3519). Shares nothing with mipd.

Every decoder raises WireError with a precise message on malformed input."""

import hashlib
import hmac
import socket
import struct
import time

MIP_PORT = 434

# Message types (RFC 5944 section 3.3/3.4, RFC 3519 section 3.3).
REG_REQUEST = 1
REG_REPLY = 3
TUNNEL_DATA = 4

# Registration Request flag bits (RFC 5944 section 3.3).
F_S = 0x80  # simultaneous bindings
F_B = 0x40  # broadcast datagrams
F_D = 0x20  # decapsulation by mobile node (co-located care-of address)
F_M = 0x10  # minimal encapsulation
F_G = 0x08  # GRE encapsulation
F_r = 0x04  # reserved, sent as zero
F_T = 0x02  # reverse tunnelling requested (RFC 3024)
F_x = 0x01  # reserved, sent as zero
REQ_FLAG_LETTERS = (("S", F_S), ("B", F_B), ("D", F_D), ("M", F_M),
                    ("G", F_G), ("r", F_r), ("T", F_T), ("x", F_x))

# Mobility Agent Advertisement flag bits (RFC 5944 section 2.1.1): first byte.
A_R = 0x80  # registration required
A_B = 0x40  # busy
A_H = 0x20  # home agent
A_F = 0x10  # foreign agent
A_M = 0x08  # minimal encapsulation
A_G = 0x04  # GRE encapsulation
A_r = 0x02  # reserved (was Van Jacobson)
A_T = 0x01  # reverse tunnelling supported (RFC 3024)
ADV_FLAG_LETTERS = (("R", A_R), ("B", A_B), ("H", A_H), ("F", A_F),
                    ("M", A_M), ("G", A_G), ("r", A_r), ("T", A_T))
# Second byte of the flags word: U (RFC 3519 UDP tunnelling), X (RFC 3543
# revocation support) and later additions; kept as raw bits.
A2_U = 0x80
A2_X = 0x40
A2_I = 0x20

# Extension types.
EXT_PAD = 0            # one-byte padding (advertisements only)
EXT_MOBILITY_AGENT = 16
EXT_PREFIX_LENGTHS = 19
EXT_ADV_CHALLENGE = 24  # RFC 3012, in advertisements
EXT_MHAE = 32          # Mobile-Home Authentication
EXT_MFAE = 33          # Mobile-Foreign Authentication
EXT_FHAE = 34          # Foreign-Home Authentication
EXT_GEN_AUTH = 36      # RFC 3012 generalized (MN-AAA), long format
EXT_CVSE = 38          # RFC 3115, long format
EXT_UDP_TUNNEL_REPLY = 44   # RFC 3519
EXT_PMIP_NONSKIP = 47       # long format
EXT_NAI = 131          # RFC 2794
EXT_MN_FA_CHALLENGE = 132   # RFC 3012, in requests
EXT_UDP_TUNNEL_REQUEST = 144  # RFC 3519
LONG_FORMAT_EXTS = (EXT_GEN_AUTH, EXT_CVSE, EXT_PMIP_NONSKIP)
AUTH_EXTS = (EXT_MHAE, EXT_MFAE, EXT_FHAE)
EXT_NAMES = {
    EXT_MHAE: "mn-ha-auth", EXT_MFAE: "mn-fa-auth", EXT_FHAE: "fa-ha-auth",
    EXT_GEN_AUTH: "generalized-auth", EXT_CVSE: "cvse",
    EXT_UDP_TUNNEL_REPLY: "udp-tunnel-reply", EXT_NAI: "nai",
    EXT_MN_FA_CHALLENGE: "mn-fa-challenge",
    EXT_UDP_TUNNEL_REQUEST: "udp-tunnel-request",
}

# Registration Reply codes (RFC 5944 3.4, RFC 3024, RFC 2794, RFC 3012, RFC 3519).
CODES = {
    0: "registration accepted",
    1: "registration accepted, but simultaneous mobility bindings unsupported",
    64: "FA: reason unspecified",
    65: "FA: administratively prohibited",
    66: "FA: insufficient resources",
    67: "FA: mobile node failed authentication",
    68: "FA: home agent failed authentication",
    69: "FA: requested Lifetime too long",
    70: "FA: poorly formed Request",
    71: "FA: poorly formed Reply",
    72: "FA: requested encapsulation unavailable",
    73: "FA: reserved and unavailable",
    74: "FA: requested reverse tunnel unavailable",
    75: "FA: reverse tunnel is mandatory and 'T' bit not set",
    76: "FA: mobile node too distant",
    77: "FA: invalid care-of address",
    78: "FA: registration timeout",
    79: "FA: delivery style not supported",
    80: "FA: home network unreachable (ICMP error received)",
    81: "FA: home agent host unreachable (ICMP error received)",
    82: "FA: home agent port unreachable (ICMP error received)",
    88: "FA: home agent unreachable (other ICMP error received)",
    96: "FA: nonzero HomeAddress required (NAI)",
    97: "FA: missing NAI",
    98: "FA: missing Home Agent",
    99: "FA: missing Home Address",
    104: "FA: unknown challenge",
    105: "FA: missing challenge",
    106: "FA: stale challenge",
    128: "HA: reason unspecified",
    129: "HA: administratively prohibited",
    130: "HA: insufficient resources",
    131: "HA: mobile node failed authentication",
    132: "HA: foreign agent failed authentication",
    133: "HA: registration Identification mismatch",
    134: "HA: poorly formed Request",
    135: "HA: too many simultaneous mobility bindings",
    136: "HA: unknown home agent address",
    137: "HA: requested reverse tunnel unavailable",
    138: "HA: reverse tunnel is mandatory and 'T' bit not set",
    139: "HA: requested encapsulation unavailable",
    142: "HA: UDP encapsulation unavailable",
}

# UDP Tunnel Reply codes (RFC 3519 section 3.2).
UDPT_WILL_TUNNEL = 0
UDPT_DECLINED = 64

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01

IPPROTO_IPIP = 4
IPPROTO_GRE = 47
IPPROTO_MINENC = 55
GRE_PROTO_IPV4 = 0x0800


class WireError(ValueError):
    """A packet that does not decode; the message says exactly why."""


# ---------------------------------------------------------------- helpers

def ip2b(addr):
    return socket.inet_aton(addr)


def b2ip(raw):
    return socket.inet_ntoa(raw)


def flags_str(value, letters=REQ_FLAG_LETTERS):
    return "".join(ch for ch, bit in letters if value & bit)


def flags_from_str(text, letters=REQ_FLAG_LETTERS):
    value = 0
    table = dict(letters)
    for ch in text:
        if ch not in table:
            raise ValueError("unknown flag letter %r" % ch)
        value |= table[ch]
    return value


def ntp_seconds(now=None):
    return int(now if now is not None else time.time()) + NTP_EPOCH_OFFSET


def make_identification(now=None, low=None):
    """64-bit NTP-format timestamp Identification (RFC 5944 section 5.7.1)."""
    t = now if now is not None else time.time()
    sec = int(t) + NTP_EPOCH_OFFSET
    if low is None:
        low = int((t - int(t)) * (1 << 32)) & 0xFFFFFFFF
    return (sec << 32) | (low & 0xFFFFFFFF)


def inet_checksum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


# ---------------------------------------------------------------- authenticators

AUTH_ALGORITHMS = ("hmac-md5", "keyed-md5")


def authenticator(algorithm, key, data):
    """RFC 5944 3.5.1 default HMAC-MD5, or RFC 2002/3344 keyed-MD5 in
    prefix+suffix mode: MD5(key || data || key)."""
    if algorithm == "hmac-md5":
        return hmac.new(key, data, hashlib.md5).digest()
    if algorithm == "keyed-md5":
        return hashlib.md5(key + data + key).digest()
    raise ValueError("unknown authentication algorithm %r" % algorithm)


def auth_extension(ext_type, spi, algorithm, key, message_so_far):
    """Build an authentication extension (type 32/33/34) to append to
    message_so_far; the authenticator covers everything before it plus this
    extension's type, length and SPI."""
    head = struct.pack("!BBI", ext_type, 4 + 16, spi)
    return head + authenticator(algorithm, key, message_so_far + head)


# ---------------------------------------------------------------- extensions

class Ext:
    """One registration extension as found on the wire.

    start/end are offsets in the UDP payload; body is the data after the
    header (type+length, or type+subtype+length16 for long-format types)."""

    __slots__ = ("type", "subtype", "body", "start", "end")

    def __init__(self, type_, body, subtype=None, start=None, end=None):
        self.type = type_
        self.body = body
        self.subtype = subtype
        self.start = start
        self.end = end

    def encode(self):
        if self.type in LONG_FORMAT_EXTS:
            return struct.pack("!BBH", self.type, self.subtype or 0,
                               len(self.body)) + self.body
        if len(self.body) > 255:
            raise ValueError("extension %d body too long" % self.type)
        return struct.pack("!BB", self.type, len(self.body)) + self.body

    def describe(self):
        d = {"type": self.type, "name": EXT_NAMES.get(self.type, "unknown"),
             "length": len(self.body)}
        if self.type in AUTH_EXTS and len(self.body) >= 4:
            d["spi"] = struct.unpack("!I", self.body[:4])[0]
        elif self.type == EXT_NAI:
            d["nai"] = self.body.decode("utf-8", "replace")
        elif self.type == EXT_UDP_TUNNEL_REQUEST:
            try:
                d.update(parse_udp_tunnel_request(self))
            except WireError as e:
                d["error"] = str(e)
        elif self.type == EXT_UDP_TUNNEL_REPLY:
            try:
                d.update(parse_udp_tunnel_reply(self))
            except WireError as e:
                d["error"] = str(e)
        return d


def parse_extensions(buf, offset):
    """Split buf[offset:] into Ext objects (registration messages)."""
    exts = []
    while offset < len(buf):
        start = offset
        t = buf[offset]
        if t in LONG_FORMAT_EXTS:
            if offset + 4 > len(buf):
                raise WireError("extension %d at offset %d: truncated header" % (t, offset))
            sub, length = struct.unpack_from("!BH", buf, offset + 1)
            offset += 4
        else:
            if offset + 2 > len(buf):
                raise WireError("extension %d at offset %d: truncated header" % (t, offset))
            sub, length = None, buf[offset + 1]
            offset += 2
        if offset + length > len(buf):
            raise WireError("extension %d at offset %d: length %d runs past the end (%d bytes)"
                            % (t, start, length, len(buf)))
        exts.append(Ext(t, bytes(buf[offset:offset + length]), sub, start, offset + length))
        offset += length
    return exts


def nai_extension(nai):
    return Ext(EXT_NAI, nai.encode("utf-8"))


def udp_tunnel_request_extension(encapsulation=IPPROTO_IPIP, force=False, fa_required=False):
    """RFC 3519 3.1: type 144, length 6, sub-type 0, reserved1, F|R|reserved2,
    encapsulation, reserved3 (16 bits)."""
    fl = (0x80 if force else 0) | (0x40 if fa_required else 0)
    return Ext(EXT_UDP_TUNNEL_REQUEST, struct.pack("!BBBBH", 0, 0, fl, encapsulation, 0))


def parse_udp_tunnel_request(ext):
    if len(ext.body) != 6:
        raise WireError("UDP Tunnel Request extension length %d, expected 6" % len(ext.body))
    sub, _r1, fl, encap, _r3 = struct.unpack("!BBBBH", ext.body)
    if sub != 0:
        raise WireError("UDP Tunnel Request extension sub-type %d, expected 0" % sub)
    return {"force": bool(fl & 0x80), "fa_required": bool(fl & 0x40),
            "encapsulation": encap}


def udp_tunnel_reply_extension(code, keepalive, force=False):
    """RFC 3519 3.2: type 44, length 6, sub-type 0, reply code, F|reserved
    (16 bits), keepalive interval (16 bits)."""
    return Ext(EXT_UDP_TUNNEL_REPLY,
               struct.pack("!BBHH", 0, code, 0x8000 if force else 0, keepalive))


def parse_udp_tunnel_reply(ext):
    if len(ext.body) != 6:
        raise WireError("UDP Tunnel Reply extension length %d, expected 6" % len(ext.body))
    sub, code, fl, keepalive = struct.unpack("!BBHH", ext.body)
    if sub != 0:
        raise WireError("UDP Tunnel Reply extension sub-type %d, expected 0" % sub)
    return {"code": code, "force": bool(fl & 0x8000), "keepalive": keepalive}


# ---------------------------------------------------------------- registration

REQ_LEN = 24  # type, flags, lifetime, home, ha, care-of, identification
REP_LEN = 20  # type, code, lifetime, home, ha, identification


class Message:
    """A registration request (type 1) or reply (type 3)."""

    def __init__(self, mtype, lifetime, home, ha, ident, flags=0, coa="0.0.0.0",
                 code=0, exts=None):
        self.type = mtype
        self.flags = flags
        self.code = code
        self.lifetime = lifetime
        self.home = home
        self.ha = ha
        self.coa = coa
        self.ident = ident
        self.exts = list(exts or [])
        self.raw = None  # the received bytes, when decoded

    # -- encoding
    def fixed(self):
        if self.type == REG_REQUEST:
            return struct.pack("!BBH4s4s4sQ", REG_REQUEST, self.flags, self.lifetime,
                               ip2b(self.home), ip2b(self.ha), ip2b(self.coa), self.ident)
        return struct.pack("!BBH4s4sQ", REG_REPLY, self.code, self.lifetime,
                           ip2b(self.home), ip2b(self.ha), self.ident)

    def encode(self, auth=None):
        """auth = (spi, algorithm, key) appends a Mobile-Home Authentication
        Extension after the listed extensions."""
        out = self.fixed() + b"".join(e.encode() for e in self.exts)
        if auth is not None:
            spi, algorithm, key = auth
            out += auth_extension(EXT_MHAE, spi, algorithm, key, out)
        return out

    # -- decoding
    @classmethod
    def decode(cls, buf):
        buf = bytes(buf)
        if not buf:
            raise WireError("empty message")
        t = buf[0]
        if t == REG_REQUEST:
            if len(buf) < REQ_LEN:
                raise WireError("registration request is %d bytes, fixed part needs %d"
                                % (len(buf), REQ_LEN))
            _, fl, life, home, ha, coa, ident = struct.unpack_from("!BBH4s4s4sQ", buf)
            m = cls(REG_REQUEST, life, b2ip(home), b2ip(ha), ident, flags=fl, coa=b2ip(coa))
            m.exts = parse_extensions(buf, REQ_LEN)
        elif t == REG_REPLY:
            if len(buf) < REP_LEN:
                raise WireError("registration reply is %d bytes, fixed part needs %d"
                                % (len(buf), REP_LEN))
            _, code, life, home, ha, ident = struct.unpack_from("!BBH4s4sQ", buf)
            m = cls(REG_REPLY, life, b2ip(home), b2ip(ha), ident, code=code)
            m.exts = parse_extensions(buf, REP_LEN)
        else:
            raise WireError("message type %d is neither request (1) nor reply (3)" % t)
        m.raw = buf
        return m

    def find(self, ext_type, before=None):
        for e in self.exts:
            if before is not None and e.start >= before:
                break
            if e.type == ext_type:
                return e
        return None

    def mhae(self):
        return self.find(EXT_MHAE)

    def verify_auth(self, ext, algorithm, key):
        """True when ext (an auth extension of this decoded message) carries
        the right authenticator: covering the message up to its SPI."""
        if ext is None or len(ext.body) < 4 or self.raw is None:
            return False
        covered = self.raw[:ext.start + 2 + 4]
        want = authenticator(algorithm, key, covered)
        return hmac.compare_digest(want, ext.body[4:])

    def spi_of(self, ext):
        return struct.unpack("!I", ext.body[:4])[0] if ext is not None and len(ext.body) >= 4 else None

    def describe(self):
        d = {"type": "request" if self.type == REG_REQUEST else "reply",
             "lifetime": self.lifetime, "home_address": self.home,
             "home_agent": self.ha, "identification": "%016x" % self.ident,
             "extensions": [e.describe() for e in self.exts]}
        if self.type == REG_REQUEST:
            d["flags"] = flags_str(self.flags)
            d["care_of_address"] = self.coa
        else:
            d["code"] = self.code
        return d


# ---------------------------------------------------------------- discovery (ICMP)

ICMP_ROUTER_ADVERT = 9
ICMP_ROUTER_SOLICIT = 10


def build_agent_advertisement(routers, lifetime, seq, reg_lifetime, flags, coas=(),
                              prefix_lengths=None, challenge=None, flags2=0, pad=False,
                              code=0):
    """ICMP type 9 router advertisement (RFC 1256) with the Mobility Agent
    Advertisement extension 16 (RFC 5944 2.1.1), the Prefix-Lengths
    extension 19 (2.1.2), an optional Challenge extension 24 (RFC 3012) and
    an optional one-byte padding extension (2.1.3)."""
    body = b"".join(struct.pack("!4si", ip2b(a), pref) for a, pref in routers)
    ext16_data = struct.pack("!HHBB", seq & 0xFFFF, reg_lifetime, flags, flags2)
    ext16_data += b"".join(ip2b(c) for c in coas)
    exts = struct.pack("!BB", EXT_MOBILITY_AGENT, len(ext16_data)) + ext16_data
    if prefix_lengths is not None:
        exts += struct.pack("!BB", EXT_PREFIX_LENGTHS, len(prefix_lengths)) + bytes(prefix_lengths)
    if challenge is not None:
        exts += struct.pack("!BB", EXT_ADV_CHALLENGE, len(challenge)) + challenge
    if pad:
        exts += b"\x00"
    msg = struct.pack("!BBHBBH", ICMP_ROUTER_ADVERT, code, 0, len(routers), 2, lifetime)
    msg += body + exts
    csum = inet_checksum(msg)
    return msg[:2] + struct.pack("!H", csum) + msg[4:]


def parse_icmp(buf):
    """Check an ICMP message's checksum; return (type, code)."""
    if len(buf) < 8:
        raise WireError("ICMP message of %d bytes" % len(buf))
    if inet_checksum(bytes(buf)) != 0:
        raise WireError("ICMP checksum mismatch")
    return buf[0], buf[1]


def parse_agent_advertisement(buf):
    buf = bytes(buf)
    t, code = parse_icmp(buf)
    if t != ICMP_ROUTER_ADVERT:
        raise WireError("ICMP type %d is not a router advertisement" % t)
    num, size, life = struct.unpack_from("!BBH", buf, 4)
    if size < 2:
        raise WireError("address entry size %d < 2" % size)
    off = 8 + num * size * 4
    if off > len(buf):
        raise WireError("%d router addresses run past the end" % num)
    routers = []
    for i in range(num):
        a, pref = struct.unpack_from("!4si", buf, 8 + i * size * 4)
        routers.append((b2ip(a), pref))
    adv = {"code": code, "lifetime": life, "routers": routers, "mobility": None,
           "prefix_lengths": None, "challenge": None, "padding": False, "unknown": []}
    while off < len(buf):
        et = buf[off]
        if et == EXT_PAD:
            adv["padding"] = True
            off += 1
            continue
        if off + 2 > len(buf):
            raise WireError("advertisement extension %d truncated" % et)
        ln = buf[off + 1]
        data = buf[off + 2:off + 2 + ln]
        if len(data) != ln:
            raise WireError("advertisement extension %d length %d runs past the end" % (et, ln))
        if et == EXT_MOBILITY_AGENT:
            if ln < 6 or (ln - 6) % 4:
                raise WireError("mobility agent extension length %d is not 6+4N" % ln)
            seq, rl, fl, fl2 = struct.unpack_from("!HHBB", data)
            coas = [b2ip(data[i:i + 4]) for i in range(6, ln, 4)]
            adv["mobility"] = {"seq": seq, "reg_lifetime": rl, "flags": fl, "flags2": fl2,
                               "flags_str": flags_str(fl, ADV_FLAG_LETTERS), "coas": coas}
        elif et == EXT_PREFIX_LENGTHS:
            adv["prefix_lengths"] = list(data)
        elif et == EXT_ADV_CHALLENGE:
            adv["challenge"] = data
        else:
            adv["unknown"].append(et)
        off += 2 + ln
    return adv


def build_agent_solicitation():
    msg = struct.pack("!BBHI", ICMP_ROUTER_SOLICIT, 0, 0, 0)
    return msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]


# ---------------------------------------------------------------- IPv4 / UDP

class IPv4:
    __slots__ = ("ihl", "tos", "total", "ident", "frag", "ttl", "proto", "src", "dst",
                 "header", "payload")

    @property
    def df(self):
        return bool(self.frag & 0x4000)

    @property
    def is_fragment(self):
        return bool(self.frag & 0x2000) or (self.frag & 0x1FFF) != 0


def parse_ipv4(buf, verify=True):
    buf = bytes(buf)
    if len(buf) < 20:
        raise WireError("IPv4 packet of %d bytes" % len(buf))
    vihl = buf[0]
    if vihl >> 4 != 4:
        raise WireError("IP version %d" % (vihl >> 4))
    ihl = (vihl & 15) * 4
    if ihl < 20 or ihl > len(buf):
        raise WireError("IPv4 header length %d" % ihl)
    p = IPv4()
    p.ihl = ihl
    (_, p.tos, p.total, p.ident, p.frag, p.ttl, p.proto, _csum, src, dst) = \
        struct.unpack_from("!BBHHHBBH4s4s", buf)
    if p.total < ihl or p.total > len(buf):
        raise WireError("IPv4 total length %d vs %d bytes" % (p.total, len(buf)))
    if verify and inet_checksum(buf[:ihl]) != 0:
        raise WireError("IPv4 header checksum mismatch")
    p.src = b2ip(src)
    p.dst = b2ip(dst)
    p.header = buf[:ihl]
    p.payload = buf[ihl:p.total]
    return p


def build_ipv4(src, dst, proto, payload, ttl=64, tos=0, ident=0, df=False):
    total = 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, tos, total, ident & 0xFFFF,
                      0x4000 if df else 0, ttl, proto, 0, ip2b(src), ip2b(dst))
    hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return hdr + payload


def build_udp(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = ip2b(src) + ip2b(dst) + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    csum = inet_checksum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, csum) + payload


def parse_udp(ip, verify=True):
    """(sport, dport, payload) of a parsed IPv4 UDP packet; checksum verified
    when present and verify is set (frames seen on a packet socket before the
    sender's checksum offload completed carry only a partial sum)."""
    seg = ip.payload
    if len(seg) < 8:
        raise WireError("UDP segment of %d bytes" % len(seg))
    sport, dport, length, csum = struct.unpack_from("!HHHH", seg)
    if length < 8 or length > len(seg):
        raise WireError("UDP length %d vs %d bytes" % (length, len(seg)))
    if csum and verify:
        pseudo = ip2b(ip.src) + ip2b(ip.dst) + struct.pack("!BBH", 0, 17, length)
        if inet_checksum(pseudo + seg[:length]) != 0:
            raise WireError("UDP checksum mismatch")
    return sport, dport, seg[8:length]


# ---------------------------------------------------------------- tunnels

def gre_encap(inner):
    """RFC 2784 header without checksum: flags/version 0, protocol 0x0800."""
    return struct.pack("!HH", 0, GRE_PROTO_IPV4) + inner


def gre_decap(buf):
    """Strip a GRE header (RFC 2784, tolerating RFC 2890 key/sequence)."""
    if len(buf) < 4:
        raise WireError("GRE header truncated")
    fl, proto = struct.unpack_from("!HH", buf)
    if fl & 0x0007:
        raise WireError("GRE version %d" % (fl & 7))
    # Bits 1-5 (RFC 1701 R, K, S, s, recursion): RFC 2784 discards them set,
    # except K and S which RFC 2890 gives meaning; bits 6-12 are ignored.
    if fl & 0x4C00:
        raise WireError("GRE reserved0 bits 1/4/5 set (0x%04x)" % (fl & 0x4C00))
    if proto != GRE_PROTO_IPV4:
        raise WireError("GRE protocol type 0x%04x is not IPv4" % proto)
    off = 4
    if fl & 0x8000:  # C: checksum + reserved1
        if len(buf) < off + 4:
            raise WireError("GRE checksum field truncated")
        if inet_checksum(bytes(buf)) != 0:
            raise WireError("GRE checksum mismatch")
        off += 4
    if fl & 0x2000:  # K
        off += 4
    if fl & 0x1000:  # S
        off += 4
    if len(buf) < off:
        raise WireError("GRE optional fields truncated")
    return bytes(buf[off:])


def minimal_encap(inner, encapsulator):
    """RFC 2004: returns (forwarding header + original payload, original
    header) for an outer header built with protocol 55.  The original source
    is carried (S=1) unless the encapsulator is the original source."""
    ip = parse_ipv4(inner)
    if ip.is_fragment:
        raise WireError("minimal encapsulation cannot carry fragments (RFC 2004)")
    s_bit = ip.src != encapsulator
    fwd = struct.pack("!BBH4s", ip.proto, 0x80 if s_bit else 0, 0, ip2b(ip.dst))
    if s_bit:
        fwd += ip2b(ip.src)
    fwd = fwd[:2] + struct.pack("!H", inet_checksum(fwd)) + fwd[4:]
    return fwd + ip.payload, ip


def minimal_decap(outer):
    """Rebuild the original datagram from a parsed outer IPv4 packet with
    protocol 55 (RFC 2004 section 3)."""
    body = outer.payload
    if len(body) < 8:
        raise WireError("minimal forwarding header truncated")
    proto, sb = body[0], body[1]
    hlen = 12 if sb & 0x80 else 8
    if len(body) < hlen:
        raise WireError("minimal forwarding header with S bit truncated")
    if inet_checksum(body[:hlen]) != 0:
        raise WireError("minimal forwarding header checksum mismatch")
    dst = b2ip(body[4:8])
    src = b2ip(body[8:12]) if sb & 0x80 else outer.src
    payload = body[hlen:]
    return build_ipv4(src, dst, proto, payload, ttl=outer.ttl, tos=outer.tos,
                      ident=outer.ident, df=outer.df)


def tunnel_data(next_header, payload):
    """RFC 3519 3.3 tunnel data message: type 4, next header, reserved(16)."""
    return struct.pack("!BBH", TUNNEL_DATA, next_header, 0) + payload


def parse_tunnel_data(buf):
    if len(buf) < 4:
        raise WireError("tunnel data header truncated")
    t, nh, _res = struct.unpack_from("!BBH", buf)
    if t != TUNNEL_DATA:
        raise WireError("message type %d is not tunnel data (4)" % t)
    return nh, bytes(buf[4:])


# ---------------------------------------------------------------- ARP

def gratuitous_arp(sender_mac, addr):
    """ARP request payload (for an AF_PACKET ETH_P_ARP socket) announcing
    addr at sender_mac: sender and target protocol address both addr."""
    mac = bytes.fromhex(sender_mac.replace(":", ""))
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, ip2b(addr),
                       b"\x00" * 6, ip2b(addr))
