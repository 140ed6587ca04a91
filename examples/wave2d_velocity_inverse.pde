# wave2d_velocity_inverse.pde - the wave speed of a 2-D medium from recorded wavefields
# (six snapshots on 33 x 33 points; the data hold a fast inclusion near (0.7, 0.35)).
# Fit on the 33 x 33 grid with fourth-order stencils and a little smoothing:
#   pdelang solve wave2d_velocity_inverse.pde --grid 33 --accuracy 4 --regularization 1e-4
# With a PINN (defaults: data and smoothing weighted on the equations' scale,
# docs/inverse.md), c to about 1.4% in 480 s:
#   pdelang solve wave2d_velocity_inverse.pde --method pinn --grid 33
problem "wave speed from recorded wavefields"

param c(x, y) ~ 1                    # unknown coefficient field, first guess 1 everywhere

space x in [0, 1], y in [0, 1]
time  t in [0, 0.6]

field u(t, x, y)

pde d(u, t, 2) = c^2 * laplace(u)

bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
ic u = exp(-((x - 0.5)^2 + (y - 0.5)^2)/0.01) at t = 0
ic d(u, t) = 0 at t = 0

data "data/wave_records.csv"         # t, x, y, u; see data/make_inverse_data.py
