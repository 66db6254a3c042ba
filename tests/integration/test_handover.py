"""Handover end to end in the lab: make-before-break with simultaneous
bindings (a 1000 packets/s stream loses nothing, the binding moves, the old
care-of address is released at the home agent, HandoverCompleted says so)
and break-before-make (the new registration goes out as soon as the new link
has an agent: solicited at once, not waiting for a periodic advertisement).
Behaviour only; tests/bench/handover measures the times."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest

HOME = "198.18.0.50"
FA_COA = "198.51.100.1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CN = os.path.join(ROOT, "tests", "lab", "agents", "cn.py")
PY = "/usr/bin/python3"
DEV = {"fa": "fa0", "dhcp": "dhcp0", "wlan": "wlan0"}


def bindings(lab):
    return [b["care_of_address"] for b in lab.ha.call({"cmd": "bindings"})["bindings"]]


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(0.01)


def prefer_first(dev):
    order = ["fa0", "dhcp0", "wlan0", "nat0"]
    order.remove(dev)
    return ";".join([dev] + order)


def ha_events(lab, event):
    with open(os.path.join(lab.run_dir, "ha.log")) as f:
        return [e for e in map(json.loads, f) if e.get("event") == event]


class Signals:
    """HandoverCompleted as it appears on the lab's system bus."""

    def __init__(self, lab):
        gi = pytest.importorskip("gi")
        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib
        self.events, self.cond = [], threading.Condition()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            lab.mn_env["DBUS_SYSTEM_BUS_ADDRESS"],
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.ctx = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.ctx, False)
        ready = threading.Event()

        def run():
            self.ctx.push_thread_default()
            self.conn.signal_subscribe(None, "org.mipd.MobileNode1", "HandoverCompleted",
                                       "/org/mipd/MobileNode1", None, 0, self._on)
            self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "GetId", None, None, 0, 5000, None)
            ready.set()
            self.loop.run()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5), "no connection to the lab's bus"

    def _on(self, conn, sender, path, iface, name, params):
        with self.cond:
            self.events.append(params.unpack()[0])
            self.cond.notify_all()

    def wait(self, new_interface, since, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if e.get("new-interface") == new_interface:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no HandoverCompleted to %s; got %s"
                                         % (new_interface, self.events[since:]))
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.events)

    def close(self):
        self.ctx.invoke_full(0, self.loop.quit)
        self.thread.join(2)


class Stream:
    """The correspondent's UDP stream to the home address and the node's sink."""

    def __init__(self, lab, rate=1000):
        self.lab = lab
        self.report = os.path.join(lab.run_dir, "sink.json")
        self.sink = lab.popen("mn", [PY, CN, "udp-sink", "--port", "9000", "--report",
                                     self.report], name="udp-sink", stdout=subprocess.PIPE,
                              text=True)
        assert '"ready"' in self.sink.stdout.readline()
        self.stream = lab.popen("cn", [PY, CN, "udp-stream", "--to", HOME, "--port", "9000",
                                       "--rate", str(rate), "--duration", "3600"],
                                name="udp-stream", stdout=subprocess.PIPE, text=True)

    def stop(self):
        self.stream.send_signal(signal.SIGTERM)
        self.stream.communicate(timeout=10)
        time.sleep(0.3)
        self.sink.send_signal(signal.SIGTERM)
        self.sink.communicate(timeout=10)
        with open(self.report) as f:
            return json.load(f)


def mbb_handover(lab, m, signals, frm, to):
    """Make-before-break by preference: the next link is preferred, plugged
    in while the old one carries the traffic, and unplugged only after the
    node has switched and let the old binding go."""
    m.write_config(prefer=prefer_first(DEV[to]))
    m.mipc("reload")
    mark = signals.mark()
    lab.attach(to)
    sig = signals.wait(DEV[to], mark)
    coa = sig["care-of-address"]
    wait_for(lambda: bindings(lab) == [coa], 5, "the home agent to hold %s only" % coa)
    time.sleep(0.3)
    lab.detach(frm)
    time.sleep(0.7)
    return sig


def check_mbb_signal(sig, old_dev, new_dev):
    assert sig["old-interface"] == old_dev
    assert sig["new-interface"] == new_dev
    assert sig["handover-mode"] == "make-before-break"
    assert sig["mode"] in ("foreign-agent", "co-located")
    for key in ("trigger-to-accepted-ms", "trigger-to-switched-ms",
                "trigger-to-accepted-usec", "trigger-to-switched-usec"):
        assert key in sig, "HandoverCompleted lacks %s: %s" % (key, sig)
    assert sig["trigger-to-switched-usec"] >= sig["trigger-to-accepted-usec"] > 0


