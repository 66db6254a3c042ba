"""mipc shows each state a user meets, human and --json, with the real mipd in
the lab (tests/lab/TOPOLOGY.md): at home, registered through the foreign
agent, co-located on a DHCP network, registering while the home agent is
silent, denied by the home agent (with its code); and `mipc monitor` /
`mipc --json monitor` print state changes, events, failures and handovers
as they happen."""

import json
import re
import subprocess

import pytest

import mipdlab

HOME = "198.18.0.50"
HA = "198.18.0.1"
FA = "198.51.100.1"
STATES = {"idle", "at-home", "discovering", "registering", "registered", "deregistering",
          "denied", "stopped"}


def human_status(m):
    """`mipc status` as {field: value} ("Care-of address" -> "...")."""
    out = m.mipc("status").stdout
    fields = {}
    for line in out.splitlines():
        mo = re.match(r"^([A-Z][A-Za-z -]*):\s+(.*)$", line)
        assert mo, "unexpected line in mipc status: %r\n%s" % (line, out)
        fields[mo.group(1)] = mo.group(2)
    return fields, out


def check_json_status(st):
    """Every property is there with the JSON type the API promises."""
    strings = ("state", "home_address", "home_agent", "care_of_address", "care_of_mode",
               "foreign_agent", "interface", "encapsulation", "last_error")
    for k in strings:
        assert isinstance(st[k], str), (k, st)
    for k in ("reverse_tunnel", "nat_traversal"):
        assert isinstance(st[k], bool), (k, st)
    for k in ("lifetime", "registered_at", "expires_at", "last_reply_code"):
        assert isinstance(st[k], int), (k, st)
    assert isinstance(st["statistics"], dict)
    assert st["state"] in STATES
    assert st["home_address"] == HOME
    assert st["care_of_mode"] in ("foreign-agent", "co-located", "home", "none")


def by(rows, key, value):
    found = [r for r in rows if r.get(key) == value]
    assert found, "no row with %s=%s in %s" % (key, value, rows)
    return found[0]


def start_monitor(lab, monitor_factory, json_out=False):
    argv = [mipdlab.binary("mipc")] + (["--json"] if json_out else []) + ["monitor"]
    mon = monitor_factory(
        lambda a: lab.popen("mn", a, name="mipc-monitor", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True), argv)
    # The opening line says where things stand: the monitor is subscribed.
    first = mon.wait(lambda l: "State" in l or '"state"' in l, what="the opening line")
    if json_out:
        first = json.loads(first)
        assert first["signal"] == "properties" and first["data"]["state"] in STATES, first
    else:
        assert re.match(r"^\d\d:\d\d:\d\d changed +State=\S+$", first), first
    return mon


def json_lines(mon, since=0):
    out = []
    for line in mon.lines[since:]:
        v = json.loads(line)   # every line of --json monitor is one JSON object
        assert set(v) == {"signal", "data"}, v
        assert v["signal"] in ("properties", "event", "handover", "registration_failed"), v
        out.append(v)
    return out


# --- the states ----------------------------------------------------------------

@pytest.mark.lab(attach=("home",))
def test_at_home(lab, mipd_factory):
    m = mipd_factory(lab)
    st, _ = m.wait_state("at-home", timeout=10)
    check_json_status(st)
    assert st["care_of_mode"] == "home"
    assert st["interface"] == "home0"
    assert st["care_of_address"] == "" and st["foreign_agent"] == ""
    assert st["lifetime"] == 0
    assert st["last_error"] == ""

    h, out = human_status(m)
    assert h["State"] == "at-home", out
    assert h["Home address"] == HOME and h["Home agent"] == HA, out
    assert h["Care-of address"] == "- (home)", out
    assert h["Interface"] == "home0", out
    assert h["Lifetime"] == "-", out
    assert h["Last error"] == "-", out

    links = m.links()
    home0 = by(links, "name", "home0")
    # At home the home link is the one in use, without a care-of address.
    assert home0["state"] == "in-use" and home0["carrier"] is True, home0
    assert home0["care_of_address"] == "", home0
    assert home0["address"] == HOME + "/24"
    r = m.mipc("links")
    assert re.search(r"^home0 .*\b%s/24 .* in-use$" % re.escape(HOME), r.stdout, re.M), r.stdout

    # The home agent advertises on the home link.
    m.wait(lambda s: any(a["address"] == HA for a in m.agents()), 10, "the home agent heard")
    ha = by(m.agents(), "address", HA)
    assert ha["home_agent"] is True and ha["interface"] == "home0", ha
    assert "H" in ha["flags"]
    r = m.mipc("agents")
    assert re.search(r"^%s +home0 .* home agent" % re.escape(HA), r.stdout, re.M), r.stdout


