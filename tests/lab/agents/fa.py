#!/usr/bin/python3
"""The lab's independent foreign agent (RFC 5944, RFC 3024 reverse tunnels,
RFC 3012 challenges): agent advertisements, request relay with pending and
visitor lists, link-layer delivery to visitors, a user-space TUN data plane
(decapsulation toward visitors, reverse tunnel toward their home agents) and a
JSON control socket.  See README.md for the contract.

    /usr/bin/python3 fa.py --config RUN/fa.json
"""

import argparse
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
    "iface": "br0", "prefix_length": 24, "uplink": None, "log": None,
    "adv_interval": 1.0, "adv_lifetime": 9, "reg_lifetime": 600, "flags": "RT",
    "max_visitors": 16, "adv_dest": "224.0.0.1", "pending_timeout": 7.0,
    "timeout_reply": True, "reverse_tunnel_required": False, "challenge": False,
    "challenge_window": 3, "pad": False, "tun": "fatun", "rt_table": 434,
    "rule_priority": 100, "relay_from": "care_of_address", "solicit_reply": "unicast",
    "advertise": True,
}
REQUIRED = ("address", "care_of_address", "control")
KNOWN_EXTS = {w.EXT_MHAE, w.EXT_MFAE, w.EXT_FHAE, w.EXT_GEN_AUTH}
SETTABLE = {"reg_lifetime": int, "max_visitors": int, "pending_timeout": float,
            "timeout_reply": bool, "reverse_tunnel_required": bool,
            "challenge_window": int}


class Visitor:
    def __init__(self, home, mac, req, src, lifetime):
        self.home = home
        self.created = time.time()
        self.update(mac, req, src, lifetime)

    def update(self, mac, req, src, lifetime):
        self.mac = mac
        self.ha = req.ha
        self.flags = req.flags
        self.ident = req.ident
        self.src = src
        self.lifetime = lifetime
        self.expires = time.monotonic() + lifetime
        self.registered_at = time.time()
        nai = req.find(w.EXT_NAI)
        self.nai = nai.body.decode("utf-8", "replace") if nai else None

    @property
    def reverse(self):
        return bool(self.flags & w.F_T)

    @property
    def kind(self):
        return "gre" if self.flags & w.F_G else "minimal" if self.flags & w.F_M else "ipip"

    def describe(self):
        return {"home_address": self.home, "mac": self.mac, "home_agent": self.ha,
                "flags": w.flags_str(self.flags), "flags_value": self.flags,
                "lifetime": self.lifetime,
                "lifetime_left": round(max(0.0, self.expires - time.monotonic()), 3),
                "registered_at": self.registered_at, "created_at": self.created,
                "identification": "%016x" % self.ident,
                "identification_high": self.ident >> 32,
                "identification_low": self.ident & 0xFFFFFFFF,
                "reverse_tunnel": self.reverse, "encapsulation": self.kind,
                "source_port": self.src[1], "nai": self.nai}


