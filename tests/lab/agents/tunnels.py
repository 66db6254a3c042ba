"""The agents' user-space data plane: a TUN device plus raw IPIP (4), GRE
(47) and minimal-encapsulation (55) sockets, and RFC 3519 UDP tunnel data on
the agent's port-434 socket.  The agent decides who may send what; this
module only moves and (de)capsulates packets and counts them."""

import collections
import errno
import os
import socket

import mipwire as w
import netio

KINDS = ("ipip", "gre", "minimal")
PROTO_OF = {"ipip": w.IPPROTO_IPIP, "gre": w.IPPROTO_GRE, "minimal": w.IPPROTO_MINENC}
KIND_OF = {v: k for k, v in PROTO_OF.items()}
# Bytes each encapsulation adds in front of the inner packet.
OVERHEAD = {"ipip": 20, "gre": 24, "minimal": 12, "udp-ipip": 32, "udp-gre": 36,
            "udp-minimal": 24}


class TunnelEndpoint:
    """TUN `tun_name` + raw sockets bound to local_addr.

    on_tun(packet) is called for each packet the kernel routes into the TUN;
    on_decap(kind, outer_src, inner, udp_src) for each decapsulated packet
    (the callback returns True to accept it, and the endpoint then writes it to
    the TUN)."""

    def __init__(self, loop, system, local_addr, tun_name, mtu, on_tun, on_decap, log,
                 udp_sock=None):
        self.loop = loop
        self.local = local_addr
        self.on_tun = on_tun
        self.on_decap = on_decap
        self.log = log
        self.udp_sock = udp_sock
        self.stats = collections.Counter()
        self.tun_name = tun_name
        self.tun = netio.open_tun(tun_name, system, mtu)
        system.on_cleanup(("tun-link", tun_name),
                          lambda: system.ip("link", "del", tun_name, check=False))
        loop.add_reader(self.tun, self._tun_readable)
        self.raw = {}
        for kind, proto in PROTO_OF.items():
            s = netio.raw_socket(proto, bind_addr=local_addr)
            self.raw[kind] = s
            loop.add_reader(s, lambda k=kind: self._raw_readable(k))

    # ---- kernel -> tunnel
    def _tun_readable(self):
        for _ in range(512):
            try:
                pkt = os.read(self.tun, 65535)
            except BlockingIOError:
                return
            if len(pkt) < 20 or pkt[0] >> 4 != 4:
                self.stats["tun_non_ipv4"] += 1
                continue
            self.stats["tun_read"] += 1
            self.on_tun(pkt)

    def send(self, kind, dst, inner, udp_dst=None):
        """Encapsulate inner toward dst.  kind: ipip|gre|minimal; with
        udp_dst=(addr, port) the result rides in RFC 3519 tunnel data."""
        try:
            if kind == "ipip":
                body, proto = inner, w.IPPROTO_IPIP
            elif kind == "gre":
                body, proto = w.gre_encap(inner), w.IPPROTO_GRE
            elif kind == "minimal":
                body, _ = w.minimal_encap(inner, self.local)
                proto = w.IPPROTO_MINENC
            else:
                raise ValueError("unknown tunnel kind %r" % kind)
        except w.WireError as e:
            self.stats["encap_errors"] += 1
            self.log.event("encap-error", kind=kind, dst=dst, error=str(e))
            return False
        try:
            if udp_dst is not None:
                self.udp_sock.sendto(w.tunnel_data(proto, body), udp_dst)
                key = "udp-" + kind
            else:
                self.raw[kind].sendto(body, (dst, 0))
                key = kind
        except OSError as e:
            self.stats["send_errors"] += 1
            if e.errno not in (errno.ENOBUFS, errno.EAGAIN, errno.EHOSTUNREACH,
                               errno.ENETUNREACH, errno.EPERM):
                self.log.event("send-error", kind=kind, dst=dst, error=str(e))
            return False
        self.stats["out_" + key] += 1
        self.stats["out_bytes"] += len(inner)
        return True

    # ---- tunnel -> kernel
    def _raw_readable(self, kind):
        s = self.raw[kind]
        for _ in range(512):
            try:
                data = s.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                # ICMP errors on raw sockets surface here; clear and go on.
                s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                self.stats["raw_socket_errors"] += 1
                if e.errno == errno.EAGAIN:
                    return
                continue
            try:
                outer = w.parse_ipv4(data)
                if kind == "ipip":
                    inner = outer.payload
                elif kind == "gre":
                    inner = w.gre_decap(outer.payload)
                else:
                    inner = w.minimal_decap(outer)
                w.parse_ipv4(inner)
            except w.WireError as e:
                self.stats["in_malformed_" + kind] += 1
                self.log.event("decap-error", kind=kind, error=str(e))
                continue
            self._deliver(kind, outer.src, inner, None)

    def decap_udp(self, data, src):
        """RFC 3519 tunnel data arriving on the agent's port-434 socket."""
        try:
            nh, body = w.parse_tunnel_data(data)
            if nh == w.IPPROTO_IPIP:
                kind, inner = "ipip", body
            elif nh == w.IPPROTO_GRE:
                kind, inner = "gre", w.gre_decap(body)
            elif nh == w.IPPROTO_MINENC:
                # The "outer" header of a UDP-carried minimal packet is the UDP's
                # own IP header, which we do not have: rebuild from the forwarding
                # header with the sender's address as source when S=0.
                fake = w.parse_ipv4(w.build_ipv4(src[0], self.local, w.IPPROTO_MINENC, body))
                kind, inner = "minimal", w.minimal_decap(fake)
            else:
                raise w.WireError("tunnel data next header %d unsupported" % nh)
            w.parse_ipv4(inner)
        except w.WireError as e:
            self.stats["in_malformed_udp"] += 1
            self.log.event("decap-error", kind="udp", src=list(src), error=str(e))
            return
        self._deliver("udp-" + kind, src[0], inner, src)

    def _deliver(self, kind, outer_src, inner, udp_src):
        if not self.on_decap(kind, outer_src, inner, udp_src):
            self.stats["in_rejected_" + kind] += 1
            return
        try:
            os.write(self.tun, inner)
        except OSError as e:
            self.stats["tun_write_errors"] += 1
            self.log.event("tun-write-error", error=str(e))
            return
        self.stats["in_" + kind] += 1
        self.stats["in_bytes"] += len(inner)

    def snapshot(self):
        return dict(self.stats)

    def close(self):
        for kind, s in self.raw.items():
            self.loop.remove_reader(s)
            s.close()
        self.loop.remove_reader(self.tun)