@pytest.mark.lab(attach=("fa",))
def test_registered_through_foreign_agent(lab, mipd_factory):
    m = mipd_factory(lab)
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="foreign-agent")
    check_json_status(st)
    assert st["care_of_address"] == FA and st["foreign_agent"] == FA
    assert st["interface"] == "fa0"
    assert st["home_agent"] == HA
    assert 0 < st["lifetime"] <= 600
    assert st["last_reply_code"] == 0 and st["last_error"] == ""
    assert 0 < st["registered_at"] < st["expires_at"]
    assert st["expires_at"] - st["registered_at"] == st["lifetime"] * 1_000_000
    assert st["statistics"]["replies_accepted"] >= 1

    h, out = human_status(m)
    assert h["State"] == "registered", out
    assert h["Care-of address"] == "%s (foreign-agent, agent %s)" % (FA, FA), out
    assert h["Interface"] == "fa0", out
    assert re.match(r"^%d s granted, \d+ s left \(until \d\d:\d\d:\d\d\)$" % st["lifetime"],
                    h["Lifetime"]), out
    assert h["Last reply"].startswith("0 ("), out
    assert h["Last error"] == "-", out
    assert re.match(r"^\d+ sent, [1-9]\d* accepted, 0 denied", h["Registrations"]), out

    fa = by(m.agents(), "address", FA)
    assert fa["in_use"] is True and fa["home_agent"] is False, fa
    assert fa["interface"] == "fa0" and fa["care_of_addresses"] == [FA], fa
    assert "F" in fa["flags"], fa
    r = m.mipc("agents")
    assert re.search(r"^%s +fa0 +%s .*foreign agent, in use$" % (re.escape(FA), re.escape(FA)),
                     r.stdout, re.M), r.stdout
    link = by(m.links(), "name", "fa0")
    assert link["state"] == "in-use" and link["care_of_address"] == FA, link


@pytest.mark.lab(attach=("dhcp",))
def test_registered_colocated(lab, mipd_factory):
    m = mipd_factory(lab)
    lease = lab.wait_lease("dhcp0", timeout=10)
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="co-located")
    check_json_status(st)
    assert st["care_of_address"] == lease
    assert st["foreign_agent"] == ""
    assert st["interface"] == "dhcp0"
    assert st["last_reply_code"] == 0

    h, out = human_status(m)
    assert h["State"] == "registered", out
    assert h["Care-of address"] == "%s (co-located)" % lease, out
    assert h["Interface"] == "dhcp0", out
    assert h["Tunnel"].startswith(st["encapsulation"]), out

    link = by(m.links(), "name", "dhcp0")
    assert link["state"] == "in-use" and link["care_of_address"] == lease, link
    assert link["address"].startswith(lease + "/"), link
    r = m.mipc("links")
    assert re.search(r"^dhcp0 .*%s .* in-use$" % re.escape(lease), r.stdout, re.M), r.stdout


@pytest.mark.lab(attach=())
def test_registering_while_home_agent_is_silent(lab, mipd_factory):
    lab.ha.call({"cmd": "silent", "on": True})
    m = mipd_factory(lab)
    lab.attach("dhcp")
    lease = lab.wait_lease("dhcp0", timeout=10)
    st, _ = m.wait_state("registering", timeout=10)
    # Past the first retransmission (RFC 5944: at least 1 s): still no reply.
    st, _ = m.wait(lambda s: s["statistics"].get("retransmissions", 0) >= 1, 10,
                   "a retransmission")
    check_json_status(st)
    assert st["state"] == "registering", st
    assert st["last_reply_code"] == -1
    assert st["interface"] == "dhcp0"
    assert st["lifetime"] == 0 and st["expires_at"] == 0
    assert st["statistics"]["requests_sent"] >= 2
    assert st["statistics"].get("replies_accepted", 0) == 0

    h, out = human_status(m)
    assert h["State"] == "registering", out
    assert h["Last reply"] == "-", out
    says_no_reply = "no reply" in st["last_error"] or "no reply" in h["Last error"]
    assert says_no_reply, "neither LastError nor mipc status says there is no reply yet:\n" + out
    assert h["Interface"] == "dhcp0", out
    assert h["Care-of address"] == "%s (requested)" % lease, out

    # The home agent comes back: the next retransmission gets through.
    lab.ha.call({"cmd": "silent", "on": False})
    st, _ = m.wait_state("registered", timeout=20, care_of_mode="co-located")
    assert st["care_of_address"] == lease
    assert st["last_error"] == ""


