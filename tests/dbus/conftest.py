"""Fixtures for mipd's D-Bus access tests and mipc state tests.

- The lab fixtures (`lab`, `module_lab`, `lab_factory`, from
  tests/lab/labkit/fixtures.py) and `mipd_factory`, taken from
  tests/integration/conftest.py (loaded by path, not copied), for
  test_mipc_states.py.
- For test_policy.py, everything outside the lab: `workdir` (a temp dir the
  unprivileged users can reach), `bus_factory` (a private system-like
  dbus-daemon that loads the repository's data/org.mipd.MobileNode1.conf),
  `netns` (a network namespace `mipdb-XXXXXX` with a veth home0 in it),
  `user_factory` / `group_factory` (throw-away system users and groups),
  `mipd_runner` (mipd in the namespace, on a given bus) and `mipc_runner`
  (mipc as root or as a user).
- `monitor_factory`: `mipc [--json] monitor` in the background, its output
  read line by line.

Everything a fixture creates is removed when the test ends, pass or fail:
processes are stopped by PID, namespaces, users, groups and temp dirs deleted.
"""

import importlib.util
import json
import os
import pwd
import grp
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
POLICY_FILE = os.path.join(ROOT, "data", "org.mipd.MobileNode1.conf")

# tests/integration/conftest.py puts tests/lab and tests/integration on
# sys.path and defines mipd_factory; load it under its own name.
_spec = importlib.util.spec_from_file_location(
    "mipd_integration_conftest", os.path.join(TESTS, "integration", "conftest.py"))
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)

from labkit.fixtures import *  # noqa: E402,F401,F403
import mipdlab  # noqa: E402

mipd_factory = _integration.mipd_factory

HOME_ADDRESS = "198.18.0.50"
HOME_AGENT = "198.18.0.1"
LAB_KEY_HEX = mipdlab.LAB_KEY_HEX


def pytest_sessionstart(session):
    """A SIGTERM (meson test's timeout, a CI cancel) becomes a
    KeyboardInterrupt, so pytest still runs every fixture's teardown: no user,
    namespace or process is left behind. (labkit does the same while a lab is
    up.)"""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def on_term(signum, frame):
            raise KeyboardInterrupt("SIGTERM")
        signal.signal(signal.SIGTERM, on_term)


def _hex():
    return secrets.token_hex(3)


def _binary(name):
    try:
        return mipdlab.binary(name)
    except FileNotFoundError as e:
        pytest.skip(str(e))


def _require(*tools):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, users, a private system bus)")
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip("missing tools: " + ", ".join(missing))


# --- temp dir ------------------------------------------------------------------

@pytest.fixture
def workdir():
    """A temp dir (0755) that unprivileged users can traverse, with a copy of
    mipc in it (the build tree may not be reachable for them)."""
    d = tempfile.mkdtemp(prefix="mipdb-")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def mipc_bin(workdir):
    src = _binary("mipc")
    dst = os.path.join(workdir, "mipc")
    shutil.copy2(src, dst)
    os.chmod(dst, 0o755)
    return dst


# --- private system bus --------------------------------------------------------

# Like Debian's /usr/share/dbus-1/system.conf: nobody may own names or call
# methods unless a service's policy file punches a hole; replies and signals
# flow. Then the repository's own policy file, included in place.
STRICT_POLICY = """
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <include>{policy_file}</include>
"""

# Everything allowed: only mipd's own credential check stands in the way.
PERMISSIVE_POLICY = """
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow send_type="signal"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
"""


