"""Writes velocity.npy: a layered velocity model (m/s) on [0, 1000] m x [0, 1000] m.

Three flat layers, slower near the surface (y = 0), sampled on 101 x 101 points with both
ends included, axes (x, y) as the `param c(x, y) = load(...)` line of
examples/wave2d_acoustic.pde expects. Run: python examples/data/make_velocity.py
"""

from pathlib import Path

import numpy as np

x = np.linspace(0.0, 1000.0, 101)
y = np.linspace(0.0, 1000.0, 101)
X, Y = np.meshgrid(x, y, indexing="ij")
velocity = np.where(Y < 350.0, 1500.0, np.where(Y < 700.0, 2000.0, 2500.0))
np.save(Path(__file__).with_name("velocity.npy"), velocity)