@pytest.mark.parametrize("code,name", [
    (129, "administratively prohibited"),
    (131, "failed authentication"),
])
@pytest.mark.lab(attach=())
def test_denied_by_home_agent(lab, mipd_factory, monitor_factory, code, name):
    lab.ha.call({"cmd": "force_code", "code": code, "count": -1})
    m = mipd_factory(lab)
    mon = start_monitor(lab, monitor_factory, json_out=True)
    lab.attach("dhcp")
    st, _ = m.wait_state("denied", timeout=10, last_reply_code=code)
    check_json_status(st)
    assert str(code) in st["last_error"], st
    assert name in st["last_error"], st
    assert st["care_of_address"] == "" and st["lifetime"] == 0, st
    assert st["statistics"]["replies_denied"] >= 1

    h, out = human_status(m)
    assert h["State"] == "denied", out
    assert h["Last reply"] == "%d (denied by home agent: %s)" % (code, name) \
        or h["Last reply"].startswith("%d (" % code) and name in h["Last reply"], out
    assert str(code) in h["Last error"], out

    failed = mon.wait(lambda l: '"registration_failed"' in l, what="RegistrationFailed")
    failed = json.loads(failed)
    assert failed["data"]["code"] == code and name in failed["data"]["message"], failed
    mon.wait(lambda l: '"event"' in l and '"denied"' in l, what="a denied event")
    json_lines(mon)


@pytest.mark.lab(attach=("dhcp",))
def test_wrong_key_shows_dropped_replies(lab, mipd_factory):
    """With a wrong key the home agent answers 131 signed with the key it
    knows; mipd cannot authenticate that reply and discards it (RFC 5944
    3.6.2.1), so it keeps registering. mipc must not call that "no reply"
    without saying replies were dropped and what to check."""
    m = mipd_factory(lab, key="00112233445566778899aabbccddeeff")
    st, _ = m.wait(lambda s: s["statistics"].get("replies_dropped", 0) >= 1, 10,
                   "a dropped reply")
    assert st["state"] == "registering", st
    assert st["last_reply_code"] == -1, st
    c = lab.ha.call({"cmd": "counters"})["counters"]
    assert c.get("auth_failures", 0) >= 1 and c.get("denied", {}).get("131", 0) >= 1, c
    assert lab.ha.call({"cmd": "bindings"})["bindings"] == []

    h, out = human_status(m)
    assert h["State"] == "registering", out
    assert "dropped" in h["Last error"] and "key" in h["Last error"], out
    assert re.search(r", [1-9]\d* dropped$", h["Registrations"]), out


# --- mipc monitor ----------------------------------------------------------------

@pytest.mark.lab(attach=())
def test_monitor_prints_state_changes(lab, mipd_factory, monitor_factory):
    m = mipd_factory(lab)
    m.wait_state("idle", timeout=10)
    mon = start_monitor(lab, monitor_factory)
    jmon = start_monitor(lab, monitor_factory, json_out=True)
    mark, jmark = mon.mark(), jmon.mark()

    lab.attach("dhcp")
    lease = lab.wait_lease("dhcp0", timeout=10)
    m.wait_state("registered", timeout=10)

    line = mon.wait(lambda l: re.search(r"\bState=registered\b", l), since=mark,
                    what="State=registered")
    assert re.match(r"^\d\d:\d\d:\d\d changed ", line), line
    acc = mon.wait(lambda l: re.match(r"^\d\d:\d\d:\d\d accepted ", l), since=mark,
                   what="an accepted event")
    assert lease in acc, acc
    # The step in between (registering) is normally shown too, but a reply
    # within the same main-loop turn may skip it: not asserted.
    for l in mon.lines:
        assert re.match(r"^\d\d:\d\d:\d\d \S", l), l

    jmon.wait(lambda l: '"state":"registered"' in l, since=jmark, what="JSON state registered")
    evs = json_lines(jmon, jmark)
    props = [v["data"] for v in evs if v["signal"] == "properties"]
    assert any(p.get("state") == "registered" for p in props), props
    assert any(p.get("care_of_address") == lease for p in props), props
    accepted = [v["data"] for v in evs if v["signal"] == "event" and v["data"]["type"] ==
                "accepted"]
    assert accepted, evs
    ev = accepted[-1]
    assert ev["interface"] == "dhcp0" and ev["code"] == 0 and isinstance(ev["time"], int), ev
    assert isinstance(ev["message"], str) and ev["message"], ev

    # Ctrl-C / SIGTERM ends monitor cleanly.
    assert mon.stop() == 0
    assert jmon.stop() == 0


