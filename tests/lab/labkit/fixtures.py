"""pytest fixtures for the lab; conftest.py files import them with
`from labkit.fixtures import *`.

- `lab`: a fresh lab for each test (up ~0.5 s, down ~0.1 s). Options come
  from the test's (or its module's/class's) marker:
  `@pytest.mark.lab(attach=("fa",), agents=False, wlan="vfa")`.
- `module_lab`: one lab shared by every test of a module (options from the
  module's `pytestmark = pytest.mark.lab(...)`); tests must leave it as they
  found it (links, wlan position, processes).
- `lab_factory`: call it (with Lab.up keyword arguments) for more labs in one
  test; all are torn down when the test ends.
Every fixture skips with the reason when the lab cannot run (not root, tools
missing)."""

import pytest

from .lab import Lab, missing_prerequisites

__all__ = ["lab", "module_lab", "lab_factory", "pytest_configure"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "lab(**options): keyword arguments for labkit.Lab.up "
        "(attach, agents, wlan, lease_time) used by the lab fixtures")


def _require_lab():
    why = missing_prerequisites()
    if why:
        pytest.skip("network lab unavailable: " + "; ".join(why))


def _options(node):
    opts = {}
    # Outermost first, so a test's own marker wins over its module's.
    for m in reversed(list(node.iter_markers("lab"))):
        opts.update(m.kwargs)
    return opts


@pytest.fixture
def lab(request):
    _require_lab()
    with Lab.up(**_options(request.node)) as lab:
        yield lab


@pytest.fixture(scope="module")
def module_lab(request):
    _require_lab()
    with Lab.up(**_options(request.node)) as lab:
        yield lab


@pytest.fixture
def lab_factory():
    _require_lab()
    labs = []

    def make(**options):
        lab = Lab.up(**options)
        labs.append(lab)
        return lab

    yield make
    errors = []
    for lab in reversed(labs):
        try:
            lab.down()
        except Exception as e:  # tear down the others anyway
            errors.append(e)
    if errors:
        raise errors[0]