def check_released(lab, old_coa, new_coa):
    """The new request asked to keep the old binding (S), and the old care-of
    address was then deregistered alone, not replaced."""
    reqs = [e for e in ha_events(lab, "request") if e.get("care_of_address") == new_coa
            and e.get("lifetime")]
    assert reqs and "S" in reqs[-1].get("flags", ""), "no S in %s" % reqs[-1:]
    removed = [e for e in ha_events(lab, "binding-removed")
               if e.get("care_of_address") == old_coa]
    assert removed and removed[-1]["why"] == "deregistered", removed


def run_mbb(lab, mipd_factory, links):
    m = mipd_factory(lab, prefer=prefer_first(DEV[links[0]]))
    m.wait_state("registered", timeout=15)
    signals = Signals(lab)
    try:
        stream = Stream(lab)
        time.sleep(0.5)
        coa = bindings(lab)[0]
        for frm, to in zip(links, links[1:]):
            sig = mbb_handover(lab, m, signals, frm, to)
            check_mbb_signal(sig, DEV[frm], DEV[to])
            check_released(lab, coa, sig["care-of-address"])
            st = m.status()
            assert st["state"] == "registered" and st["interface"] == DEV[to]
            coa = sig["care-of-address"]
        report = stream.stop()
    finally:
        signals.close()
    # mipd logs one line per handover with the same content.
    lines = [l for l in m.log_text().splitlines() if "(make-before-break)" in l]
    assert len(lines) >= len(links) - 1, lines
    assert all("tunnel switched" in l and "after the trigger" in l for l in lines)
    return report


@pytest.mark.lab(attach=("fa",))
def test_make_before_break_between_agent_and_colocated_loses_nothing(lab, mipd_factory):
    report = run_mbb(lab, mipd_factory, ["fa", "dhcp", "fa", "dhcp"])
    assert report["received"] > 1000
    assert report["lost"] == 0, "lost %d: %s" % (report["lost"], report["missing"])


@pytest.mark.lab(attach=("dhcp",), wlan="vdhcp")
def test_make_before_break_between_two_colocated_addresses_loses_nothing(lab, mipd_factory):
    report = run_mbb(lab, mipd_factory, ["dhcp", "wlan", "dhcp", "wlan"])
    assert report["lost"] == 0, "lost %d: %s" % (report["lost"], report["missing"])


@pytest.mark.lab(attach=("dhcp",))
def test_break_before_make_solicits_at_once_instead_of_waiting_for_an_advertisement(
        lab, mipd_factory):
    # The foreign agent advertises once a minute from now on: only an
    # answered solicitation can bring the node there within seconds.
    lab.fa.call({"cmd": "set", "adv_interval": 60})
    before = lab.fa.call({"cmd": "counters"})
    m = mipd_factory(lab, make_before_break=False)
    m.wait_state("registered", timeout=15, care_of_mode="co-located")
    signals = Signals(lab)
    try:
        mark = signals.mark()
        m.write_config(make_before_break=False, prefer=prefer_first("fa0"))
        m.mipc("reload")
        lab.detach("dhcp")
        lab.attach("fa")
        sig = signals.wait("fa0", mark)
    finally:
        signals.close()
    st, _ = m.wait_state("registered", timeout=5, care_of_mode="foreign-agent")
    assert st["care_of_address"] == FA_COA
    assert bindings(lab) == [FA_COA]
    after = lab.fa.call({"cmd": "counters"})
    c0, c1 = before["counters"], after["counters"]
    assert c1.get("solicitations_answered", 0) > c0.get("solicitations_answered", 0)
    assert after["advertiser"]["last_sent"]["why"] == "solicited"
    assert sig["handover-mode"] == "break-before-make"
    assert sig["old-interface"] == "dhcp0" and sig["mode"] == "foreign-agent"
    assert "outage-ms" in sig and "trigger-to-accepted-ms" in sig
    assert m.status()["statistics"]["solicitations_sent"] >= 1


@pytest.mark.lab(attach=("fa",), ha_config={"simultaneous_bindings": False})
def test_without_simultaneous_bindings_the_new_binding_replaces_the_old_in_one_step(
        lab, mipd_factory):
    m = mipd_factory(lab, prefer=prefer_first("fa0"))
    m.wait_state("registered", timeout=15)
    signals = Signals(lab)
    try:
        sig = mbb_handover(lab, m, signals, "fa", "dhcp")
    finally:
        signals.close()
    check_mbb_signal(sig, "fa0", "dhcp0")
    assert bindings(lab) == [sig["care-of-address"]]
    # The home agent said so (code 1) and dropped the old binding itself;
    # mipd sent no release.
    replies = [e for e in ha_events(lab, "reply") if e.get("lifetime")]
    assert replies[-1]["code"] == 1
    removed = [e for e in ha_events(lab, "binding-removed") if e["care_of_address"] == FA_COA]
    assert removed and removed[-1]["why"] == "replaced"
    assert "release of the old care-of" not in m.log_text()
