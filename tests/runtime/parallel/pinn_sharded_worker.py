"""Train PINN cases on 1, 2 and 4 devices, in a process of its own.

JAX fixes its device count when it starts, so the tests that need several (simulated CPU)
devices run this script in a subprocess with XLA_FLAGS set:

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python pinn_sharded_worker.py OUT CASE...

For each CASE and device count k it writes OUT/CASE.npz holding `loss_k` (the loss history),
`params_k` (the trained values, flattened) and `meta_k` (JSON: how the points lay over the
devices, and what else the case reports).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DEVICES = (1, 2, 4)
# point counts that 4 devices (and for the boundary and the data, 2) do not divide
POINTS = dict(points=102, boundary_points=30, initial_points=30)


def forward(devices: int, dtype: str = "float32", **given) -> dict:
    """heat1d.pde (two Neumann terms in the loss) by `train`, 300 Adam steps with RAR-D
    resampling every 100 (`given` changes the options); the loss history and every
    trained array."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import pdelang as pl
    from compiler.pinn import PINNOptions, lower_pinn
    from runtime.pinn import TrainOptions, train

    program = lower_pinn(pl.load(EXAMPLES / "heat1d.pde"), PINNOptions(layers=(16, 16)))
    options = TrainOptions(**{"steps": 300, "lbfgs_steps": 0, "chunk": 100, **POINTS,
                              "resample_every": 100, "adaptive_sampling": True, **given},
                           devices=devices)
    result = train(program, options, dtype=getattr(jnp, dtype))
    leaves = [np.ravel(np.asarray(x, dtype=np.float64)) for x in jax.tree.leaves(result.nets)]
    return {"loss": result.history["loss"], "params": np.concatenate(leaves),
            "meta": {**result.placement.describe(), **result.info,
                     "weights": result.weights}}


def lbfgs_float64(devices: int) -> dict:
    """The forward case in float64 with learning-rate annealing, Adam then L-BFGS."""
    import jax

    with jax.enable_x64(True):
        return forward(devices, "float64", steps=100, lbfgs_steps=50, chunk=50,
                       resample_every=50, weights="adaptive")


def inverse(devices: int, **given) -> dict:
    """heat_inverse.pde (unknown k, 205 observations) by `runtime.solve`, 300 Adam steps:
    the loss history kept in meta, k and the field on the output grid."""
    import numpy as np

    import pdelang as pl
    import runtime

    solution = runtime.solve(pl.load(EXAMPLES / "heat_inverse.pde"), "pinn", steps=300,
                             lbfgs_steps=0, chunk=100, layers=(16, 16), grid=9, frames=5,
                             devices=devices, **POINTS, **given)
    meta = solution.meta
    return {"loss": np.asarray(meta["loss_history"]["loss"]),
            "params": np.concatenate([[solution.params["k"]], solution.values["u"].ravel()]),
            "meta": {k: meta[k] for k in ("devices", "mesh", "processes", "unknown_history",
                                          "options")}}


def resumed(devices: int) -> dict:
    """The inverse case on one device straight through; on 2 (4) devices resumed from the
    checkpoint of a run on 4 (2) devices interrupted after step 100."""
    import os
    import signal
    import tempfile

    from runtime.observe.interrupt import Interrupted

    if devices == 1:
        return inverse(1)

    def stop(progress):
        if progress["step"] == 100:
            os.kill(os.getpid(), signal.SIGINT)

    folder = tempfile.mkdtemp()
    try:
        inverse(6 - devices, checkpoint=folder, checkpoint_every=0, observers=(stop,))
    except Interrupted:
        pass
    return inverse(devices, checkpoint=folder, resume=True)


CASES = {"forward": forward, "inverse": inverse, "lbfgs_float64": lbfgs_float64,
         "resumed": resumed}


def run(case: str, out: Path) -> None:
    import numpy as np

    arrays = {}
    for k in DEVICES:
        found = CASES[case](k)
        arrays.update({f"loss_{k}": found["loss"], f"params_{k}": found["params"],
                       f"meta_{k}": json.dumps(found["meta"], default=str)})
    np.savez(out / f"{case}.npz", **arrays)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    for name in sys.argv[2:]:
        run(name, folder)
