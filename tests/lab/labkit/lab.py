"""The Lab object: builds the topology of TOPOLOGY.md with a real NetworkManager,
dnsmasq and the agents, drives it (attach, detach, move_wlan, run, popen) and
tears it all down again."""

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from . import agents, cleanup, nm, procs, state, topology

log = logging.getLogger("labkit")

TOOLS = ("ip", "NetworkManager", "nmcli", "nm-online", "dnsmasq", "dbus-daemon",
         "nft", "mount")
PYTHON = "/usr/bin/python3"
# Build steps run outside the lab's namespaces (the root `ip -batch`) must not
# outlive a builder killed with SIGKILL, or they would go on creating things
# after `lab down` cleaned up. Only for commands whose calling thread waits for
# them: the signal comes when that thread ends.
DIE_WITH_US = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []


class LabError(RuntimeError):
    pass


class _Aborted(Exception):
    pass


def missing_prerequisites():
    """Reasons the lab cannot run here (empty list: it can)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root (the lab creates network namespaces)")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        why.append("missing tools: %s (run tools/setup-deps)" % ", ".join(missing))
    if not os.path.isdir("/var/lib/NetworkManager"):
        why.append("no /var/lib/NetworkManager (network-manager not installed?)")
    return why


# --- signals and exit: clean up live labs -----------------------------------

_live = []          # labs built by this process and not yet down
_live_lock = threading.Lock()
_saved_handlers = {}
_shield = [0]       # >0 while a teardown runs: signals wait


def _on_signal(signum, frame):
    if _shield[0]:
        sys.stderr.write("labkit: signal %d during clean-up; finishing clean-up first\n" % signum)
        return
    # SIGTERM too: pytest stops the session on KeyboardInterrupt (and tears
    # fixtures down) but would count SystemExit as one failed test and go on.
    raise KeyboardInterrupt("signal %d" % signum)


def _install_handlers():
    if threading.current_thread() is not threading.main_thread() or _saved_handlers:
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        _saved_handlers[sig] = signal.signal(sig, _on_signal)


def _restore_handlers():
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, h in list(_saved_handlers.items()):
        signal.signal(sig, h)
        del _saved_handlers[sig]


@atexit.register
def _down_all_at_exit():
    for lab in list(_live):
        try:
            lab.down()
        except Exception as e:  # at exit there is no one left to raise to
            sys.stderr.write("labkit: %s\n" % e)


# --- the lab ----------------------------------------------------------------

class Lab:
    """One lab run. Build with Lab.up(...); find a running one with Lab.open()."""

    def __init__(self, st):
        self.state = st
        self.prefix = st.prefix
        self.run_dir = st.dir
        self.bus_address = nm.bus_address(self.run_dir)
        self.mn_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        self.timings = {}
        self._children = {}
        self._spawn_lock = threading.Lock()
        self._abort = False
        self._is_down = False
        self._watchers = []
        self._threads = []
        self.ha = self.fa = None
        self._set_agent_clients()

    # ---- construction ----

    @classmethod
    def up(cls, attach=(), agents=True, wlan=topology.DEFAULT_WLAN_NET,
           lease_time="2m", ha_config=None, fa_config=None, timeout=30.0, keep=False):
        """Build a lab and return it (a context manager: `with Lab.up() as lab`).

        attach: links whose far end starts up (home, fa, dhcp, nat, wlan).
        agents: start agents/ha.py and agents/fa.py (skipped if missing).
        wlan:   the network wlan0's far end starts in (home, vfa, vdhcp, vnat).
        lease_time: dnsmasq's lease time (at least "2m").
        ha_config, fa_config: keys merged into ha.json / fa.json.
        timeout: seconds any one service may take to start.
        keep:   leave it running when this process exits (the `lab up` command);
                otherwise an exit, Ctrl-C or SIGTERM tears it down."""
        why = missing_prerequisites()
        if why:
            raise LabError("; ".join(why))
        attach = tuple(topology.canonical_link(a) for a in attach)
        wlan = topology.canonical_net(wlan)
        t0 = time.monotonic()
        os.makedirs(state.BASE, exist_ok=True)
        while True:  # claim a prefix: its run dir is ours only if we made it
            st = state.State(state.new_prefix())
            try:
                os.mkdir(st.dir, 0o755)
                break
            except FileExistsError:
                continue
        _install_handlers()
        st.data["options"] = {"attach": list(attach), "agents": bool(agents),
                              "wlan": wlan, "lease_time": lease_time, "keep": keep,
                              "ha_config": ha_config or {}, "fa_config": fa_config or {}}
        st.data["wlan_net"] = wlan
        lab = cls(st)
        with _live_lock:
            _live.append(lab)
        try:
            st.save()
            lab._build(attach, agents, wlan, lease_time, timeout)
        except BaseException:
            lab._abort_build()
            lab.down()
            raise
        finally:
            if keep:
                with _live_lock:
                    if lab in _live:
                        _live.remove(lab)
                if not _live:
                    _restore_handlers()
        lab.timings["up"] = time.monotonic() - t0
        st.update(phase="up", timings=lab.timings)
        log.info("lab %s up in %.2f s", lab.prefix, lab.timings["up"])
        return lab

    @classmethod
    def open(cls, prefix=None):
        """A running lab by prefix; without one, the only running lab."""
        runs = state.list_runs()
        if prefix is None:
            if len(runs) != 1:
                raise LabError("no lab is running" if not runs else
                               "%d labs are running (%s): name one" % (len(runs), ", ".join(runs)))
            prefix = runs[0]
        if prefix not in runs:
            raise LabError("no lab %s (running: %s)" % (prefix, ", ".join(runs) or "none"))
        st = state.State.load(prefix)
        return cls(st)

    def _set_agent_clients(self):
        started = self.state.data.get("agents", {})
        for name in agents.AGENTS:
            info = started.get(name)
            sock = os.path.join(self.run_dir, name + ".sock")
            if info and info.get("running"):
                client = agents.AgentClient(name, sock)
            else:
                why = (info or {}).get("why", "not started")
                client = agents.AgentClient(name, sock, running=False, why=why)
            setattr(self, name, client)

    def _spawn(self, name, kind, node, argv, logname=None, env=None):
        """Start argv inside node's namespace, recorded in state.json at once."""
        with self._spawn_lock:
            if self._abort:
                raise _Aborted()
            out = open(os.path.join(self.run_dir, logname or name + ".log"), "ab")
            try:
                p = subprocess.Popen(["ip", "netns", "exec", self.ns(node)] + list(argv),
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
            finally:
                out.close()
            self._children[p.pid] = p
            self.state.add_proc(procs.record(name, p.pid, kind=kind, node=node))
        return p

    def _wait(self, what, cond, timeout, proc=None, logname=None):
        deadline = time.monotonic() + timeout
        while True:
            if self._abort:
                raise _Aborted()
            if cond():
                return
            if proc is not None and proc.poll() is not None:
                raise LabError("%s exited (status %s) while starting%s" % (
                    what, proc.returncode, self._tail(logname)))
            if time.monotonic() >= deadline:
                raise LabError("%s not ready after %.0f s%s" % (what, timeout, self._tail(logname)))
            time.sleep(0.01)

    def _tail(self, logname, lines=15):
        if not logname:
            return ""
        path = os.path.join(self.run_dir, logname)
        try:
            with open(path, errors="replace") as f:
                text = f.read().splitlines()[-lines:]
        except OSError:
            return ""
        return "; last lines of %s:\n  %s" % (path, "\n  ".join(text))

    def _build(self, attach, with_agents, wlan, lease_time, timeout):
        rd = self.run_dir
        t = time.monotonic()
        nm.write_config(rd)
        with open(os.path.join(rd, "vnat.nft"), "w") as f:
            f.write(topology.VNAT_NFT)
        scripts = {}
        for node in topology.NODES:
            script, batch = topology.node_script(self.prefix, node, wlan, attach, rd)
            with open(os.path.join(rd, "ip-%s.batch" % node), "w") as f:
                f.write("\n".join(batch) + "\n")
            scripts[node] = script
        want_agents = {}
        for name in agents.AGENTS:
            agents.write_config(name, rd, self.state.data["options"].get(name + "_config"))
            if not with_agents:
                want_agents[name] = {"running": False, "why": "Lab.up(agents=False)"}
            elif not agents.available(name):
                want_agents[name] = {"running": False,
                                     "why": "%s does not exist" % agents.script(name)}
        try:
            self._ip_root(topology.root_batch(self.prefix, wlan))
        except LabError as e:
            # An iproute2 or kernel without placement at creation: undo, move instead.
            log.warning("%s; retrying with create-then-move", e)
            subprocess.run(DIE_WITH_US + ["ip", "-force", "-batch", "-"], capture_output=True,
                           input="".join("netns del %s\n" % ns
                                         for ns in topology.namespaces(self.prefix)), text=True)
            self._ip_root(topology.root_batch(self.prefix, wlan, move=True))
        self.timings["root"] = time.monotonic() - t
        self._stall("root")

        errors = []
        done = {n: threading.Event() for n in topology.NODES}

        def guarded(fn, *args):
            try:
                fn(*args)
            except _Aborted:
                pass
            except BaseException as e:  # reported by the main thread
                errors.append(e)
                self._abort = True

        def node_worker(node):
            t1 = time.monotonic()
            r = subprocess.run(DIE_WITH_US + ["ip", "netns", "exec", self.ns(node), "sh", "-c",
                                              scripts[node]],
                               capture_output=True, text=True, timeout=timeout)
            if r.returncode:
                raise LabError("configuring %s failed: %s" % (self.ns(node), r.stderr.strip()))
            self.timings["node-" + node] = time.monotonic() - t1
            done[node].set()
            if node in ("vfa", "vdhcp", "vnat"):
                self._start_dnsmasq(node, lease_time, timeout)
            for name, (anode, _) in agents.AGENTS.items():
                if anode == node and name not in want_agents:
                    self._stall("agents")
                    self._start_agent(name, timeout)
                    want_agents[name] = {"running": True}
            self.timings["ready-" + node] = time.monotonic() - t

        def nm_worker():
            t1 = time.monotonic()
            sock = os.path.join(rd, nm.BUS_SOCKET)
            bus = self._spawn("dbus-daemon", "service", "mn", nm.dbus_argv(rd), "dbus.log")
            self._wait("dbus-daemon", lambda: _connectable(sock), timeout, bus, "dbus.log")
            self.timings["dbus"] = time.monotonic() - t1
            while not done["mn"].wait(0.01):
                if self._abort:
                    raise _Aborted()
            self._stall("nm")
            argv, env = nm.nm_argv(rd)
            nmp = self._spawn("NetworkManager", "service", "mn", argv, "nm.log",
                              env=dict(self.mn_env, **env))
            self._wait("NetworkManager", lambda: self._nm_started(), timeout, nmp, "nm.log")
            self.timings["nm"] = time.monotonic() - t1

        threads = [threading.Thread(target=guarded, args=(node_worker, n), daemon=True)
                   for n in topology.NODES]
        threads.append(threading.Thread(target=guarded, args=(nm_worker,), daemon=True))
        self._threads = threads
        for th in threads:
            th.start()
        for th in threads:
            while th.is_alive():
                th.join(0.05)
        if errors:
            raise errors[0]
        self.state.update(agents=want_agents)
        self._set_agent_clients()
        self._stall("end")

    def _stall(self, point):
        """Test hook: with LABKIT_STALL=point the build pauses there (noted in
        state.json as "stalled") for up to 10 s, so the self-tests can kill
        the builder at a known step."""
        if os.environ.get("LABKIT_STALL") != point:
            return
        self.state.update(stalled=point)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._abort:
                raise _Aborted()
            time.sleep(0.01)

    def _nm_started(self):
        r = subprocess.run(DIE_WITH_US + ["nm-online", "-s", "-q", "-t", "0"], env=self.mn_env,
                           capture_output=True)
        return r.returncode == 0

    def _ip_root(self, lines):
        r = subprocess.run(DIE_WITH_US + ["ip", "-batch", "-"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True)
        if r.returncode:
            raise LabError("building namespaces and veths failed: " + r.stderr.strip())

    def _start_dnsmasq(self, node, lease_time, timeout):
        net = topology.NETS[node]
        argv = nm.dnsmasq_argv(self.run_dir, node, net, lease_time)
        p = self._spawn("dnsmasq-" + node, "service", node, argv, "dnsmasq-%s.out" % node)
        pidfile = os.path.join(self.run_dir, "dnsmasq-%s.pid" % node)
        # dnsmasq writes its pid file once its sockets are bound.
        self._wait("dnsmasq in " + self.ns(node), lambda: os.path.exists(pidfile),
                   timeout, p, "dnsmasq-%s.out" % node)

    def _start_agent(self, name, timeout):
        node = agents.AGENTS[name][0]
        p = self._spawn(name, "agent", node, agents.argv(name, self.run_dir), name + ".out")
        client = agents.AgentClient(name, os.path.join(self.run_dir, name + ".sock"))
        self._wait("%s (%s)" % (name, agents.script(name)),
                   lambda: os.path.exists(client.path) and client.ping(0.5),
                   timeout, p, name + ".out")

    def _abort_build(self):
        with self._spawn_lock:
            self._abort = True
        # Workers notice the flag within ~10 ms (their waits poll it) or finish
        # their current short command; none starts a process after this.
        deadline = time.monotonic() + 5
        for th in getattr(self, "_threads", ()):
            th.join(max(0.0, deadline - time.monotonic()))

    # ---- context manager and teardown ----

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def down(self):
        """Stop every process of the run, delete its namespaces and run dir.
        Safe to call twice; raises LabError if something could not be removed."""
        if self._is_down:
            return
        self._is_down = True
        self._abort = True
        _shield[0] += 1
        t = time.monotonic()
        try:
            for w in self._watchers:
                w._stop_reader()
            problems = cleanup.teardown(self.prefix, self._children, log.warning)
        finally:
            _shield[0] -= 1
            with _live_lock:
                if self in _live:
                    _live.remove(self)
                if not _live:
                    _restore_handlers()
        self.timings["down"] = time.monotonic() - t
        log.info("lab %s down in %.2f s", self.prefix, self.timings["down"])
        if problems:
            raise LabError("lab %s: clean-up left: %s" % (self.prefix, "; ".join(problems)))

    # ---- using the lab ----

    def ns(self, node):
        """'mn' -> 'P-mn' (a full name is returned unchanged)."""
        if node.startswith(self.prefix + "-"):
            return node
        if node not in topology.NODES:
            raise ValueError("unknown node %r (nodes: %s)" % (node, ", ".join(topology.NODES)))
        return topology.ns_name(self.prefix, node)

    def _node(self, node):
        return self.ns(node)[len(self.prefix) + 1:]

    def _env(self, node, env):
        if env is None and self._node(node) == "mn":
            return self.mn_env
        return env

    def run(self, node, argv, check=False, timeout=None, env=None, capture_output=True,
            text=True, **kw):
        """Run argv in node's namespace to completion (subprocess.run). Output is
        captured as text unless capture_output=False. In mn, env defaults to
        mn_env (the lab's system bus)."""
        if isinstance(argv, str):
            argv = ["sh", "-c", argv]
        return subprocess.run(["ip", "netns", "exec", self.ns(node)] + list(argv),
                              check=check, timeout=timeout, env=self._env(node, env),
                              capture_output=capture_output, text=text, **kw)

    def popen(self, node, argv, env=None, name=None, **kw):
        """Start argv in node's namespace (subprocess.Popen); down() stops it
        (SIGTERM, SIGKILL after 3 s) if it is still running."""
        kw.setdefault("start_new_session", True)
        with self._spawn_lock:
            p = subprocess.Popen(["ip", "netns", "exec", self.ns(node)] + list(argv),
                                 env=self._env(node, env), **kw)
            self._children[p.pid] = p
            self.state.add_proc(procs.record(name or os.path.basename(argv[0]), p.pid,
                                             kind="popen", node=self._node(node)))
        return p

    def ip(self, node, *args, check=True):
        """`ip -n P-node ARGS...`; returns stdout."""
        r = subprocess.run(["ip", "-n", self.ns(node)] + list(args),
                           capture_output=True, text=True)
        if check and r.returncode:
            raise LabError("ip -n %s %s: %s" % (self.ns(node), " ".join(args), r.stderr.strip()))
        return r.stdout

    @property
    def wlan_net(self):
        """The network wlan0's far end is in: home, vfa, vdhcp or vnat."""
        return self.state.data["wlan_net"]

    def far_end(self, link):
        """(node, device) of a link's far end."""
        link = topology.canonical_link(link)
        node, dev, _ = topology.LINKS[link]
        return (self.wlan_net if link == "wlan" else node), dev

    def attach(self, link):
        """Plug a link in: its far end goes up, the node's device gets carrier."""
        node, dev = self.far_end(link)
        self.ip(node, "link", "set", "dev", dev, "up")

    def detach(self, link):
        """Unplug a link: its far end goes down, the node's device loses carrier."""
        node, dev = self.far_end(link)
        self.ip(node, "link", "set", "dev", dev, "down")

    def attached(self, link):
        node, dev = self.far_end(link)
        info = json.loads(self.ip(node, "-j", "link", "show", "dev", dev))
        return "UP" in info[0].get("flags", [])

    def move_wlan(self, net, settle=True, timeout=5.0):
        """Move wlan0's far end into another network's br0 (roaming on one
        interface). If wlan0 was attached it is attached again there. With
        settle=True (default) the link stays down until NetworkManager has seen
        the carrier loss, so NM starts over with DHCP in the new network, as
        after walking out of one Wi-Fi and into another; settle=False moves at
        once (a carrier blip of a few milliseconds)."""
        new = topology.canonical_net(net, self.prefix)
        old = self.wlan_net
        if new == old:
            return
        was_up = self.attached("wlan")
        if was_up and settle:
            self.detach("wlan")
            self.wait_device_state("wlan0", lambda s: s < 100, timeout)
        self.ip(old, "link", "set", "dev", "wl", "netns", self.ns(new))
        self.state.update(wlan_net=new)
        self.ip(new, "link", "set", "dev", "wl", "master", "br0")
        if was_up:
            self.ip(new, "link", "set", "dev", "wl", "up")

    # ---- NetworkManager ----

    def nmcli(self, *args, check=True):
        """nmcli with the lab's bus; returns stdout."""
        r = subprocess.run(["nmcli"] + list(args), env=self.mn_env, capture_output=True,
                           text=True, timeout=30)
        if check and r.returncode:
            raise LabError("nmcli %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
        return r.stdout

    def device(self, dev):
        """NM's view of a device: {'state': int, 'state_name': str, 'ip4': [..]}."""
        r = subprocess.run(["nmcli", "-t", "-g", "GENERAL.STATE,IP4.ADDRESS", "device",
                            "show", dev], env=self.mn_env, capture_output=True, text=True,
                           timeout=10)
        lines = r.stdout.splitlines()
        if r.returncode or not lines:
            raise LabError("nmcli device show %s: %s" % (dev, r.stderr.strip()))
        code, _, name = lines[0].partition(" ")
        ip4 = [a.strip() for a in (lines[1] if len(lines) > 1 else "").split("|") if a.strip()]
        return {"state": int(code), "state_name": name.strip("()"), "ip4": ip4}

    def wait_device_state(self, dev, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            d = self.device(dev)
            if pred(d["state"]):
                return d
            if time.monotonic() >= deadline:
                raise LabError("NetworkManager: %s stayed %d (%s) for %.1f s"
                               % (dev, d["state"], d["state_name"], timeout))
            time.sleep(0.02)

    def subnet_of(self, dev):
        net = self.wlan_net if dev == "wlan0" else topology.DEVICE_NET.get(dev)
        if net is None:
            raise ValueError("no lab network for device %r" % dev)
        return topology.NETS[net]["lan"]

    def wait_lease(self, dev, timeout=5.0, subnet=None):
        """Wait until NM has activated dev with an IPv4 address in the subnet of
        the network it is attached to (for wlan0: where its far end is now), and
        return that address (no prefix length)."""
        subnet = subnet or self.subnet_of(dev)
        deadline = time.monotonic() + timeout
        while True:
            d = self.device(dev)
            if d["state"] == 100:
                for a in d["ip4"]:
                    if topology.in_subnet(a, subnet):
                        return a.split("/")[0]
            if time.monotonic() >= deadline:
                raise LabError("%s: no lease in %s after %.1f s (NM: %d %s, addresses %s)" % (
                    dev, subnet, timeout, d["state"], d["state_name"], d["ip4"] or "none"))
            time.sleep(0.02)

    def nm_watch(self):
        """Start a libnm watcher (labkit/nmwatch.py) and return an NMWatch whose
        events carry time.monotonic() stamps comparable with this process's."""
        w = NMWatch(self)
        self._watchers.append(w)
        return w

    # ---- status ----

    def status(self):
        st = {"prefix": self.prefix, "run_dir": self.run_dir,
              "phase": self.state.data.get("phase"), "wlan_net": self.wlan_net,
              "namespaces": {}, "links": {}, "nm": {}, "procs": [], "agents": {}}
        existing = set(state.ip_netns_list())
        for ns in self.state.data["namespaces"]:
            st["namespaces"][ns] = ns in existing
        for link in topology.LINKS:
            try:
                st["links"][link] = "attached" if self.attached(link) else "detached"
            except (LabError, ValueError, IndexError):
                st["links"][link] = "?"
        for _, _, dev in topology.LINKS.values():
            try:
                st["nm"][dev] = self.device(dev)
            except (LabError, subprocess.SubprocessError) as e:
                st["nm"][dev] = {"error": str(e)}
        for r in self.state.procs():
            st["procs"].append(dict(r, alive=procs.alive(r["pid"], r.get("start"))))
        for name in agents.AGENTS:
            c = getattr(self, name)
            st["agents"][name] = ("running" if c.ping() else "not answering") if c.running \
                else "not started (%s)" % c._why
        return st


def _connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class NMWatch:
    """NetworkManager device events from labkit/nmwatch.py. Each event is a dict
    with 't' (time.monotonic()), 'ev' ('initial', 'state', 'ip4'), 'dev' and
    'state'/'name' or 'addrs'."""

    def __init__(self, lab, timeout=10.0):
        self.events = []
        self._cond = threading.Condition()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nmwatch.py")
        self.proc = lab.popen("mn", [PYTHON, script], name="nmwatch",
                              stdout=subprocess.PIPE, text=True, bufsize=1)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if self.wait(lambda e: e["ev"] == "ready", timeout) is None:
            raise LabError("nmwatch did not start within %.0f s" % timeout)

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self.events.append(ev)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait(self, pred, timeout=5.0, since=0):
        """The first event (from index `since`) matching pred, or None on timeout."""
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(left)

    def mark(self):
        """Index for wait(since=...): only events after now."""
        with self._cond:
            return len(self.events)

    def _stop_reader(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def close(self):
        self._stop_reader()
