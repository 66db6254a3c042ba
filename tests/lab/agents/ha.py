#!/usr/bin/python3
"""The lab's independent home agent (RFC 5944, RFC 3024 reverse tunnels,
RFC 3519 UDP tunnelling, RFC 2794 NAI): registration on UDP 434, proxy and
gratuitous ARP on the home link, a user-space TUN data plane, agent
advertisements, and a JSON control socket.  See README.md for the contract.

    /usr/bin/python3 ha.py --config RUN/ha.json
"""

import argparse
import ipaddress
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import control  # noqa: E402
import mipwire as w  # noqa: E402
import netio  # noqa: E402
import tunnels  # noqa: E402

DEFAULTS = {
    "iface": "br0", "max_lifetime": 600, "replay_tolerance": 7,
    "replay_protection": "timestamp", "advertise": True, "adv_interval": 1.0,
    "adv_lifetime": 9, "adv_dest": "224.0.0.1", "adv_flags": "H", "log": None,
    "encapsulations": ["ipip", "gre", "minimal"], "reverse_tunnel": True,
    "reverse_tunnel_required": False, "udp_tunnelling": True, "udp_keepalive": 110,
    "udp_force": False, "simultaneous_bindings": True, "max_bindings": 4,
    "broadcast_forwarding": True, "tun": "hatun", "garp_count": 2,
    "solicit_reply": "unicast",
}
REQUIRED = ("address", "home_prefix", "control", "mobile_nodes")
# Non-skippable extension types (0..127) this agent understands in requests.
KNOWN_EXTS = {w.EXT_MHAE, w.EXT_MFAE, w.EXT_FHAE, w.EXT_GEN_AUTH}
SETTABLE = {"max_lifetime": int, "replay_tolerance": int, "max_bindings": int,
            "udp_keepalive": int, "udp_force": bool, "reverse_tunnel": bool,
            "reverse_tunnel_required": bool, "simultaneous_bindings": bool,
            "replay_protection": str, "broadcast_forwarding": bool}


class Node:
    def __init__(self, spec):
        self.home = spec["home_address"]
        self.nai = spec.get("nai")
        self.keys = {}
        for k in spec.get("keys", []):
            if k["algorithm"] not in w.AUTH_ALGORITHMS:
                raise SystemExit("unknown algorithm %r" % k["algorithm"])
            self.keys[int(k["spi"])] = (k["algorithm"], bytes.fromhex(k["key"]))
        self.last_ident = None
        self.bindings = {}  # care-of address -> Binding
        self.mac = None     # learned when the node talks to us on the home link


class Binding:
    def __init__(self, node, coa, req, granted, spi, kind, udp, src, nat):
        self.node = node
        self.coa = coa
        self.refresh(req, granted, spi, kind, udp, src, nat)
        self.created = time.time()

    def refresh(self, req, granted, spi, kind, udp, src, nat):
        self.flags = req.flags
        self.lifetime = granted
        self.expires = time.monotonic() + granted
        self.registered_at = time.time()
        self.ident = req.ident
        self.spi = spi
        self.kind = kind      # ipip | gre | minimal
        self.udp = udp        # (addr, port) when RFC 3519 UDP tunnelling, else None
        self.src = src
        self.nat = nat

    @property
    def reverse(self):
        return bool(self.flags & w.F_T) or self.udp is not None

    def describe(self):
        return {
            "home_address": self.node.home, "care_of_address": self.coa,
            "flags": w.flags_str(self.flags), "flags_value": self.flags,
            "lifetime": self.lifetime,
            "lifetime_left": round(max(0.0, self.expires - time.monotonic()), 3),
            "registered_at": self.registered_at, "created_at": self.created,
            "identification": "%016x" % self.ident,
            "identification_high": self.ident >> 32,
            "identification_low": self.ident & 0xFFFFFFFF,
            "spi": self.spi, "algorithm": self.node.keys.get(self.spi, ("?",))[0],
            "encapsulation": ("udp-" + self.kind) if self.udp else self.kind,
            "udp_tunnel": ({"address": self.udp[0], "port": self.udp[1]}
                           if self.udp else None),
            "nat_detected": self.nat,
            "reverse_tunnel": self.reverse, "colocated": bool(self.flags & w.F_D),
            "broadcast": bool(self.flags & w.F_B),
            "simultaneous": bool(self.flags & w.F_S),
            "request_source": list(self.src), "nai": self.node.nai,
        }