@pytest.mark.lab(attach=("fa",))
def test_handover_fa_to_dhcp_signals(lab, mipd_factory, monitor_factory):
    m = mipd_factory(lab)
    m.wait_state("registered", timeout=10, care_of_mode="foreign-agent")
    mon = start_monitor(lab, monitor_factory)
    jmon = start_monitor(lab, monitor_factory, json_out=True)
    mark, jmark = mon.mark(), jmon.mark()

    lab.attach("dhcp")
    lease = lab.wait_lease("dhcp0", timeout=10)
    lab.detach("fa")
    st, _ = m.wait_state("registered", timeout=10, care_of_mode="co-located")
    assert st["care_of_address"] == lease and st["interface"] == "dhcp0"

    h = json.loads(jmon.wait(lambda l: '"signal":"handover"' in l, since=jmark,
                             what="HandoverCompleted"))["data"]
    assert h["old_interface"] == "fa0", h
    assert h["new_interface"] == "dhcp0", h
    assert h["care_of_address"] == lease, h
    assert h["mode"] == "co-located", h
    # Timings the API promises, in whole milliseconds: from the trigger (fa0
    # going away) to the home agent's acceptance and to the switch.
    for k in ("trigger_to_accepted_ms", "trigger_to_switched_ms"):
        assert isinstance(h.get(k), int) and 0 <= h[k] < 10000, (k, h)
    assert h["trigger_to_accepted_ms"] <= h["trigger_to_switched_ms"], h
    print("handover fa0 -> dhcp0:", json.dumps(h))
    evs = json_lines(jmon, jmark)
    types = [v["data"]["type"] for v in evs if v["signal"] == "event"]
    assert "accepted" in types, types
    assert any(t in ("moved", "link-down") for t in types), types

    # Human: the Event ("handover ... handover from foreign agent ...") and
    # the HandoverCompleted line ("handover fa0 -> dhcp0, care-of ...").
    line = mon.wait(lambda l: " -> " in l, since=mark, what="a HandoverCompleted line")
    assert re.match(r"^\d\d:\d\d:\d\d handover +fa0 -> dhcp0, care-of %s \(co-located\), "
                    r"break-before-make, accepted after \d+ ms, switched after \d+ ms, "
                    r"outage \d+ ms$" % re.escape(lease), line), line
    line = mon.wait(lambda l: re.match(r"^\S+ handover +handover from ", l), since=mark,
                    what="a handover event line")
    assert "fa0" in line and "dhcp0" in line and lease in line, line


@pytest.mark.lab(attach=("fa", "dhcp"))
def test_mipc_handover_moves_and_signals(lab, mipd_factory, monitor_factory):
    """`mipc handover dhcp0` (root) moves off the preferred foreign agent;
    `mipc handover ""` returns to the configured preference."""
    m = mipd_factory(lab)
    lease = lab.wait_lease("dhcp0", timeout=10)
    m.wait_state("registered", timeout=10, care_of_mode="foreign-agent")
    jmon = start_monitor(lab, monitor_factory, json_out=True)
    jmark = jmon.mark()

    r = m.mipc("handover", "dhcp0", json_out=True)
    assert json.loads(r.stdout) == {"ok": True}
    m.wait_state("registered", timeout=10, care_of_mode="co-located", care_of_address=lease)
    h = json.loads(jmon.wait(lambda l: '"signal":"handover"' in l, since=jmark,
                             what="HandoverCompleted"))["data"]
    assert (h["old_interface"], h["new_interface"], h["mode"]) == ("fa0", "dhcp0",
                                                                   "co-located"), h

    r = m.mipc("handover", "nosuch0", check=False)
    assert r.returncode == 1 and r.stderr.strip() == "mipc: handover: no such link", r.stderr

    jmark = jmon.mark()
    m.mipc("handover", "")
    m.wait_state("registered", timeout=10, care_of_mode="foreign-agent")
    h = json.loads(jmon.wait(lambda l: '"signal":"handover"' in l, since=jmark,
                             what="HandoverCompleted back"))["data"]
    assert (h["old_interface"], h["new_interface"], h["mode"]) == ("dhcp0", "fa0",
                                                                   "foreign-agent"), h
