# heat_inverse.pde - the diffusion coefficient of a rod from noisy snapshots
# (5 snapshots of 41 points with 1% noise; the data were made with k = 0.1)
problem "heat coefficient from noisy snapshots"

param k ~ 0.5                        # unknown, first guess 0.5

space x in [0, 1]
time  t in [0, 0.5]

field u(t, x)

pde d(u, t) = k * d(u, x, 2)

bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) + 0.5*sin(3*pi*x) at t = 0

data "data/heat_snapshots.csv"       # t, x, u; see data/make_inverse_data.py

exact u = sin(pi*x)*exp(-k*pi^2*t) + 0.5*sin(3*pi*x)*exp(-9*k*pi^2*t)
