"""link-nm against a real NetworkManager in the lab (tests/lab): leases,
carrier loss, roaming on one interface, re-activation, device hot-plug."""

import os
import subprocess
import time

import pytest

from linkdriver import LinkDriver

pytestmark = pytest.mark.lab(agents=False)


def in_net(prefix):
    return lambda a: bool(a) and a.startswith(prefix)


@pytest.fixture
def nm_driver(lab, driver_bin):
    drivers = []

    def start(*extra):
        d = LinkDriver([driver_bin, "nm"] + list(extra),
                       popen=lambda argv, **kw: lab.popen("mn", argv, name="link-driver", **kw))
        drivers.append(d)
        ev = d.wait(lambda e: e["event"] in ("available", "garbage"), 10)
        assert ev and ev.get("ok") is True, "NM back end unavailable: %r" % ev
        # Initial report of every device: wlan0 is the last one the lab makes.
        assert d.link("wlan0", timeout=10), "no initial report; events: %r" % d.events
        return d

    yield start
    for d in drivers:
        assert d.close() == 0
        d.assert_deduped()


@pytest.fixture
def kernel_watch(lab, driver_bin):
    """link-netlink in P-mn: when the kernel itself reported a carrier change.
    The kernel may batch carrier events of a veth whose ends have the same
    ifindex (not "urgent" for linkwatch) by up to 1 s when other links on the
    host changed in the last second: deadlines count from the kernel's report."""
    d = LinkDriver([driver_bin, "netlink"],
                   popen=lambda argv, **kw: lab.popen("mn", argv, name="link-driver", **kw))
    assert d.link("wlan0", timeout=5), "netlink driver did not start: %r" % d.events
    yield d
    assert d.close() == 0


def test_attach_reports_fa0_active_with_lease_and_gateway(lab, nm_driver, kernel_watch, timing):
    drv = nm_driver()
    assert drv.last("fa0")["active"] is False
    since, ksince = drv.mark(), kernel_watch.mark()
    t0 = time.monotonic()
    lab.attach("fa")
    ev = drv.link("fa0", since=since, timeout=5, active=True)
    assert ev, "fa0 not active; last %r" % drv.last("fa0")
    kernel = kernel_watch.link("fa0", since=ksince, timeout=0, carrier=True)
    timing("attach -> active with lease", ev["t"] - t0)
    timing("kernel carrier -> active with lease", ev["t"] - kernel["t"])
    assert ev["address"].startswith("198.51.100.") and ev["prefix"] == 24
    assert ev["gateway"] == "198.51.100.1" and ev["carrier"] is True
    assert ev["type"] == "ethernet"  # an NMDeviceVeth
    assert ev["address"] == lab.wait_lease("fa0")


@pytest.mark.lab(attach=("fa",), agents=False)
def test_detach_reports_inactive_within_half_a_second(lab, nm_driver, kernel_watch, timing):
    lease = lab.wait_lease("fa0")
    drv = nm_driver()
    assert drv.link("fa0", active=True, address=lease, timeout=2)
    since, ksince = drv.mark(), kernel_watch.mark()
    t0 = time.monotonic()
    lab.detach("fa")
    kernel = kernel_watch.link("fa0", since=ksince, timeout=2, carrier=False)
    lost = drv.link("fa0", since=since, timeout=2, carrier=False)
    down = drv.link("fa0", since=since, timeout=2, active=False)
    assert kernel and lost and down
    timing("detach -> kernel reports no carrier", kernel["t"] - t0)
    timing("kernel no carrier -> carrier false", lost["t"] - kernel["t"])
    timing("kernel no carrier -> inactive", down["t"] - kernel["t"])
    timing("detach -> inactive", down["t"] - t0)
    assert down["t"] - kernel["t"] < 0.5


@pytest.mark.lab(attach=("wlan",), wlan="vfa", agents=False)
def test_roaming_with_short_bounce_reports_new_lease(lab, nm_driver, timing):
    lab.wait_lease("wlan0")
    drv = nm_driver()
    assert drv.link("wlan0", active=True, address=in_net("198.51.100."), timeout=2)
    since = drv.mark()
    t0 = time.monotonic()
    lab.move_wlan("vdhcp", settle=False)  # a carrier blip of a few ms
    ev = drv.link("wlan0", since=since, timeout=1.0, active=True, address=in_net("192.0.2."))
    if ev is None:  # NM kept the old lease across the blip: ask for a new one
        rep = drv.reactivate("wlan0")
        assert rep and rep["ok"], rep
        ev = drv.link("wlan0", since=since, timeout=3, active=True, address=in_net("192.0.2."))
        what = "bounce -> new lease (needed reactivate)"
    else:
        what = "bounce -> new lease (NM alone)"
    assert ev, "no 192.0.2.x lease; last %r" % drv.last("wlan0")
    timing(what, ev["t"] - t0)
    assert ev["gateway"] == "192.0.2.1"


