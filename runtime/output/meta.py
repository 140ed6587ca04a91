"""The `meta` record of a result: what ran, with which options and versions."""

from __future__ import annotations

import datetime
import platform
from importlib import metadata

from pdelang import System

PACKAGES = ("pdelang", "jax", "jaxlib", "numpy", "sympy", "optax")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def base_meta(method: str, system: System, options: dict) -> dict:
    import jax

    return {
        "method": method,
        "problem": system.name,
        "source": system.source,
        "classification": system.classification(),
        "options": options,
        "versions": versions(),
        "device": str(jax.devices()[0].platform),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
