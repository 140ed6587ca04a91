"""A sweep's members split over 4 simulated CPU devices (the member axis sharded, padded to
a multiple of the devices) give the one-device members, and say how many devices ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import json, numpy as np, jax
import pdelang as pl, runtime
system = pl.load("examples/heat1d_dirichlet.pde")
values = {"alpha": np.linspace(0.1, 1.0, 6)}               # 6 members: padded to 8
one = runtime.solve(system, "fd", grid=33, frames=5, sweep=values, devices=1)
four = runtime.solve(system, "fd", grid=33, frames=5, sweep=values, devices=4)
ode = pl.parse('''
param r = 1
time t in [0, 2]
field y(t)
pde d(y, t) = r*y*(1 - y)
ic y = 0.1
''', "logistic.pde")
adaptive = [runtime.solve(ode, "fd", sweep={"r": [0.5, 1, 2, 4, 8]}, devices=n).values["y"]
            for n in (1, 4)]
print(json.dumps({"devices": [len(jax.devices()), one.meta["devices"], four.meta["devices"]],
                  "difference": float(np.abs(one.values["u"] - four.values["u"]).max()),
                  "shape": list(four.values["u"].shape),
                  "error": four.errors()["u"],
                  "adaptive": float(np.abs(adaptive[0] - adaptive[1]).max())}))
"""


def test_members_split_over_four_devices_equal_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == [4, 1, 4]
    assert result["shape"] == [6, 5, 33]
    assert result["difference"] < 1e-13 and result["error"] < 1e-3
    assert result["adaptive"] < 1e-12