class HomeAgent:
    def __init__(self, cfg):
        self.cfg = cfg
        self.address = cfg["address"]
        self.iface = cfg["iface"]
        self.prefix = ipaddress.ip_network(cfg["home_prefix"], strict=False)
        self.log = netio.Log(cfg.get("log"), "ha")
        self.loop = netio.Loop()
        self.loop.on_error = self.log.internal_error
        self.system = netio.System(self.log)
        self.counters = common.Counters()
        self.faults = common.Faults()
        self.nodes = [Node(n) for n in cfg["mobile_nodes"]]
        self.by_home = {n.home: n for n in self.nodes}
        self.by_nai = {n.nai: n for n in self.nodes if n.nai}
        self.mac = netio.iface_mac(self.iface)

    # ------------------------------------------------------------ start/stop
    def start(self):
        sc = self.system.sysctl
        sc("net.ipv4.ip_forward", 1)
        sc("net.ipv4.conf.%s.proxy_arp" % self.iface, 1)
        sc("net.ipv4.neigh.%s.proxy_delay" % self.iface, 0)
        self.udp = netio.udp_socket("0.0.0.0", w.MIP_PORT)
        self.loop.add_reader(self.udp, self._udp_readable)
        self.sniffer = common.Sniffer(self.loop, self.iface, on_solicit=self._on_solicit)
        self.tunnel = tunnels.TunnelEndpoint(
            self.loop, self.system, self.address, self.cfg["tun"], 1500,
            self._from_tun, self._from_tunnel, self.log, udp_sock=self.udp)
        sc("net.ipv4.conf.%s.rp_filter" % self.cfg["tun"], 0)
        flags = w.flags_from_str(self.cfg["adv_flags"], w.ADV_FLAG_LETTERS)
        if self.cfg["reverse_tunnel"]:
            flags |= w.A_T
        self.adv = common.Advertiser(
            self.loop, self.sniffer, self.counters, self.faults, self.log, self.iface,
            self.address, self.cfg["adv_interval"], self.cfg["adv_lifetime"],
            self.cfg["max_lifetime"], flags, [], self.prefix.prefixlen,
            dest=self.cfg["adv_dest"], flags2=w.A2_U if self.cfg["udp_tunnelling"] else 0,
            solicit_reply=self.cfg["solicit_reply"], enabled=bool(self.cfg["advertise"]))
        bcast = [str(self.prefix.broadcast_address), "255.255.255.255"]
        self.bsock = netio.packet_socket(self.iface, netio.ETH_P_IP, netio.bpf_ip_dst_in(bcast))
        self.loop.add_reader(self.bsock, self._broadcast_readable)
        self.ctl = control.ControlServer(self.loop, self.cfg["control"], self.command, self.log)
        self.loop.call_later(0.25, self._sweep)
        self.log.event("start", address=self.address, iface=self.iface, pid=os.getpid())

    def run(self):
        self.loop.install_signal_handlers()
        try:
            self.start()
            self.loop.run()
        finally:
            self.shutdown()

    def shutdown(self):
        for n in self.nodes:
            for b in list(n.bindings.values()):
                self._drop_binding(b, "shutdown")
        for name in ("ctl", "adv", "tunnel", "sniffer"):
            obj = getattr(self, name, None)
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        self.system.cleanup()
        self.log.event("stop", reason=self.loop.stop_reason)

    # ------------------------------------------------------------ registration
    def _udp_readable(self):
        for _ in range(512):
            try:
                data, src, _ifindex, dst = netio.recv_pktinfo(self.udp)
            except BlockingIOError:
                return
            except OSError:
                continue
            if not data:
                continue
            if data[0] == w.TUNNEL_DATA:
                self.tunnel.decap_udp(data, src)
            elif data[0] == w.REG_REQUEST:
                self._request(data, src, dst)
            else:
                self.counters.inc("unknown_messages")
                self.log.event("unknown-message", src=list(src), type=data[0])

    def _request(self, data, src, dst):
        self.counters.inc("requests")
        mac = self.sniffer.mac_of(src, data)
        if self.faults.silent:
            self.counters.inc("ignored_silent")
            self.log.event("request-ignored", src=list(src), why="silent")
            return
        if self.faults.take_drop():
            self.counters.inc("dropped_by_fault")
            self.log.event("request-dropped", src=list(src), why="drop_requests")
            return
        try:
            req = w.Message.decode(data)
        except w.WireError as e:
            self.log.event("request-malformed", src=list(src), error=str(e))
            f = common.pick_ident_fields(data)
            if f:
                self._reply(src, mac, f[0], f[2], 134, None, note=str(e))
            else:
                self.counters.inc("malformed_dropped")
            return
        self.log.event("request", src=list(src), dst=dst, mac=mac, **req.describe())
        code, node, extra = self._decide(req, src, mac)
        home = node.home if node is not None else req.home
        ident = extra.pop("ident", req.ident)
        self._reply(src, mac, home, ident, code, node, req=req, **extra)

    def _auth_ok(self, req, node):
        """(spi or None, usable key tuple or None, ok)."""
        mh = req.mhae()
        spi = req.spi_of(mh)
        if spi is None:
            return None, None, False
        key = node.keys.get(spi) if spi >= 256 else None
        if key is None:
            return spi, None, False
        return spi, key, req.verify_auth(mh, key[0], key[1])

    def _decide(self, req, src, mac):
        """Validate and apply a request.  Returns (code, node, extra reply args)."""
        mh = req.mhae()
        nai_ext = req.find(w.EXT_NAI, before=mh.start if mh else None)
        nai = nai_ext.body.decode("utf-8", "replace") if nai_ext else None
        node = self.by_home.get(req.home)
        if node is None and req.home == "0.0.0.0" and nai:
            node = self.by_nai.get(nai)
        extra = {"nai": nai}
        if node is None:
            self.counters.inc("unknown_node")
            self.counters.inc("auth_failures")
            return 131, None, extra
        spi, key, ok = self._auth_ok(req, node)
        extra["spi"], extra["key"] = spi, key
        forced = self.faults.take_force()
        if forced is not None:
            self.counters.inc("forced_replies")
            if forced == 133:
                extra["ident"] = (w.ntp_seconds() << 32) | (req.ident & 0xFFFFFFFF)
            return forced, node, extra
        bad = common.unknown_nonskippable(req, KNOWN_EXTS)
        if bad is not None:
            extra["note"] = "unknown non-skippable extension %d" % bad
            return 134, node, extra
        if not ok:
            self.counters.inc("auth_failures")
            extra["note"] = ("no MHAE" if mh is None else
                             "SPI %s unknown or reserved" % spi if key is None else
                             "authenticator mismatch")
            return 131, node, extra
        if req.ha != self.address:
            extra["note"] = "request names home agent %s" % req.ha
            return 136, node, extra
        if self.cfg["replay_protection"] == "timestamp":
            now = w.ntp_seconds()
            ts = req.ident >> 32
            stale = abs(ts - now) > int(self.cfg["replay_tolerance"])
            replay = node.last_ident is not None and req.ident <= node.last_ident
            if stale or replay:
                self.counters.inc("replays")
                if stale:
                    self.counters.inc("stale_timestamps")
                extra["ident"] = (now << 32) | (req.ident & 0xFFFFFFFF)
                extra["note"] = ("timestamp off by %+d s" % (ts - now) if stale
                                 else "identification not newer than last accepted")
                return 133, node, extra
        # Extensions after the MHAE are not covered by it: a UDP tunnel request
        # there is poorly formed (RFC 3519 3.1).
        utrq = req.find(w.EXT_UDP_TUNNEL_REQUEST)
        if utrq is not None and (mh is None or utrq.start > mh.start):
            extra["note"] = "UDP Tunnel Request extension after the MHAE"
            return 134, node, extra
        fl = req.flags
        if fl & w.F_M and fl & w.F_G:
            extra["note"] = "both M and G requested"
            return 139, node, extra
        kind = "gre" if fl & w.F_G else "minimal" if fl & w.F_M else "ipip"
        if kind not in self.cfg["encapsulations"]:
            return 139, node, extra
        dereg = req.lifetime == 0 or req.coa == node.home
        if fl & w.F_T and not self.cfg["reverse_tunnel"]:
            return 137, node, extra
        if not dereg and not fl & w.F_T and self.cfg["reverse_tunnel_required"]:
            return 138, node, extra
        udp = None
        nat = False
        if utrq is not None:
            try:
                u = w.parse_udp_tunnel_request(utrq)
            except w.WireError as e:
                extra["note"] = str(e)
                return 134, node, extra
            nat = src[0] != req.coa
            if (nat or u["force"] or self.cfg["udp_force"]) and not dereg:
                if not self.cfg["udp_tunnelling"]:
                    return 142, node, extra
                if u["encapsulation"] not in tunnels.KIND_OF:
                    extra["note"] = "UDP encapsulation %d" % u["encapsulation"]
                    return 139, node, extra
                kind = tunnels.KIND_OF[u["encapsulation"]]
                if kind not in self.cfg["encapsulations"]:
                    return 139, node, extra
                udp = (src[0], src[1])
                extra["udp_reply"] = (w.UDPT_WILL_TUNNEL, int(self.cfg["udp_keepalive"]),
                                      bool(self.cfg["udp_force"]))
            elif not dereg:
                extra["udp_reply"] = (w.UDPT_DECLINED, 0, False)
        code = 0
        if dereg:
            self._deregister(node, req, mac, src)
            extra["lifetime"] = 0
        else:
            granted = min(req.lifetime, int(self.cfg["max_lifetime"]))
            simultaneous = bool(fl & w.F_S)
            if simultaneous and not self.cfg["simultaneous_bindings"]:
                simultaneous, code = False, 1
            if simultaneous and req.coa not in node.bindings and \
                    len(node.bindings) >= int(self.cfg["max_bindings"]):
                return 135, node, extra
            b = node.bindings.get(req.coa)
            if b is None:
                b = Binding(node, req.coa, req, granted, spi, kind, udp, src, nat)
                node.bindings[req.coa] = b
            else:
                b.refresh(req, granted, spi, kind, udp, src, nat)
            if not simultaneous:
                for coa, other in list(node.bindings.items()):
                    if coa != req.coa:
                        self._drop_binding(other, "replaced")
            self._install(node)
            extra["lifetime"] = granted
        node.last_ident = req.ident
        return code, node, extra

    def _reply(self, src, mac, home, ident, code, node, req=None, spi=None, key=None,
               nai=None, lifetime=0, udp_reply=None, note=None):
        exts = []
        if nai is not None:
            exts.append(w.nai_extension(nai))
        if udp_reply is not None and code in (0, 1):
            exts.append(w.udp_tunnel_reply_extension(*udp_reply))
        rep = w.Message(w.REG_REPLY, lifetime if code in (0, 1) else 0, home, self.address,
                        ident, code=code, exts=exts)
        payload = rep.encode(auth=(spi, key[0], key[1]) if key is not None else None)
        if code in (0, 1):
            self.counters.inc("accepted")
        else:
            self.counters.deny(code)
        rec = {"dst": list(src), "code": code, "lifetime": rep.lifetime,
               "home_address": home, "identification": "%016x" % ident,
               "signed": key is not None, "spi": spi if key is not None else None,
               "delay": self.faults.delay}
        if note:
            rec["note"] = note

        def send():
            try:
                in_home = ipaddress.ip_address(src[0]) in self.prefix
                if mac is not None and in_home and src[0] != self.address:
                    # The node is on the home link (e.g. deregistering on return):
                    # answer it directly, whatever the routes say.
                    common.send_reply_via_link(self.sniffer, self.address, src[0], src[1],
                                               mac, payload)
                else:
                    self.udp.sendto(payload, src)
                self.counters.inc("replies_sent")
                self.log.event("reply", **rec)
            except OSError as e:
                self.log.event("reply-error", error=str(e), **rec)

        if self.faults.delay > 0:
            self.loop.call_later(self.faults.delay, send)
        else:
            send()

    # ------------------------------------------------------------ bindings
    def _route_mtu(self, node):
        mtus = [1500 - tunnels.OVERHEAD[("udp-" + b.kind) if b.udp else b.kind]
                for b in node.bindings.values()]
        return min(mtus) if mtus else 1480

    def _install(self, node):
        """Route the home address into the TUN and answer ARP for it."""
        h = node.home
        self.system.ip("route", "replace", h + "/32", "dev", self.cfg["tun"],
                       "mtu", self._route_mtu(node))
        if not self.system.has(("route", h)):
            self.system.on_cleanup(("route", h), lambda: self.system.ip(
                "route", "del", h + "/32", "dev", self.cfg["tun"], check=False))
        if not self.system.has(("proxy", h)):
            self.system.ip_change(("neigh", "replace", "proxy", h, "dev", self.iface),
                                  ("neigh", "del", "proxy", h, "dev", self.iface),
                                  key=("proxy", h))
            # Tell the home link that the home address is now at our MAC.
            self._garp(self.mac, h)

    def _garp(self, mac, addr):
        n = int(self.cfg["garp_count"])
        for i in range(n):
            self.loop.call_later(0.2 * i, self._send_garp, mac, addr)

    def _send_garp(self, mac, addr):
        try:
            self.sniffer.send_arp(w.gratuitous_arp(mac, addr))
            self.counters.inc("gratuitous_arps")
            self.log.event("gratuitous-arp", addr=addr, mac=mac)
        except OSError as e:
            self.log.event("garp-error", error=str(e))

    def _uninstall(self, node):
        h = node.home
        self.system.undo(("proxy", h))
        self.system.undo(("route", h))

    def _drop_binding(self, b, why):
        node = b.node
        node.bindings.pop(b.coa, None)
        self.log.event("binding-removed", home_address=node.home, care_of_address=b.coa,
                       why=why)
        if not node.bindings:
            self._uninstall(node)
        else:
            self._install(node)

    def _deregister(self, node, req, mac, src):
        if req.coa == node.home:
            for b in list(node.bindings.values()):
                self._drop_binding(b, "deregistered")
        else:
            b = node.bindings.get(req.coa)
            if b is not None:
                self._drop_binding(b, "deregistered")
        # RFC 5944 4.6: a node back on the home link gets its home address
        # mapped back to its own MAC by our gratuitous ARP on its behalf.
        if not node.bindings and mac is not None and src[0] == node.home:
            node.mac = mac
            self._garp(mac, node.home)

    def _sweep(self):
        self.loop.call_later(0.25, self._sweep)
        now = time.monotonic()
        for n in self.nodes:
            for b in list(n.bindings.values()):
                if b.expires <= now:
                    self.counters.inc("bindings_expired")
                    self._drop_binding(b, "expired")

    # ------------------------------------------------------------ data plane
    def _from_tun(self, pkt):
        dst = w.b2ip(pkt[16:20])
        node = self.by_home.get(dst)
        if node is None or not node.bindings:
            self.counters.inc("tun_no_binding")
            return
        for b in node.bindings.values():
            self.tunnel.send(b.kind, b.coa, pkt, udp_dst=b.udp)

    def _from_tunnel(self, kind, outer_src, inner, udp_src):
        """Reverse tunnel: accept only from a bound care-of address (or the
        NAT address:port of a UDP binding) carrying that node's home address."""
        src = w.b2ip(inner[12:16])
        node = self.by_home.get(src)
        if node is None:
            self.counters.inc("reverse_unknown_source")
            return False
        for b in node.bindings.values():
            if udp_src is not None:
                if b.udp == tuple(udp_src):
                    return True
            elif b.udp is None and b.coa == outer_src:
                return True
        self.counters.inc("reverse_unknown_care_of")
        return False

    def _broadcast_readable(self):
        netio.drain(self.bsock, self._broadcast)

    def _broadcast(self, data, addr):
        if addr[2] == common.PACKET_OUTGOING or not self.cfg["broadcast_forwarding"]:
            return
        try:
            ip = w.parse_ipv4(data)
        except w.WireError:
            return
        for node in self.nodes:
            if ip.src == node.home:
                continue
            for b in node.bindings.values():
                if not b.flags & w.F_B:
                    continue
                pkt = bytes(data[:ip.total])
                if not b.flags & w.F_D:
                    # Via a foreign agent: nest it in a packet to the home
                    # address so the node itself unwraps it (RFC 5944 4.3).
                    pkt = w.build_ipv4(self.address, node.home, w.IPPROTO_IPIP, pkt)
                if self.tunnel.send(b.kind, b.coa, pkt, udp_dst=b.udp):
                    self.counters.inc("broadcasts_forwarded")

    def _on_solicit(self, ip, mac):
        self.adv.on_solicit(ip, mac)

    # ------------------------------------------------------------ control
    def forget(self):
        for n in self.nodes:
            for b in list(n.bindings.values()):
                self._drop_binding(b, "forget")
            n.last_ident = None

    def command(self, req):
        cmd = req["cmd"]
        ans = self.faults.command(req)
        if ans is not None:
            self.log.event("control", **req)
            return ans
        if cmd == "ping":
            return {"pong": True, "agent": "ha", "pid": os.getpid(), "time": time.time()}
        if cmd == "bindings":
            return {"bindings": [b.describe() for n in self.nodes for b in n.bindings.values()],
                    "nodes": [{"home_address": n.home, "nai": n.nai,
                               "spis": sorted(n.keys),
                               "last_identification": (None if n.last_ident is None
                                                       else "%016x" % n.last_ident)}
                              for n in self.nodes]}
        if cmd == "counters":
            c = self.counters.snapshot()
            c["tunnel"] = self.tunnel.snapshot()
            c["internal_errors"] = self.log.errors
            return {"counters": c, "advertiser": self.adv.snapshot(),
                    "faults": self.faults.snapshot()}
        if cmd == "reset_counters":
            self.counters.reset()
            self.tunnel.stats.clear()
            return {}
        if cmd == "faults":
            return {"faults": self.faults.snapshot()}
        if cmd == "errors":
            return {"internal_errors": self.log.errors}
        if cmd == "forget":
            self.log.event("control", **req)
            self.forget()
            if req.get("reset_sequence"):
                self.adv.reset_sequence()
            return {}
        if cmd == "reset_sequence":
            self.log.event("control", **req)
            self.adv.reset_sequence(int(req.get("to", 0)))
            return {"next_seq": self.adv.seq}
        if cmd == "advertise_now":
            self.adv.send_multicast("control")
            return {"sent": self.adv.last_sent}
        if cmd == "set":
            return self._set(req)
        if cmd == "config":
            return {"config": redact(self.cfg)}
        raise ValueError("unknown command %r" % cmd)

    def _set(self, req):
        changed = {}
        for k, v in req.items():
            if k == "cmd":
                continue
            if k == "adv_interval":
                self.adv.set_interval(float(v))
            elif k == "advertise":
                self.adv.enabled = bool(v)
            elif k not in SETTABLE:
                raise ValueError("%r cannot be set" % k)
            else:
                self.cfg[k] = SETTABLE[k](v)
                if k == "max_lifetime":
                    self.adv.reg_lifetime = min(int(v), 0xFFFF)
            changed[k] = v
        self.log.event("control", cmd="set", **changed)
        return {"set": changed}


def redact(cfg):
    out = dict(cfg)
    out["mobile_nodes"] = [
        dict(n, keys=[{"spi": k["spi"], "algorithm": k["algorithm"]} for k in n.get("keys", [])])
        for n in cfg["mobile_nodes"]]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    args = ap.parse_args()
    cfg = common.load_config(args.config, DEFAULTS, REQUIRED)
    HomeAgent(cfg).run()


if __name__ == "__main__":
    main()
