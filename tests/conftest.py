"""Strict test setup: float64 on for the FD/ODIL checks, keys from a fixture."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PDELANG_CACHE", "off")   # command lines the tests start: no disk cache

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def pytest_configure(config):
    """The default lane: without `-m`, the slow tests are deselected. `.ci/slow` runs them
    with `-m slow`; `-m "slow or not slow"` runs everything."""
    if not config.option.markexpr:
        config.option.markexpr = "not slow"


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)


@pytest.fixture(scope="session")
def examples_dir():
    return os.path.abspath(EXAMPLES)