class Bus:
    def __init__(self, directory, policy, extra=""):
        self.dir = directory
        os.makedirs(directory, mode=0o755, exist_ok=True)
        os.chmod(directory, 0o755)
        self.socket = os.path.join(directory, "system_bus_socket")
        self.address = "unix:path=" + self.socket
        self.conf = os.path.join(directory, "bus.conf")
        body = {"strict": STRICT_POLICY, "permissive": PERMISSIVE_POLICY}[policy]
        with open(self.conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>{self.address}</listen>
  <auth>EXTERNAL</auth>
{body.format(policy_file=POLICY_FILE)}
{extra}
</busconfig>
""")
        self.log_path = os.path.join(directory, "dbus.log")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + self.conf, "--nofork", "--nopidfile",
             "--print-address"], stdout=subprocess.DEVNULL, stderr=self.logf,
            start_new_session=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise RuntimeError("dbus-daemon exited %s: %s" % (self.proc.returncode,
                                                                  self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("dbus-daemon did not create its socket: " + self.log())
            time.sleep(0.01)

    @property
    def env(self):
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "NO_COLOR": "1",
                "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


@pytest.fixture
def bus_factory(workdir):
    """bus_factory(policy="strict"|"permissive", extra="") -> a running Bus.
    `extra` is more busconfig XML (e.g. a <policy group=...>)."""
    _require("dbus-daemon")
    buses = []

    def make(policy="strict", extra=""):
        b = Bus(os.path.join(workdir, "bus%d" % len(buses)), policy, extra)
        buses.append(b)
        return b

    yield make
    for b in buses:
        b.stop()


# --- network namespace ---------------------------------------------------------

class Netns:
    def __init__(self):
        self.name = "mipdb-" + _hex()
        self.created = False

    def run(self, *argv, check=True):
        return subprocess.run(["ip", "netns", "exec", self.name] + list(argv), check=check,
                              capture_output=True, text=True, timeout=10)

    def create(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self.created = True
        # A veth pair inside the namespace: home0 carries the home address,
        # its peer (ignored by mipd) is the far end of the "home link".
        self.run("ip", "link", "set", "lo", "up")
        self.run("ip", "link", "add", "home0", "type", "veth", "peer", "name", "hpeer0")
        self.run("ip", "link", "set", "hpeer0", "up")
        self.run("ip", "link", "set", "home0", "up")
        self.run("ip", "addr", "add", HOME_ADDRESS + "/24", "dev", "home0")
        return self

    def delete(self):
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.created = False


@pytest.fixture
def netns():
    _require("ip")
    ns = Netns()
    try:
        yield ns.create()
    finally:
        ns.delete()


# --- users and groups ----------------------------------------------------------

@pytest.fixture
def group_factory():
    """group_factory() -> the name of a new system group (deleted at the end)."""
    _require("groupadd", "groupdel")
    made = []

    def make():
        name = "mipdtg" + _hex()
        subprocess.run(["groupadd", "--system", name], check=True, capture_output=True)
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["groupdel", name], capture_output=True)


class User:
    def __init__(self, name, groups):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, pw.pw_uid, pw.pw_gid
        self.groups = list(groups)


@pytest.fixture
def user_factory():
    """user_factory(groups=()) -> a new unprivileged system User (no home,
    no login shell) with supplementary `groups`; deleted at the end, with its
    user group."""
    _require("useradd", "userdel", "setpriv")
    made = []

    def make(groups=()):
        name = "mipdtest" + _hex()
        argv = ["useradd", "--system", "--no-create-home", "--user-group",
                "--shell", "/usr/sbin/nologin", "--home-dir", "/nonexistent"]
        if groups:
            argv += ["--groups", ",".join(groups)]
        subprocess.run(argv + [name], check=True, capture_output=True)
        made.append(name)
        return User(name, groups)

    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)
        try:
            grp.getgrnam(name)
        except KeyError:
            continue
        subprocess.run(["groupdel", name], capture_output=True)


# --- mipd and mipc outside the lab ---------------------------------------------

class MipdProc:
    """mipd in a namespace, on a private bus without NetworkManager (so links
    come from rtnetlink: monitor=auto falls back), TUN tunnel."""

    def __init__(self, workdir, ns, bus, control_group=None, name="mipd"):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ns, self.bus = ns, bus
        key = os.path.join(self.dir, "mn.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(LAB_KEY_HEX + "\n")
        self.conf = os.path.join(self.dir, "mipd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[mobile-node]
home-address={HOME_ADDRESS}
home-prefix-length=24
home-agent={HOME_AGENT}
spi=256
algorithm=hmac-md5
key-file={key}
[links]
prefer=ethernet
ignore=lo;hpeer*
monitor=auto
[tunnel]
backend=tun
""")
            if control_group:
                f.write("[dbus]\ncontrol-group=%s\n" % control_group)
        self.log_path = os.path.join(self.dir, "mipd.log")
        self.proc = None

    def start(self, mipc, timeout=10):
        self.logf = open(self.log_path, "wb")
        # ip netns exec execs mipd itself: the PID is mipd's.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns.name, _binary("mipd"), "--foreground", "--debug",
             "--config", self.conf], env=self.bus.env, stdout=self.logf,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mipd exited %s:\n%s" % (self.proc.returncode, self.log()))
            if mipc("status").returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError("mipd did not appear on the bus:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=5):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self.logf.close()
                return "timeout"
        self.logf.close()
        return self.proc.returncode


class Mipc:
    """Runs mipc against one bus, as root or as a User."""

    def __init__(self, path, bus):
        self.path, self.bus = path, bus

    def __call__(self, *args, user=None, json_out=False, timeout=15):
        argv = [self.path] + (["--json"] if json_out else []) + list(args)
        if user is not None:
            ids = ["--reuid", str(user.uid), "--regid", str(user.gid)]
            # --init-groups gives the user's supplementary groups (from
            # /etc/group), as a login would; --clear-groups none.
            ids += ["--init-groups"] if user.groups else ["--clear-groups"]
            argv = ["setpriv"] + ids + ["--"] + argv
        return subprocess.run(argv, env=self.bus.env, cwd="/", capture_output=True, text=True,
                              timeout=timeout)

    def json(self, *args, user=None):
        r = self(*args, user=user, json_out=True)
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return json.loads(r.stdout)


@pytest.fixture
def mipc_runner(mipc_bin):
    """mipc_runner(bus) -> Mipc: mipc(*args, user=None, json_out=False)."""
    def make(bus):
        return Mipc(mipc_bin, bus)
    return make


@pytest.fixture
def mipd_runner(workdir, bus_factory, netns, mipc_runner):
    """mipd_runner(bus, control_group=None) -> a started MipdProc in `netns`.
    Each is stopped at the end (before its bus and namespace go) and must
    exit 0."""
    started = []

    def make(bus, control_group=None):
        m = MipdProc(workdir, netns, bus, control_group, name="mipd%d" % len(started))
        started.append(m)
        return m.start(mipc_runner(bus))

    yield make
    problems = []
    for m in started:
        code = m.stop()
        if code not in (0, None):
            problems.append("mipd exited %s:\n%s" % (code, m.log()[-3000:]))
    if problems:
        pytest.fail("\n".join(problems))


# --- mipc monitor ----------------------------------------------------------------

class Monitor:
    """`mipc [--json] monitor` in the background; lines are collected by a
    thread and matched with wait()."""

    def __init__(self, popen_fn, argv):
        self.proc = popen_fn(argv)
        self.lines = []
        self._q = queue.Queue()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def _drain(self, block_for=0.0):
        try:
            item = self._q.get(timeout=block_for) if block_for else self._q.get_nowait()
        except queue.Empty:
            return False
        if item is None:
            self._eof = True
            return False
        self.lines.append(item)
        return True

    def wait(self, pred, timeout=10, since=0, what="a line"):
        """First line (index >= since) for which pred(line) is true."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            while checked < len(self.lines):
                line = self.lines[checked]
                checked += 1
                if pred(line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self._drain(min(left, 0.1)) and self.proc.poll() is not None \
                    and self._q.empty():
                break
        raise AssertionError("mipc monitor: no %s within %.1f s; got:\n%s\nstderr: %s"
                             % (what, timeout, "\n".join(self.lines), self.stderr_text()))

    def mark(self):
        while self._drain():
            pass
        return len(self.lines)

    def stderr_text(self):
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read() if self.proc.stderr else ""

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._t.join(2)
        while self._drain():
            pass
        return self.proc.returncode


@pytest.fixture
def monitor_factory():
    """monitor_factory(popen_fn, argv) -> Monitor; popen_fn(argv) must return
    a Popen with text stdout/stderr pipes. Stopped at the end."""
    made = []

    def make(popen_fn, argv):
        m = Monitor(popen_fn, argv)
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()
