"""Physics-informed networks: the IR lowered to residual functions of MLPs, in JAX.

The names below are imported when first used, so that `compiler.pinn.options` can be read
without importing JAX (the command line builds its flags from it)."""

from __future__ import annotations

import importlib

_WHERE = {"PINNOptions": ".options", "PINNProgram": ".lower", "lower_pinn": ".lower",
          "ACTIVATIONS": ".networks.mlp", "MLPSpec": ".networks.mlp",
          "apply_mlp": ".networks.mlp", "init_mlp": ".networks.mlp",
          "fit_output_layer": ".networks.mlp", "ARCHITECTURES": ".networks.architectures",
          "CONSTANTS": ".residuals", "Term": ".residuals", "trained_constants": ".residuals"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
