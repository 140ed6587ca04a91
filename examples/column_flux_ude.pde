# column_flux_ude.pde - a learned flux inside a PDE, as in ocean-column models: the
#   temperature of a column mixes by a known diffusion K and a flux q it does not know,
#   T_t = -d(q(T, T_z) - K T_z, z), q a small network of the temperature and its gradient,
#   learned from noisy snapshots (data/column_flux_snapshots.csv: q = -0.04 T T_z, solved
#   by SciPy on a fine grid), then read back:
#     pdelang solve examples/column_flux_ude.pde --grid 33 --hold-out 0.2 --out column.npz
#     pdelang discover column.npz --library poly2
#   fd differentiates the net by the chain rule: d(q, z) = q_T T_z + q_{T_z} T_zz. The
#   fit steps adaptively (dopri5, the auto choice where a learned function enters the
#   spatial operator): the stable step of the known physics (K alone) is 9 times too long
#   for the flux being learned, and a fixed step taken from it blows up on the way there
#   (--dt 0.005 with --integrator rk4 works too).
#   Discovery finds q = -0.04008 T T_z (data misfit 0.5%, the noise level).
problem "column-flux-ude"

param K = 0.005                      # known diffusion

time  t in [0, 2]
space z in [0, 1]
field T(t, z)

net q(T, d(T, z)) : width 8, depth 1 # the unknown flux

pde d(T, t) = -d(q(T, d(T, z)) - K*d(T, z), z)

ic T = 1 - z + 0.3*sin(2*pi*z) at t = 0
bc T = 1 at z = 0
bc T = 0 at z = 1

data "data/column_flux_snapshots.csv"
