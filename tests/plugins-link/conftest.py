"""Fixtures for the link-plugin tests: the driver, the lab (from
tests/lab/labkit), reaction-time records, and exit status 77 when every test
was skipped (meson's "skipped")."""

import os
import sys

import pytest

_here = os.path.dirname(os.path.abspath(__file__))
_lab = os.path.join(os.path.dirname(_here), "lab")
for p in (_here, _lab):
    if p not in sys.path:
        sys.path.insert(0, p)

from linkdriver import driver_path  # noqa: E402

try:
    from labkit.fixtures import *  # noqa: E402,F401,F403  (lab, module_lab, lab_factory)
except ImportError as e:  # the NM tests skip; the netlink tests don't need it
    _labkit_error = str(e)

    @pytest.fixture
    def lab():
        pytest.skip("tests/lab/labkit cannot be imported: " + _labkit_error)

_timings = []
_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


@pytest.fixture
def driver_bin():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    path = driver_path()
    if not path:
        pytest.skip("MIP_LINK_DRIVER does not name the built link-driver (run through meson test)")
    return path


@pytest.fixture
def timing(request):
    """timing(what, seconds): records a measured reaction time for the summary."""
    def record(what, seconds):
        _timings.append((request.node.name, what, seconds))
    return record


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _outcomes[report.outcome] = _outcomes.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter):
    if not _timings:
        return
    terminalreporter.section("measured reaction times")
    for test, what, s in _timings:
        terminalreporter.write_line("%-55s %-40s %7.1f ms" % (test, what, s * 1000))


def pytest_sessionfinish(session, exitstatus):
    if _outcomes["skipped"] and not _outcomes["passed"] and not _outcomes["failed"]:
        session.exitstatus = 77