class ForeignAgent:
    def __init__(self, cfg):
        self.cfg = cfg
        self.address = cfg["address"]
        self.coa = cfg["care_of_address"]
        self.iface = cfg["iface"]
        self.log = netio.Log(cfg.get("log"), "fa")
        self.loop = netio.Loop()
        self.loop.on_error = self.log.internal_error
        self.system = netio.System(self.log)
        self.counters = common.Counters()
        self.faults = common.Faults()
        self.visitors = {}
        self.pending = {}   # (home or nai, ident low 32) -> dict
        self.offer = w.flags_from_str(cfg["flags"], w.ADV_FLAG_LETTERS)

    # ------------------------------------------------------------ start/stop
    def start(self):
        sc = self.system.sysctl
        sc("net.ipv4.ip_forward", 1)
        self.ifindex = netio.iface_index(self.iface)
        self.udp = netio.udp_socket("0.0.0.0", w.MIP_PORT)
        self.loop.add_reader(self.udp, self._udp_readable)
        relay_src = self.coa
        if self.cfg["relay_from"] == "uplink" and self.cfg["uplink"]:
            relay_src = self._iface_address(self.cfg["uplink"])
        self.relay = netio.udp_socket(relay_src, 0)
        self.loop.add_reader(self.relay, self._relay_readable)
        self.sniffer = common.Sniffer(self.loop, self.iface, on_solicit=self._on_solicit)
        tun = self.cfg["tun"]
        self.tunnel = tunnels.TunnelEndpoint(self.loop, self.system, self.coa, tun, 1476,
                                             self._from_tun, self._from_tunnel, self.log)
        sc("net.ipv4.conf.%s.rp_filter" % tun, 0)
        table = str(self.cfg["rt_table"])
        self.system.ip_change(("route", "replace", "default", "dev", tun, "table", table),
                              ("route", "flush", "table", table))
        flags = w.A_F | self.offer
        self.adv = common.Advertiser(
            self.loop, self.sniffer, self.counters, self.faults, self.log, self.iface,
            self.address, self.cfg["adv_interval"], self.cfg["adv_lifetime"],
            self.cfg["reg_lifetime"], flags, [self.coa], int(self.cfg["prefix_length"]),
            dest=self.cfg["adv_dest"], challenge=bool(self.cfg["challenge"]),
            pad=bool(self.cfg["pad"]), solicit_reply=self.cfg["solicit_reply"],
            enabled=bool(self.cfg["advertise"]))
        self.ctl = control.ControlServer(self.loop, self.cfg["control"], self.command, self.log)
        self.loop.call_later(0.25, self._sweep)
        self.log.event("start", address=self.address, care_of_address=self.coa,
                       pid=os.getpid())

    def _iface_address(self, ifname):
        r = self.system.ip("-4", "-o", "addr", "show", "dev", ifname)
        return r.stdout.split()[3].split("/")[0]

    def run(self):
        self.loop.install_signal_handlers()
        try:
            self.start()
            self.loop.run()
        finally:
            self.shutdown()

    def shutdown(self):
        for v in list(self.visitors.values()):
            self._remove(v, "shutdown")
        for name in ("ctl", "adv", "tunnel", "sniffer"):
            obj = getattr(self, name, None)
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        self.system.cleanup()
        self.log.event("stop", reason=self.loop.stop_reason)

    # ------------------------------------------------------------ requests from nodes
    def _udp_readable(self):
        for _ in range(256):
            try:
                data, src, ifindex, dst = netio.recv_pktinfo(self.udp)
            except BlockingIOError:
                return
            except OSError:
                continue
            if ifindex != self.ifindex:
                self.counters.inc("requests_wrong_interface")
                continue
            if data and data[0] == w.REG_REQUEST:
                self._request(data, src, dst)
            else:
                self.counters.inc("unknown_messages")

    def _deny(self, src, mac, home, ident, code, note=None, req=None):
        """A reply generated here (code 64..127), straight to the node."""
        self.counters.deny(code)
        rep = w.Message(w.REG_REPLY, 0, home, req.ha if req else "0.0.0.0", ident, code=code)
        exts = []
        if req is not None:
            nai = req.find(w.EXT_NAI)
            if nai is not None:
                exts.append(nai)
        rep.exts = exts
        self._to_node(src, mac, rep.encode(), {"code": code, "home_address": home,
                                               "identification": "%016x" % ident,
                                               "note": note, "origin": "fa"})

    def _to_node(self, src, mac, payload, rec):
        dst = src[0] if src[0] != "0.0.0.0" else "255.255.255.255"

        def send():
            try:
                common.send_reply_via_link(self.sniffer, self.address, dst, src[1], mac,
                                           payload)
                self.counters.inc("replies_sent")
                self.log.event("reply", dst=[dst, src[1]], mac=mac, delay=self.faults.delay,
                               **rec)
            except OSError as e:
                self.log.event("reply-error", error=str(e), **rec)
        if self.faults.delay > 0:
            self.loop.call_later(self.faults.delay, send)
        else:
            send()

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
        if mac is None:
            self.counters.inc("requests_without_mac")
            self.log.event("request-ignored", src=list(src), why="sender MAC unknown")
            return
        try:
            req = w.Message.decode(data)
        except w.WireError as e:
            self.log.event("request-malformed", src=list(src), error=str(e))
            f = common.pick_ident_fields(data)
            if f:
                self._deny(src, mac, f[0], f[2], 70, note=str(e))
            return
        self.log.event("request", src=list(src), dst=dst, mac=mac, **req.describe())
        code, note = self._check(req)
        forced = self.faults.take_force()
        if forced is not None:
            self.counters.inc("forced_replies")
            code, note = forced, "forced"
        if code:
            self._deny(src, mac, req.home, req.ident, code, note=note, req=req)
            return
        key = self._pending_key(req.home, req.find(w.EXT_NAI), req.ident)
        old = self.pending.pop(key, None)
        if old:
            self.loop.cancel(old["timer"])
        p = {"req": req, "mac": mac, "src": src, "time": time.monotonic(), "key": key}
        p["timer"] = self.loop.call_later(float(self.cfg["pending_timeout"]), self._timeout, key)
        self.pending[key] = p
        try:
            self.relay.sendto(data, (req.ha, w.MIP_PORT))
            self.counters.inc("relayed_requests")
            self.log.event("relay", to=req.ha, home_address=req.home,
                           identification="%016x" % req.ident)
        except OSError as e:
            self.log.event("relay-error", error=str(e))

    @staticmethod
    def _pending_key(home, nai_ext, ident):
        if home == "0.0.0.0" and nai_ext is not None:
            return ("nai:" + nai_ext.body.decode("utf-8", "replace"), ident & 0xFFFFFFFF)
        return (home, ident & 0xFFFFFFFF)

    def _check(self, req):
        """FA-side validity checks (RFC 5944 3.7.2.1, RFC 3024, 2794, 3012)."""
        bad = common.unknown_nonskippable(req, KNOWN_EXTS)
        if bad is not None:
            return 70, "unknown non-skippable extension %d" % bad
        nai = req.find(w.EXT_NAI)
        if req.home == "0.0.0.0" and nai is None:
            return 97, "home address 0.0.0.0 without an NAI"
        if req.ha == "0.0.0.0":
            return 98, "no home agent address"
        if req.coa != self.coa:
            return 77, "care-of address %s is not ours" % req.coa
        if req.lifetime > int(self.cfg["reg_lifetime"]):
            return 69, "lifetime %d > %d" % (req.lifetime, self.cfg["reg_lifetime"])
        fl = req.flags
        if fl & w.F_T and not self.offer & w.A_T:
            return 74, "reverse tunnel not offered"
        if (req.lifetime and not fl & w.F_T and self.offer & w.A_T
                and self.cfg["reverse_tunnel_required"]):
            return 75, "reverse tunnel is mandatory"
        if fl & w.F_M and not self.offer & w.A_M:
            return 72, "minimal encapsulation not offered"
        if fl & w.F_G and not self.offer & w.A_G:
            return 72, "GRE not offered"
        if self.cfg["challenge"]:
            ch = req.find(w.EXT_MN_FA_CHALLENGE)
            if ch is None:
                return 105, "missing challenge"
            c = self.adv.check_challenge(ch.body, int(self.cfg["challenge_window"]))
            if c:
                return c, "challenge not recent"
        if req.home not in self.visitors and req.lifetime:
            homes = set(self.visitors) | {p["req"].home for p in self.pending.values()}
            if req.home not in homes and len(homes) >= int(self.cfg["max_visitors"]):
                return 66, "visitor list full"
        return 0, None

    def _timeout(self, key):
        p = self.pending.pop(key, None)
        if p is None:
            return
        self.counters.inc("pending_timeouts")
        home = p["req"].home
        newer = any(q["req"].home == home and q["time"] > p["time"] for q in self.pending.values())
        if self.cfg["timeout_reply"] and not newer and not self.faults.silent:
            self._deny(p["src"], p["mac"], home, p["req"].ident, 78, note="no reply from HA",
                       req=p["req"])

    # ------------------------------------------------------------ replies from home agents
    def _relay_readable(self):
        for _ in range(256):
            try:
                data, src = self.relay.recvfrom(65535)
            except BlockingIOError:
                return
            except OSError:
                continue
            self._reply(data, src)

    def _reply(self, data, src):
        self.counters.inc("replies_from_ha")
        try:
            rep = w.Message.decode(data)
            if rep.type != w.REG_REPLY:
                raise w.WireError("not a reply")
        except w.WireError as e:
            self.counters.inc("malformed_replies")
            self.log.event("reply-malformed", src=list(src), error=str(e))
            return
        key = self._pending_key(rep.home, None, rep.ident)
        p = self.pending.get(key)
        if p is None:
            nai = rep.find(w.EXT_NAI)
            if nai is not None:
                key = self._pending_key("0.0.0.0", nai, rep.ident)
                p = self.pending.get(key)
        if p is None or src[0] != p["req"].ha:
            self.counters.inc("unmatched_replies")
            self.log.event("reply-unmatched", src=list(src), **rep.describe())
            return
        self.log.event("reply-from-ha", src=list(src), **rep.describe())
        req = p["req"]
        # Answered: this and every older pending request of the node is done.
        for k, q in list(self.pending.items()):
            if q["req"].home == req.home and q["time"] <= p["time"]:
                self.loop.cancel(q["timer"])
                del self.pending[k]
        if self.faults.silent:
            return
        if rep.code in (0, 1):
            self.counters.inc("accepted")
            home = rep.home
            if rep.lifetime == 0:
                v = self.visitors.get(home)
                if v is not None:
                    self._remove(v, "deregistered")
            else:
                self._admit(home, p["mac"], req, p["src"], min(rep.lifetime, req.lifetime or 0xFFFF))
        else:
            self.counters.deny(rep.code)
        self._to_node(p["src"], p["mac"], data, {"code": rep.code, "home_address": rep.home,
                                                 "identification": "%016x" % rep.ident,
                                                 "lifetime": rep.lifetime, "origin": "ha"})

    # ------------------------------------------------------------ visitors
    def _admit(self, home, mac, req, src, lifetime):
        v = self.visitors.get(home)
        if v is None:
            v = Visitor(home, mac, req, src, lifetime)
            self.visitors[home] = v
            self._install(v)
            self.log.event("visitor-added", **v.describe())
        else:
            before = (v.mac, v.reverse)
            v.update(mac, req, src, lifetime)
            if before != (v.mac, v.reverse):
                self.system.undo(("visitor", home))
                self._install(v)
            self.log.event("visitor-updated", **v.describe())

    def _install(self, v):
        """Deliver to the visitor at link layer; pull its packets into the
        reverse tunnel when it asked for T."""
        h, dev = v.home, self.iface
        ip = self.system.ip
        ip("neigh", "replace", h, "lladdr", v.mac, "dev", dev, "nud", "permanent")
        ip("route", "replace", h + "/32", "dev", dev)
        cmds = [("route", "del", h + "/32", "dev", dev), ("neigh", "del", h, "dev", dev)]
        if v.reverse:
            ip("rule", "add", "from", h, "iif", dev, "lookup", self.cfg["rt_table"],
               "pref", self.cfg["rule_priority"])
            cmds.insert(0, ("rule", "del", "from", h, "iif", dev, "lookup",
                            str(self.cfg["rt_table"]), "pref", str(self.cfg["rule_priority"])))

        def undo():
            for c in cmds:
                ip(*c, check=False)
        self.system.on_cleanup(("visitor", h), undo)

    def _remove(self, v, why):
        self.visitors.pop(v.home, None)
        self.system.undo(("visitor", v.home))
        self.log.event("visitor-removed", home_address=v.home, why=why)

    def _sweep(self):
        self.loop.call_later(0.25, self._sweep)
        now = time.monotonic()
        for v in list(self.visitors.values()):
            if v.expires <= now:
                self.counters.inc("visitors_expired")
                self._remove(v, "expired")

    # ------------------------------------------------------------ data plane
    def _from_tunnel(self, kind, outer_src, inner, udp_src):
        """Forward tunnel: from a visitor's home agent, to that visitor."""
        v = self.visitors.get(w.b2ip(inner[16:20]))
        if v is None or v.ha != outer_src:
            self.counters.inc("tunnel_unknown")
            return False
        return True

    def _from_tun(self, pkt):
        """Reverse tunnel: a visitor's packet, policy-routed into the TUN."""
        v = self.visitors.get(w.b2ip(pkt[12:16]))
        if v is None or not v.reverse:
            self.counters.inc("reverse_no_visitor")
            return
        self.tunnel.send(v.kind, v.ha, pkt)

    def _on_solicit(self, ip, mac):
        self.adv.on_solicit(ip, mac)

    # ------------------------------------------------------------ control
    def command(self, req):
        cmd = req["cmd"]
        ans = self.faults.command(req)
        if ans is not None:
            self.log.event("control", **req)
            return ans
        if cmd == "ping":
            return {"pong": True, "agent": "fa", "pid": os.getpid(), "time": time.time()}
        if cmd == "visitors":
            return {"visitors": [v.describe() for v in self.visitors.values()],
                    "pending": [{"home_address": p["req"].home, "home_agent": p["req"].ha,
                                 "identification": "%016x" % p["req"].ident, "mac": p["mac"],
                                 "age": round(time.monotonic() - p["time"], 3)}
                                for p in self.pending.values()]}
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
            for v in list(self.visitors.values()):
                self._remove(v, "forget")
            for p in self.pending.values():
                self.loop.cancel(p["timer"])
            self.pending.clear()
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
            return {"config": self.cfg}
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
            elif k == "flags":
                self.offer = w.flags_from_str(v, w.ADV_FLAG_LETTERS)
                self.adv.flags = w.A_F | self.offer
                self.cfg["flags"] = v
            elif k == "challenge":
                self.cfg["challenge"] = self.adv.challenge_on = bool(v)
            elif k not in SETTABLE:
                raise ValueError("%r cannot be set" % k)
            else:
                self.cfg[k] = SETTABLE[k](v)
                if k == "reg_lifetime":
                    self.adv.reg_lifetime = int(v)
            changed[k] = v
        self.log.event("control", cmd="set", **changed)
        return {"set": changed}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    args = ap.parse_args()
    cfg = common.load_config(args.config, DEFAULTS, REQUIRED)
    ForeignAgent(cfg).run()


if __name__ == "__main__":
    main()
