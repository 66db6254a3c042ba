"""Runs the real mipd (and mipc) inside a lab's mobile node: writes its
configuration and key, starts it on the lab's private system bus, reads its
state through mipc --json, and stops it, checking it left nothing behind."""

import json
import os
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

LAB_KEY_HEX = "6d6970642d6c61622d6b65792d303031"     # SPI 256, hmac-md5 (TOPOLOGY.md)
LAB_KEY2_HEX = "6d6970642d6c61622d6b65792d303032"    # SPI 257, keyed-md5


BUILT = {"mipd": ("mipd",), "mipc": ("ui-cli", "mipc")}


def binary(name):
    """The built binary: $MIPD_BIN / $MIPC_BIN (meson test sets them), else build/."""
    path = os.environ.get(name.upper() + "_BIN") or os.path.join(ROOT, "build", *BUILT[name])
    if not os.access(path, os.X_OK):
        raise FileNotFoundError("%s not built (%s); run ninja -C build" % (name, path))
    return path


class MipdError(Exception):
    pass


class Mipd:
    """One mipd process in the lab's mobile node."""

    def __init__(self, lab, name="mipd", **options):
        self.lab = lab
        self.dir = os.path.join(lab.run_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "mipd.conf")
        self.log_path = os.path.join(self.dir, "mipd.log")
        self.write_config(**options)
        self.proc = None

    def write_config(self, lifetime=600, reverse_tunnel=True, encapsulation="ipip",
                     care_of_mode="auto", spi=256, algorithm="hmac-md5", key=LAB_KEY_HEX,
                     prefer="fa0;dhcp0;nat0;wlan0", ignore="lo", backend="tun",
                     make_before_break=True, extra=""):
        key_path = os.path.join(self.dir, "mn.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        os.chmod(key_path, 0o600)
        with open(self.conf, "w") as f:
            f.write(f"""[mobile-node]
home-address=198.18.0.50
home-prefix-length=24
home-agent=198.18.0.1
spi={spi}
algorithm={algorithm}
key-file={key_path}
lifetime={lifetime}
reverse-tunnel={'true' if reverse_tunnel else 'false'}
encapsulation={encapsulation}
care-of-mode={care_of_mode}
[links]
prefer={prefer}
ignore={ignore}
monitor=nm
[tunnel]
backend={backend}
[handover]
make-before-break={'true' if make_before_break else 'false'}
{extra}""")

    def start(self, wait_bus=True, timeout=10.0):
        self.logf = open(self.log_path, "ab")
        self.proc = self.lab.popen("mn", [binary("mipd"), "--foreground", "--debug",
                                          "--config", self.conf],
                                   stdout=self.logf, stderr=subprocess.STDOUT, name="mipd")
        if wait_bus:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise MipdError("mipd exited with %s:\n%s" % (self.proc.returncode,
                                                                  self.log_tail()))
                r = self.mipc("status", check=False)
                if r.returncode == 0:
                    return self
                time.sleep(0.05)
            raise MipdError("mipd did not appear on the bus:\n" + self.log_tail())
        return self

    def mipc(self, *args, check=True, json_out=False, timeout=10):
        argv = [binary("mipc")] + (["--json"] if json_out else []) + list(args)
        r = self.lab.run("mn", argv, timeout=timeout)
        if check and r.returncode != 0:
            raise MipdError("mipc %s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                            r.stdout, r.stderr))
        return r

    def status(self):
        return json.loads(self.mipc("status", json_out=True).stdout)

    def links(self):
        return json.loads(self.mipc("links", json_out=True).stdout)

    def agents(self):
        return json.loads(self.mipc("agents", json_out=True).stdout)

    def wait(self, pred, timeout=10.0, what="condition"):
        """Polls mipc status until pred(status) holds; returns (status, seconds)."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            if self.proc and self.proc.poll() is not None:
                raise MipdError("mipd died (%s):\n%s" % (self.proc.returncode, self.log_tail()))
            last = self.status()
            if pred(last):
                return last, time.monotonic() - t0
            time.sleep(0.02)
        raise MipdError("timed out after %.1f s waiting for %s; last status %s\n%s"
                        % (timeout, what, json.dumps(last), self.log_tail()))

    def wait_state(self, state, timeout=10.0, **fields):
        def pred(st):
            return st["state"] == state and all(st.get(k) == v for k, v in fields.items())
        return self.wait(pred, timeout, "state %s %s" % (state, fields or ""))

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout=5.0):
        """SIGTERM, wait; returns mipd's exit code."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise MipdError("mipd did not stop within %.0f s:\n%s" % (timeout, self.log_tail()))
        finally:
            self.logf.close()
        return self.proc.returncode

    def leftovers(self):
        """What mipd installed and should have removed: tunnel devices, rules,
        routes in table 434, its routes in main (protocol 'mipd' is ours)."""
        found = []
        links = self.lab.run("mn", ["ip", "-o", "link", "show"]).stdout
        for line in links.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name.startswith("mip"):
                found.append("link " + name)
        rules = self.lab.run("mn", ["ip", "rule", "show"]).stdout
        for line in rules.splitlines():
            if "434" in line or "mipd" in line:
                found.append("rule " + line.strip())
        t = self.lab.run("mn", ["ip", "route", "show", "table", "434"]).stdout.strip()
        if t:
            found.append("table 434: " + t)
        return found


def ping(lab, node, dst, count=3, timeout=10, interval=0.2):
    r = lab.run(node, ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", dst],
                timeout=timeout)
    return r.returncode == 0, r.stdout + r.stderr