@pytest.mark.lab(attach=("wlan",), wlan="vfa", agents=False)
def test_reactivate_replaces_lease_kept_across_carrier_bounce(lab, nm_driver, timing):
    # NM keeps an activated device through carrier losses shorter than
    # carrier-wait-timeout (6 s by default; the lab sets 0): restore the
    # default for wlan0 so the blip leaves the stale lease of real laptops.
    conf = os.path.join(lab.run_dir, "nm", "conf.d", "50-mipln-wlan.conf")
    with open(conf, "w") as f:
        f.write("[device-mipln-wlan]\nmatch-device=interface-name:wlan0\n"
                "carrier-wait-timeout=6000\n")
    lab.nmcli("general", "reload", "conf")
    old = lab.wait_lease("wlan0")
    drv = nm_driver()
    assert drv.link("wlan0", active=True, address=old, timeout=2)
    since = drv.mark()
    lab.move_wlan("vdhcp", settle=False)
    assert drv.link("wlan0", since=since, timeout=1, carrier=False)
    back = drv.link("wlan0", since=since, timeout=1, carrier=True)
    assert back and back["address"] == old and back["active"] is True, back
    # The stale lease stays (NM would only notice at rebind, minutes later).
    assert drv.link("wlan0", since=since, timeout=1.0, address=in_net("192.0.2.")) is None
    assert lab.device("wlan0")["ip4"] == [old + "/24"]
    t0 = time.monotonic()
    rep = drv.reactivate("wlan0")
    assert rep and rep["ok"] is True, rep
    ev = drv.link("wlan0", since=since, timeout=3, active=True, address=in_net("192.0.2."))
    assert ev, "no new lease after reactivate; last %r" % drv.last("wlan0")
    timing("reactivate -> new lease", ev["t"] - t0)
    assert ev["gateway"] == "192.0.2.1"


@pytest.mark.lab(attach=("fa",), agents=False)
def test_reactivate_without_current_connection_uses_available_profile(lab, nm_driver, timing):
    lab.wait_lease("fa0")
    drv = nm_driver()
    lab.nmcli("device", "disconnect", "fa0")
    assert drv.link("fa0", active=False, timeout=3)
    since = drv.mark()
    t0 = time.monotonic()
    rep = drv.reactivate("fa0")
    assert rep and rep["ok"] is True, rep
    ev = drv.link("fa0", since=since, timeout=3, active=True,
                  address=in_net("198.51.100."))
    assert ev
    timing("reactivate disconnected device -> lease", ev["t"] - t0)


def test_reactivate_unknown_device_fails_with_reason(lab, nm_driver):
    drv = nm_driver()
    rep = drv.reactivate("nosuch0")
    assert rep and rep["ok"] is False and "nosuch0" in rep["error"]


def test_ignored_loopback_and_own_devices_are_never_reported(lab, nm_driver, timing):
    drv = nm_driver("--ignore", "nat*")
    since = drv.mark()
    t0 = time.monotonic()
    lab.ip("mn", "link", "add", "plug0", "type", "veth", "peer", "name", "mipt0")
    ev = drv.link("plug0", since=since, timeout=5)
    assert ev, "hot-plugged plug0 not reported"
    timing("device added -> reported", ev["t"] - t0)
    t0 = time.monotonic()
    lab.ip("mn", "link", "del", "plug0")
    gone = drv.wait(lambda e: e.get("event") == "removed" and e["name"] == "plug0", 5, since)
    assert gone
    timing("device deleted -> removed", gone["t"] - t0)
    assert not {"lo", "nat0", "mipt0"} & drv.names()
    assert {"home0", "fa0", "dhcp0", "wlan0"} <= drv.names()


def test_devices_removed_when_networkmanager_stops(lab, nm_driver):
    drv = nm_driver()
    since = drv.mark()
    nm = [r for r in lab.state.procs() if r["name"] == "NetworkManager"]
    assert len(nm) == 1
    os.kill(nm[0]["pid"], 15)
    for dev in ("home0", "fa0", "dhcp0", "nat0", "wlan0"):
        assert drv.wait(lambda e: e.get("event") == "removed" and e["name"] == dev, 5, since), dev


def test_unavailable_without_networkmanager_says_why(driver_bin, tmp_path):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=%s/none" % tmp_path)
    drv = LinkDriver([driver_bin, "nm"], env=env, stderr=subprocess.DEVNULL)
    ev = drv.wait(lambda e: e["event"] == "available", 5)
    assert ev and ev["ok"] is False and ev["why"]
    assert drv.close() == 3


def test_stop_during_startup_is_clean(lab, driver_bin):
    # EOF right away: stop() runs while NMClient is still initialising.
    for _ in range(3):
        drv = LinkDriver([driver_bin, "nm"],
                         popen=lambda argv, **kw: lab.popen("mn", argv, name="link-driver", **kw))
        assert drv.close() == 0
        assert drv.wait(lambda e: e["event"] == "stopped", 0)
