"""Self-tests of the lab (labkit and the `lab` command) against TOPOLOGY.md:
namespaces and routing, NetworkManager leases and carrier detection, roaming
wlan0, the mip* devices NM must leave alone, and clean-up that leaves nothing,
also after the builder is killed half-way. Run as root."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from labkit import agents, cleanup, procs, state, topology

LAB_CMD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
PY = "/usr/bin/python3"


def ping_many(lab, node, addrs, count=1, wait=1):
    """{addr: True if answered}, all pinged in parallel from node."""
    ps = {a: subprocess.Popen(["ip", "netns", "exec", lab.ns(node), "ping", "-n", "-q",
                               "-c%d" % count, "-W%d" % wait, a],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
          for a in addrs}
    return {a: p.wait(10) == 0 for a, p in ps.items()}


def routes(lab, node):
    return [r["dst"] + (" via " + r["gateway"] if "gateway" in r else "")
            for r in json.loads(lab.ip(node, "-j", "-4", "route"))]


def nm_states(lab):
    out = lab.nmcli("-t", "-f", "DEVICE,STATE", "device")
    return dict(line.split(":", 1) for line in out.splitlines())


def test_namespaces_exist_and_route_as_topology_says(lab):
    existing = set(state.ip_netns_list())
    for node in topology.NODES:
        assert lab.ns(node) in existing

    reach = ping_many(lab, "cn", [
        "203.0.113.1", "198.18.0.254",               # the router
        "198.18.0.1",                                # the home agent's address
        "198.18.101.1", "198.51.100.1",              # vfa: uplink and LAN gateway
        "198.18.102.1", "192.0.2.1",                 # vdhcp
        "198.18.103.1",                              # vnat's uplink
    ])
    assert reach == {a: True for a in reach}, reach
    # The NAT LAN is hidden: no route to it anywhere outside P-vnat.
    assert ping_many(lab, "cn", ["198.19.3.1"]) == {"198.19.3.1": False}
    r = lab.run("router", ["ip", "route", "get", "198.19.3.1"])
    assert r.returncode != 0 and "unreachable" in r.stderr.lower()

    assert sorted(routes(lab, "router")) == sorted([
        "192.0.2.0/24 via 198.18.102.1", "198.18.0.0/24", "198.18.101.0/24",
        "198.18.102.0/24", "198.18.103.0/24", "198.51.100.0/24 via 198.18.101.1",
        "203.0.113.0/24"])
    assert "default via 198.18.0.254" in routes(lab, "home")
    assert "default via 203.0.113.1" in routes(lab, "cn")
    for node, gw in (("vfa", "198.18.101.254"), ("vdhcp", "198.18.102.254"),
                     ("vnat", "198.18.103.254")):
        assert "default via " + gw in routes(lab, node)
        assert lab.run(node, ["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip() == "1"

    # Home link: br0 with ports up and mn; proxy ARP prerequisites for the agent.
    ports = json.loads(lab.ip("home", "-j", "link", "show", "master", "br0"))
    assert sorted(p["ifname"] for p in ports) == ["mn", "up"]
    assert lab.run("home", ["cat", "/proc/sys/net/ipv4/ip_forward",
                            "/proc/sys/net/ipv4/neigh/br0/proxy_delay"]).stdout.split() == ["1", "0"]

    # Every far end starts detached; NM manages the node's devices and has
    # nothing to activate yet.
    for link in topology.LINKS:
        assert not lab.attached(link), link
    states = nm_states(lab)
    for dev in ("home0", "fa0", "dhcp0", "nat0", "wlan0"):
        assert states[dev] == "unavailable", states


@pytest.mark.lab(attach=("fa", "dhcp", "nat", "home"))
def test_network_manager_gets_a_lease_on_each_visited_network(lab):
    leases = {dev: lab.wait_lease(dev, timeout=10) for dev in ("fa0", "dhcp0", "nat0")}
    assert topology.in_subnet(leases["fa0"], "198.51.100.0/24")
    assert topology.in_subnet(leases["dhcp0"], "192.0.2.0/24")
    assert topology.in_subnet(leases["nat0"], "198.19.3.0/24")
    for a in leases.values():
        assert 100 <= int(a.rsplit(".", 1)[1]) <= 199
    # dnsmasq handed them out (its lease files) and named its LAN as the router.
    for node, dev in (("vfa", "fa0"), ("vdhcp", "dhcp0"), ("vnat", "nat0")):
        with open(os.path.join(lab.run_dir, "dnsmasq-%s.leases" % node)) as f:
            assert leases[dev] in f.read()
    assert lab.wait_lease("home0") == topology.HOME_ADDRESS

    # Out through the NAT: cn answers, and vnat's masquerade rule counted it.
    assert lab.run("mn", ["ping", "-n", "-c1", "-W2", "-I", "nat0", "203.0.113.10"]).returncode == 0
    ruleset = lab.run("vnat", ["nft", "list", "ruleset"]).stdout
    assert "masquerade" in ruleset and "packets 0 " not in ruleset


@pytest.mark.lab(attach=("fa", "dhcp", "nat"))
def test_network_manager_sees_a_detach_within_half_a_second(lab):
    watch = lab.nm_watch()
    times = []
    for link, dev in (("fa", "fa0"), ("dhcp", "dhcp0"), ("nat", "nat0")) * 2:
        lab.attach(link)
        lab.wait_lease(dev, timeout=10)
        mark = watch.mark()
        t0 = time.monotonic()
        lab.detach(link)
        ev = watch.wait(lambda e: e["dev"] == dev and e["ev"] == "state"
                        and e["state"] in (20, 30), timeout=3, since=mark)
        assert ev is not None, "NM never reported %s unavailable/disconnected" % dev
        times.append((dev, ev["t"] - t0))
    print("\nNM detach detection: " + ", ".join("%s %.0f ms" % (d, t * 1e3) for d, t in times))
    for dev, dt in times:
        assert dt < 0.5, "NM took %.3f s to see %s's carrier loss" % (dt, dev)


@pytest.mark.lab(attach=("dhcp",))
def test_attach_and_detach_change_what_network_manager_holds(lab):
    assert topology.in_subnet(lab.wait_lease("dhcp0"), "192.0.2.0/24")
    lab.detach("dhcp")
    assert not lab.attached("dhcp")
    d = lab.wait_device_state("dhcp0", lambda s: s <= 30, timeout=2)
    assert d["ip4"] == []
    lab.attach("dhcp")
    assert lab.attached("dhcp")
    assert topology.in_subnet(lab.wait_lease("dhcp0"), "192.0.2.0/24")
    # Aliases name the same link.
    lab.detach("dhcp0")
    assert not lab.attached("dhcp")


@pytest.mark.lab(attach=("wlan",))
def test_wlan_roams_between_networks_and_gets_a_lease_in_each(lab):
    assert lab.wlan_net == "vdhcp"
    assert topology.in_subnet(lab.wait_lease("wlan0"), "192.0.2.0/24")
    for net, subnet, settle in (("vfa", "198.51.100.0/24", True),
                                ("P-vnat", "198.19.3.0/24", True),
                                ("vdhcp", "192.0.2.0/24", False),
                                ("vfa", "198.51.100.0/24", False)):
        lab.move_wlan(lab.ns(net[2:]) if net.startswith("P-") else net, settle=settle)
        here = net[2:] if net.startswith("P-") else net
        assert lab.wlan_net == here
        master = json.loads(lab.ip(here, "-j", "link", "show", "dev", "wl"))[0]
        assert master.get("master") == "br0" and "UP" in master["flags"]
        assert topology.in_subnet(lab.wait_lease("wlan0", timeout=10), subnet), net
    # Detached while moving: stays detached, and can be plugged in there.
    lab.detach("wlan")
    lab.move_wlan("home")
    assert lab.wlan_net == "home" and not lab.attached("wlan")
    assert sorted(p["ifname"] for p in json.loads(
        lab.ip("home", "-j", "link", "show", "master", "br0"))) == ["mn", "up", "wl"]
    with pytest.raises(ValueError):
        lab.move_wlan("router")


def test_network_manager_leaves_mip_devices_unmanaged(lab):
    for dev in ("mip0", "miptun0", "labtun0"):
        lab.run("mn", ["ip", "tuntap", "add", "mode", "tun", "name", dev], check=True)
    deadline = time.monotonic() + 3
    while True:
        states = nm_states(lab)
        if all(d in states for d in ("mip0", "miptun0", "labtun0")) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert states.get("mip0") == "unmanaged", states
    assert states.get("miptun0") == "unmanaged", states
    assert "labtun0" in states  # NM does see other devices (the check can fail)


@pytest.mark.parametrize("name", ["ha", "fa"])
def test_agent_answers_on_its_control_socket(lab, name):
    if not agents.available(name):
        pytest.skip("%s not written yet" % agents.script(name))
    client = getattr(lab, name)
    assert client.running
    assert client.call({"cmd": "ping"})["ok"] is True
    node = agents.AGENTS[name][0]
    assert any(r["name"] == name and r["node"] == node for r in lab.state.procs())


@pytest.mark.lab(agents=False)
def test_agents_false_starts_none(lab):
    names = [r["name"] for r in lab.state.procs()]
    assert "ha" not in names and "fa" not in names
    assert not lab.ha.running and not lab.fa.running
    for name in ("ha.json", "fa.json"):
        with open(os.path.join(lab.run_dir, name)) as f:
            cfg = json.load(f)
        assert cfg["control"] == os.path.join(lab.run_dir, name.replace(".json", ".sock"))


def _everything_of(prefix):
    """Namespaces, PIDs (recorded and inside the namespaces) of a run."""
    st = state.State.load(prefix).data
    pids = {(r["pid"], r.get("start")) for r in st.get("procs", [])}
    for ns in state.ip_netns_list():
        if ns.startswith(prefix + "-"):
            pids |= {(p, procs.start_time(p)) for p in procs.netns_pids(ns)}
    return pids


def _assert_nothing_left(prefix, pids):
    assert cleanup.leftovers(prefix) == []
    alive = [p for p, start in pids if start is not None and procs.alive(p, start)]
    assert alive == [], "processes of %s still running: %s" % (prefix, alive)
    assert not any(ns.startswith(prefix) for ns in state.ip_netns_list())


def test_down_leaves_nothing_behind(lab_factory):
    lab = lab_factory(attach=("fa", "wlan"))
    lab.wait_lease("fa0")
    sleeper = lab.popen("cn", ["sleep", "60"])
    stubborn = lab.popen("mn", ["sh", "-c", "trap '' TERM; sleep 60"])  # needs SIGKILL
    pids = _everything_of(lab.prefix)
    assert {sleeper.pid, stubborn.pid} <= {p for p, _ in pids}
    assert len(pids) >= 7  # bus, NM, 3 × dnsmasq, the two above
    t0 = time.monotonic()
    lab.down()
    took = time.monotonic() - t0
    _assert_nothing_left(lab.prefix, pids)
    assert sleeper.poll() is not None and stubborn.poll() is not None
    assert took < 6, "down() took %.1f s" % took


def test_two_labs_run_side_by_side_without_touching_each_other(lab_factory):
    a = lab_factory(attach=("dhcp",), agents=False)
    b = lab_factory(attach=("dhcp",), agents=False)
    assert a.prefix != b.prefix and a.bus_address != b.bus_address
    assert topology.in_subnet(a.wait_lease("dhcp0"), "192.0.2.0/24")
    assert topology.in_subnet(b.wait_lease("dhcp0"), "192.0.2.0/24")
    a.detach("dhcp")
    a.wait_device_state("dhcp0", lambda s: s <= 30, timeout=2)
    assert b.device("dhcp0")["state"] == 100
    pids = _everything_of(a.prefix)
    a.down()
    _assert_nothing_left(a.prefix, pids)
    assert b.device("dhcp0")["state"] == 100
    assert b.run("cn", ["ping", "-c1", "-W1", "192.0.2.1"]).returncode == 0


def test_lab_command_round_trip():
    if os.geteuid() != 0:
        pytest.skip("not root")
    def lab_cmd(*args, check=True):
        r = subprocess.run([LAB_CMD] + list(args), capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r
    r = lab_cmd("up", "--attach", "fa", "--json")
    prefix = json.loads(r.stdout)["prefix"]
    try:
        assert topology.PREFIX_RE.match(prefix)
        lab_cmd("-p", prefix, "wait-lease", "fa0")
        st = lab_cmd("-p", prefix, "status")
        assert "fa attached" in st.stdout and "198.51.100." in st.stdout
        lab_cmd("-p", prefix, "attach", "dhcp")
        assert "192.0.2." in lab_cmd("-p", prefix, "wait-lease", "dhcp0").stdout
        lab_cmd("-p", prefix, "move-wlan", "vfa")
        assert "dhcp0:connected" in lab_cmd("-p", prefix, "nmcli", "-t", "-f",
                                            "DEVICE,STATE", "dev").stdout
        assert lab_cmd("-p", prefix, "exec", "cn", "ping", "-c1", "-W1",
                       "198.18.0.1").returncode == 0
        assert lab_cmd("-p", prefix, "exec", "cn", "ping", "-c1", "-W1", "198.19.3.1",
                       check=False).returncode != 0
        pids = _everything_of(prefix)
    finally:
        down = lab_cmd("down", prefix, check=False)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "nothing left" in down.stdout
    _assert_nothing_left(prefix, pids)


class Sandbox:
    """A private view of lab names for `lab down --all`: a holder process in
    its own mount namespace with a tmpfs over /run/netns, and run dirs under a
    temporary MIPD_LAB_RUN_BASE. Labs made through it are invisible to
    everyone else's `lab`, and theirs to it, so --all only meets ours. When the
    holder exits, its namespace names vanish with its mounts."""

    def __init__(self):
        os.makedirs("/run/netns", exist_ok=True)  # what `ip netns add` does anyway
        self.base = tempfile.mkdtemp(prefix="mipd-lab-selftest.")
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs mipd-lab-selftest /run/netns && echo ready && exec sleep 600"],
            stdout=subprocess.PIPE, text=True)
        assert self.holder.stdout.readline().strip() == "ready"
        self.env = dict(os.environ, MIPD_LAB_RUN_BASE=self.base)

    def argv(self, *args):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"] + list(args)

    def lab(self, *args, **kw):
        return subprocess.Popen(self.argv(LAB_CMD, *args), env=dict(self.env, **kw),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def runs(self):
        try:
            return sorted(os.listdir(self.base))
        except FileNotFoundError:  # removed with the last run, as /run/mipd-lab is
            return []

    def state(self, prefix):
        try:
            with open(os.path.join(self.base, prefix, "state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def namespaces(self):
        out = subprocess.run(self.argv("ip", "netns", "list"), capture_output=True,
                             text=True).stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def pids(self, prefix):
        pids = {(r["pid"], r.get("start")) for r in self.state(prefix).get("procs", [])}
        for ns in self.namespaces():
            if ns.startswith(prefix + "-"):
                out = subprocess.run(self.argv("ip", "netns", "pids", ns), capture_output=True,
                                     text=True).stdout
                pids |= {(int(p), procs.start_time(int(p))) for p in out.split()}
        return pids

    def leftovers(self, prefix):
        found = ["namespace " + ns for ns in self.namespaces() if ns.startswith(prefix)]
        found += ["run dir " + p for p in self.runs()]
        with open("/proc/%d/mountinfo" % self.holder.pid) as f:
            found += ["mount " + line.split()[4] for line in f if prefix in line]
        found += ["root link " + d for d in os.listdir("/sys/class/net") if d.startswith(prefix)]
        return found

    def close(self):
        self.holder.kill()
        self.holder.wait()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def sandbox():
    if os.geteuid() != 0:
        pytest.skip("not root")
    box = Sandbox()
    yield box
    box.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("point", ["root", "nm", "agents", "end"])
def test_killed_while_building_then_lab_down_all_leaves_nothing(sandbox, sig, point):
    """`lab up` is interrupted (SIGINT: it cleans up itself) or killed
    (SIGKILL: state.json is all that is left) at a known step of the build
    (LABKIT_STALL holds it there); `lab down --all` must then leave nothing.
    Runs in a Sandbox so that --all cannot hit anybody else's lab."""
    if point == "agents" and not agents.available("ha"):
        pytest.skip("no agents to start yet")
    p = sandbox.lab("up", "--attach", "fa", "wlan", LABKIT_STALL=point)
    prefix, deadline = None, time.monotonic() + 15
    while prefix is None and time.monotonic() < deadline and p.poll() is None:
        for cand in sandbox.runs():
            if sandbox.state(cand).get("stalled") == point:
                prefix = cand
        time.sleep(0.005)
    assert prefix, "lab up never stalled at %s (%s)" % (point, p.communicate()[1])
    assert sorted(sandbox.namespaces()) == sorted(topology.namespaces(prefix))
    assert not any(ns.startswith(prefix) for ns in state.ip_netns_list())  # sandboxed
    pids = sandbox.pids(prefix)
    assert pids or point == "root"
    # nsenter forks the lab command: signal that one, not nsenter.
    lab_pid = sandbox.state(prefix)["owner_pid"]
    os.kill(lab_pid, sig)
    _, err = p.communicate(timeout=30)
    pids |= sandbox.pids(prefix)
    if sig == signal.SIGINT:
        assert p.returncode == 130, err
        assert "interrupted while building" in err
        assert sandbox.leftovers(prefix) == [], "the SIGINT handler did not clean up"
    else:
        assert sandbox.leftovers(prefix) != []
    r = sandbox.lab("down", "--all")
    out, err = r.communicate(timeout=60)
    assert r.returncode == 0, out + err
    if sig == signal.SIGKILL:
        assert "lab %s: removed; nothing left" % prefix in out
    assert sandbox.leftovers(prefix) == []
    alive = [pid for pid, start in pids if start is not None and procs.alive(pid, start)]
    assert alive == []
