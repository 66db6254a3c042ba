"""The lab's home and foreign agents (tests/lab/agents/): their config files,
command lines and JSON-lines control clients."""

import json
import os
import socket
import time

from . import topology

AGENTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "agents")
PYTHON = "/usr/bin/python3"

# name -> (node, script)
AGENTS = {"ha": ("home", "ha.py"), "fa": ("vfa", "fa.py")}


def config(name, run_dir):
    if name == "ha":
        return {"iface": "br0", "address": topology.HOME_AGENT,
                "home_prefix": "198.18.0.0/24",
                "control": os.path.join(run_dir, "ha.sock"),
                "log": os.path.join(run_dir, "ha.log"),
                "max_lifetime": 600, "replay_tolerance": 7, "advertise": True,
                "mobile_nodes": [{"home_address": topology.HOME_ADDRESS,
                                  "keys": [dict(k) for k in topology.KEYS]}]}
    return {"iface": "br0", "address": topology.FOREIGN_AGENT,
            "care_of_address": topology.FOREIGN_AGENT, "prefix_length": 24,
            "uplink": "up", "control": os.path.join(run_dir, "fa.sock"),
            "log": os.path.join(run_dir, "fa.log"), "adv_interval": 1.0,
            "adv_lifetime": 9, "reg_lifetime": 600, "flags": "RT", "max_visitors": 16}


def write_config(name, run_dir, overrides=None):
    path = os.path.join(run_dir, name + ".json")
    cfg = config(name, run_dir)
    cfg.update(overrides or {})
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def script(name):
    return os.path.join(AGENTS_DIR, AGENTS[name][1])


def available(name):
    return os.path.isfile(script(name))


def argv(name, run_dir):
    return [PYTHON, script(name), "--config", os.path.join(run_dir, name + ".json")]


class AgentError(RuntimeError):
    pass


class AgentClient:
    """Client of an agent's control socket: one JSON object per line each way."""

    def __init__(self, name, sock_path, running=True, why=""):
        self.name, self.path, self.running, self._why = name, sock_path, running, why

    def __repr__(self):
        return "<AgentClient %s %s%s>" % (self.name, self.path,
                                          "" if self.running else " (not running)")

    def call(self, request, timeout=5.0):
        """Send one request dict; return the agent's answer dict. An answer with
        "ok": false is returned as is (tests assert on it); transport problems
        raise AgentError."""
        if not self.running:
            raise AgentError("%s is not running: %s" % (self.name, self._why))
        if isinstance(request, str):
            request = {"cmd": request}
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.path)
            s.sendall((json.dumps(request) + "\n").encode())
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except OSError as e:
            raise AgentError("%s control socket %s: %s" % (self.name, self.path, e)) from e
        finally:
            s.close()
        line = buf.split(b"\n", 1)[0]
        if not line:
            raise AgentError("%s closed its control socket without answering %r"
                             % (self.name, request))
        return json.loads(line)

    def ping(self, timeout=1.0):
        try:
            return bool(self.call({"cmd": "ping"}, timeout=timeout).get("ok"))
        except (AgentError, ValueError):
            return False

    def wait_ready(self, timeout, proc_alive=lambda: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.path) and self.ping(timeout=0.5):
                return True
            if not proc_alive():
                return False
            time.sleep(0.02)
        return False
