"""Who may do what to mipd over D-Bus.

mipd runs in a throw-away network namespace (links from netlink, TUN
tunnel, a veth home0 with the home address) and talks to a private
dbus-daemon configured like Debian's system bus (deny by default) that
includes the repository's data/org.mipd.MobileNode1.conf. mipc runs as root
and as throw-away unprivileged users (setpriv).

- The bus policy: anyone reads (properties, GetAgents, GetLinks, signals);
  only root calls Register/Deregister/Handover/Reload, and mipc says so
  clearly when the bus refuses.
- mipd's own check: with a bus that allows everything, mipd still refuses
  strangers (org.mipd.MobileNode1.Error.AccessDenied) and lets members of
  [dbus] control-group in.
- mipc's exit codes when mipd is not running (3) and on usage errors (2).
"""

import json
import os
import subprocess

import pytest

CONTROL = [("register",), ("deregister",), ("handover", "home0"), ("reload",)]
CONTROL_IDS = [c[0] for c in CONTROL]
BUS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
MIPD_DENIED = "org.mipd.MobileNode1.Error.AccessDenied"
NO_SUCH_LINK = "org.mipd.MobileNode1.Error.NoSuchLink"


def group_policy(group):
    """The recipe data/org.mipd.MobileNode1.conf suggests for a control group."""
    return f"""
  <policy group="{group}">
    <allow send_destination="org.mipd.MobileNode1"
           send_interface="org.mipd.MobileNode1"/>
  </policy>
"""


