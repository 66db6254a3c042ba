"""Run directories and state.json: everything down() needs to clean up a run,
written before each step that creates something."""

import json
import os
import secrets
import subprocess
import threading

from . import topology

# Where run directories live. The self-tests point it elsewhere (together with
# a private /run/netns) to try `lab down --all` without touching other labs.
BASE = os.environ.get("MIPD_LAB_RUN_BASE") or "/run/mipd-lab"


def _own_start():
    from . import procs
    return procs.start_time(os.getpid())


def new_prefix():
    while True:
        prefix = "mipl" + secrets.token_hex(3)
        if not os.path.exists(os.path.join(BASE, prefix)) and \
                not os.path.exists("/run/netns/%s-mn" % prefix):
            return prefix


def run_dir(prefix):
    return os.path.join(BASE, prefix)


class State:
    """state.json of one run, rewritten atomically on every change."""

    def __init__(self, prefix, data=None):
        self.prefix = prefix
        self.dir = run_dir(prefix)
        self.path = os.path.join(self.dir, "state.json")
        self._lock = threading.Lock()
        self.data = data if data is not None else {
            "version": 1, "prefix": prefix, "run_dir": self.dir,
            "phase": "building", "owner_pid": os.getpid(),
            "owner_start": _own_start(),
            "namespaces": topology.namespaces(prefix),
            "temp_links": [n for pair in topology.temp_links(prefix) for n in pair],
            "procs": [], "options": {}, "wlan_net": None, "agents": {},
        }

    @classmethod
    def load(cls, prefix):
        s = cls(prefix)
        try:
            with open(s.path) as f:
                s.data = json.load(f)
        except (OSError, ValueError):
            pass  # a run that died before writing state: the defaults name everything
        return s

    def save(self):
        with self._lock:
            # Never re-create a removed run dir (a late writer after teardown).
            tmp = self.path + ".tmp.%d.%d" % (os.getpid(), threading.get_ident())
            with open(tmp, "w") as f:
                json.dump(self.data, f, indent=1)
            os.replace(tmp, self.path)

    def update(self, **kw):
        with self._lock:
            self.data.update(kw)
        self.save()

    def add_proc(self, rec):
        with self._lock:
            self.data["procs"].append(rec)
        self.save()

    def procs(self):
        with self._lock:
            return list(self.data["procs"])


def list_runs():
    """Prefixes with a run directory under /run/mipd-lab."""
    try:
        names = os.listdir(BASE)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if topology.PREFIX_RE.match(n)
                  and os.path.isdir(os.path.join(BASE, n)))


def is_stale(prefix):
    """True if nobody will clean run `prefix` up: the Python that built it is
    gone and it was not started to stay (`lab up`), or it never finished
    building."""
    from . import procs
    st = State.load(prefix)
    d = st.data
    owner = d.get("owner_pid")
    owner_alive = bool(owner) and procs.alive(owner, d.get("owner_start"))
    if d.get("phase") == "up" and d.get("options", {}).get("keep"):
        return False
    return not owner_alive


def orphan_prefixes():
    """Prefixes of lab namespaces (or root-namespace temp veths) that have no
    run directory: left by a run killed before it wrote anything."""
    found = set()
    try:
        for ns in os.listdir("/run/netns"):
            m = topology.NS_RE.match(ns)
            if m:
                found.add(m.group(1))
    except FileNotFoundError:
        pass
    try:
        for dev in os.listdir("/sys/class/net"):
            if topology.TEMP_LINK_RE.match(dev):
                found.add(dev[:10])
    except FileNotFoundError:
        pass
    return sorted(p for p in found if not os.path.isdir(run_dir(p)))


def ip_netns_list():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]
