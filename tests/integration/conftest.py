"""Integration tests: the real mipd against the lab (real NetworkManager,
dnsmasq, the independent home and foreign agents). Lab fixtures come from
tests/lab (labkit); `mipd_factory(lab, start=True, **config)` starts mipd in
the lab's mobile node and, at the end of the test, stops it and fails the
test if it exited non-zero or left tunnels, rules or routes behind."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(HERE), "lab"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from labkit.fixtures import *  # noqa: E402,F401,F403
from mipdlab import LAB_KEY2_HEX, LAB_KEY_HEX, Mipd, binary  # noqa: E402


@pytest.fixture
def mipd_factory(request):
    try:
        binary("mipd")
        binary("mipc")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    started = []

    def make(lab, start=True, **options):
        m = Mipd(lab, name="mipd%d" % len(started), **options)
        started.append(m)
        if start:
            m.start()
        return m

    yield make
    problems = []
    failed = getattr(getattr(request.node, "rep_call", None), "failed", False)
    for m in started:
        if m.proc is None or getattr(m, "killed_on_purpose", False):
            continue
        if failed:
            sys.stderr.write("\n--- mipd log (%s)\n%s\n" % (m.log_path, m.log_tail(80)))
        rc = m.stop()
        if rc not in (0, None):
            problems.append("mipd exited with %s:\n%s" % (rc, m.log_tail()))
        left = m.leftovers()
        if left:
            problems.append("mipd left behind: %s" % left)
        # Keys never reach the log, in hex or as bytes.
        log = m.log_text()
        for key in (LAB_KEY_HEX, LAB_KEY2_HEX):
            if key in log or bytes.fromhex(key).decode() in log:
                problems.append("mipd logged its key")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