def assert_clear_denial(r, what):
    """mipc's refusal: exit 1, one human line that says permission denied and
    who may, and not the bus's raw 'Rejected send message ...'."""
    assert r.returncode == 1, (what, r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert err.startswith("mipc: %s: permission denied" % what), err
    assert "root" in err, err
    assert "Rejected send message" not in err, err
    assert "CRITICAL" not in err and "assertion" not in err, err
    assert len(err.splitlines()) == 1, err


def assert_allowed(r, what):
    """Root (or a control-group member) got through: exit 0, or a failure
    that is about the request itself, never about access."""
    assert r.returncode in (0, 1), (what, r.returncode, r.stdout, r.stderr)
    if r.returncode == 1:
        answer = json.loads(r.stdout)
        assert answer["name"] not in (BUS_DENIED, MIPD_DENIED), (what, answer)
        assert answer["name"].startswith("org.mipd.MobileNode1.Error."), (what, answer)
    else:
        assert json.loads(r.stdout) == {"ok": True}


@pytest.fixture
def strict(bus_factory, mipd_runner, mipc_runner):
    bus = bus_factory("strict")
    mipd = mipd_runner(bus)
    return bus, mipd, mipc_runner(bus)


# --- the bus policy -----------------------------------------------------------------

def test_unprivileged_user_reads_everything(strict, user_factory):
    bus, mipd, mipc = strict
    user = user_factory()

    r = mipc("status", user=user)
    assert r.returncode == 0, r.stderr
    assert "Home address:      198.18.0.50" in r.stdout
    assert "State:" in r.stdout

    st = mipc.json("status", user=user)
    assert st["home_address"] == "198.18.0.50"
    assert st["home_agent"] == "198.18.0.1"
    assert st["state"] in ("idle", "at-home", "discovering", "registering", "registered",
                           "deregistering", "denied", "stopped")
    assert isinstance(st["statistics"], dict)
    # No key material on the bus, in any property.
    assert "6d6970642d6c61622d6b65792d303031" not in json.dumps(st)

    r = mipc("agents", user=user)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("AGENT")
    assert isinstance(mipc.json("agents", user=user), list)

    r = mipc("links", user=user)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("LINK")
    assert "home0" in r.stdout
    links = mipc.json("links", user=user)
    assert [l["name"] for l in links if l["name"] == "home0"] == ["home0"]


@pytest.mark.parametrize("cmd", CONTROL, ids=CONTROL_IDS)
def test_bus_policy_refuses_unprivileged_user(strict, user_factory, cmd):
    bus, mipd, mipc = strict
    user = user_factory()
    before = mipc.json("status")

    r = mipc(*cmd, user=user)
    assert_clear_denial(r, cmd[0])
    assert "only root or a member of mipd's control group" in r.stderr

    r = mipc(*cmd, user=user, json_out=True)
    assert r.returncode == 1
    answer = json.loads(r.stdout)
    assert answer["name"] == BUS_DENIED, answer
    assert answer["error"].startswith("permission denied"), answer
    # The bus's own words stay available for whoever debugs the policy.
    assert "Rejected send message" in answer.get("detail", ""), answer

    # The bus refused it: the call never reached mipd, and nothing changed.
    assert "refused" not in mipd.log()
    after = mipc.json("status")
    assert after["home_address"] == before["home_address"]
    if cmd[0] == "deregister":
        assert after["state"] != "stopped"


def test_root_may_call_every_method(strict):
    bus, mipd, mipc = strict
    assert_allowed(mipc("register", json_out=True), "register")
    assert_allowed(mipc("reload", json_out=True), "reload")

    r = mipc("handover", "nosuch0", json_out=True)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert json.loads(r.stdout)["name"] == NO_SUCH_LINK
    r = mipc("handover", "nosuch0")
    assert r.returncode == 1
    assert r.stderr.strip() == "mipc: handover: no such link", r.stderr

    r = mipc("deregister", json_out=True)
    assert_allowed(r, "deregister")
    st = mipc.json("status")
    assert st["state"] in ("stopped", "deregistering"), st
    assert_allowed(mipc("register", json_out=True), "register")
    assert mipc.json("status")["state"] != "stopped"
    assert "refused" not in mipd.log()


def test_unprivileged_monitor_sees_changes(strict, user_factory, monitor_factory):
    """Signals reach an unprivileged listener through the strict policy."""
    bus, mipd, mipc = strict
    user = user_factory()

    def popen(argv):
        return subprocess.Popen(
            ["setpriv", "--reuid", str(user.uid), "--regid", str(user.gid), "--clear-groups",
             "--"] + argv, env=bus.env, cwd="/", stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)

    mon = monitor_factory(popen, [mipc.path, "monitor"])
    first = mon.wait(lambda l: "State=" in l, what="the opening State line")
    assert " changed " in first
    jmon = monitor_factory(popen, [mipc.path, "--json", "monitor"])
    jfirst = json.loads(jmon.wait(lambda l: l.startswith("{"), what="an opening JSON line"))
    assert jfirst["signal"] == "properties" and "state" in jfirst["data"], jfirst

    mark, jmark = mon.mark(), jmon.mark()
    mipd.ns.run("ip", "link", "set", "home0", "down")
    line = mon.wait(lambda l: "link-down" in l or "State=" in l, since=mark,
                    what="a line for home0 going down")
    assert line.split()[0].count(":") == 2, line       # HH:MM:SS first
    ev = json.loads(jmon.wait(lambda l: '"link-down"' in l or '"state"' in l, since=jmark,
                              what="a JSON line for home0 going down"))
    assert ev["signal"] in ("event", "properties"), ev
    for l in jmon.lines:
        json.loads(l)                                 # every line is JSON
    assert mon.stop() == 0, mon.stderr_text()
    assert jmon.stop() == 0, jmon.stderr_text()


# --- mipd's own credential check ------------------------------------------------

@pytest.mark.parametrize("cmd", CONTROL, ids=CONTROL_IDS)
def test_mipd_refuses_unprivileged_user_under_permissive_bus(
        bus_factory, mipd_runner, mipc_runner, user_factory, cmd):
    bus = bus_factory("permissive")
    mipd = mipd_runner(bus)
    mipc = mipc_runner(bus)
    user = user_factory()

    r = mipc(*cmd, user=user, json_out=True)
    assert r.returncode == 1, (r.stdout, r.stderr)
    answer = json.loads(r.stdout)
    assert answer["name"] == MIPD_DENIED, answer
    method = {"register": "Register", "deregister": "Deregister", "handover": "Handover",
              "reload": "Reload"}[cmd[0]]
    assert answer["error"] == "permission denied: %s needs root" % method, answer

    r = mipc(*cmd, user=user)
    assert_clear_denial(r, cmd[0])
    assert "refused %s from uid %d" % (method, user.uid) in mipd.log()
    if cmd[0] == "deregister":
        assert mipc.json("status")["state"] != "stopped"

    # Reading stays open to the same user.
    assert mipc("status", user=user).returncode == 0


def test_control_group_member_allowed_by_mipd(bus_factory, mipd_runner, mipc_runner,
                                              user_factory, group_factory):
    group = group_factory()
    bus = bus_factory("permissive")
    mipd = mipd_runner(bus, control_group=group)
    mipc = mipc_runner(bus)
    member = user_factory(groups=[group])
    stranger = user_factory()

    assert_allowed(mipc("register", user=member, json_out=True), "register")
    assert_allowed(mipc("reload", user=member, json_out=True), "reload")
    r = mipc("handover", "nosuch0", user=member, json_out=True)
    assert r.returncode == 1 and json.loads(r.stdout)["name"] == NO_SUCH_LINK, r.stdout
    assert_allowed(mipc("deregister", user=member, json_out=True), "deregister")
    assert_allowed(mipc("register", user=member, json_out=True), "register")
    assert "refused" not in mipd.log()

    r = mipc("register", user=stranger, json_out=True)
    assert r.returncode == 1
    answer = json.loads(r.stdout)
    assert answer["name"] == MIPD_DENIED
    assert answer["error"] == ("permission denied: Register needs root or membership of "
                               "group '%s'" % group), answer


def test_control_group_with_real_policy_and_group_rule(bus_factory, mipd_runner, mipc_runner,
                                                       user_factory, group_factory):
    """The documented recipe: control-group in mipd.conf plus a <policy
    group=...> next to the shipped policy file."""
    group = group_factory()
    bus = bus_factory("strict", extra=group_policy(group))
    mipd = mipd_runner(bus, control_group=group)
    mipc = mipc_runner(bus)
    member = user_factory(groups=[group])
    stranger = user_factory()

    assert_allowed(mipc("reload", user=member, json_out=True), "reload")
    r = mipc("handover", "nosuch0", user=member, json_out=True)
    assert r.returncode == 1 and json.loads(r.stdout)["name"] == NO_SUCH_LINK, r.stdout

    r = mipc("reload", user=stranger, json_out=True)
    assert r.returncode == 1
    assert json.loads(r.stdout)["name"] == BUS_DENIED
    assert "refused" not in mipd.log()


# --- mipd not running, no bus, usage ----------------------------------------------

def test_not_running_exits_3(bus_factory, mipc_runner, user_factory):
    bus = bus_factory("strict")
    mipc = mipc_runner(bus)
    user = user_factory()
    for who in (None, user):
        for args in (("status",), ("agents",), ("links",), ("monitor",), ("register",),
                     ("handover", "home0")):
            r = mipc(*args, user=who)
            assert r.returncode == 3, (args, who, r.returncode, r.stdout, r.stderr)
            assert r.stderr.startswith("mipc: mipd is not running"), r.stderr
            assert r.stdout == ""
        r = mipc("status", user=who, json_out=True)
        assert r.returncode == 3
        assert json.loads(r.stdout) == {"error": "mipd is not running", "name": "not-running"}


def test_no_bus_exits_3(workdir, mipc_bin):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + os.path.join(workdir, "no-such-socket")}
    r = subprocess.run([mipc_bin, "status"], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert r.stderr.startswith("mipc: cannot reach the system bus"), r.stderr
    r = subprocess.run([mipc_bin, "--json", "status"], env=env, capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 3
    answer = json.loads(r.stdout)
    assert answer["name"] == "no-bus" and answer["error"].startswith("cannot reach"), answer


@pytest.mark.parametrize("args", [
    ["bogus"], ["handover"], ["handover", "a", "b"], ["status", "extra"], ["register", "now"],
    ["--bogus"], ["--json", "frobnicate"],
], ids=lambda a: " ".join(a))
def test_usage_errors_exit_2(workdir, mipc_bin, args):
    # No bus at all: usage is checked before mipc connects.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + os.path.join(workdir, "no-such-socket")}
    r = subprocess.run([mipc_bin] + args, env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("mipc: ") and "try --help" in r.stderr, r.stderr
    assert r.stdout == ""


def test_help_exits_0(mipc_bin):
    r = subprocess.run([mipc_bin, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for cmd in ("status", "agents", "links", "monitor", "register", "deregister", "handover",
                "reload"):
        assert cmd in r.stdout
    assert "3 mipd not running" in r.stdout


def test_links_fall_back_to_rtnetlink_without_networkmanager(strict):
    """monitor=auto and no NetworkManager on the bus: mipd says so and
    watches links through rtnetlink."""
    bus, mipd, mipc = strict
    log = mipd.log()
    assert "NetworkManager not available" in log, log
    assert "links: watching through netlink" in log, log
    links = mipc.json("links")
    assert any(link["name"] == "home0" for link in links), links
