# fisher_kpp_ude.pde - Fisher-KPP with its reaction term unknown: u_t = D u_xx + R(u), R a
#   small network learned from noisy snapshots (data/fisher_kpp_snapshots.csv: the front
#   with D = 0.01 and R = 5 u (1 - u), solved by SciPy on a fine grid, 1% noise), then
#   read back as a formula:
#     pdelang solve examples/fisher_kpp_ude.pde --grid 33 --hold-out 0.2 --out fk.npz
#     pdelang discover fk.npz --library poly3
problem "fisher-kpp-ude"

param D = 0.01                       # diffusion (known)

time  t in [0, 1]
space x in [0, 1]
field u(t, x)

net R(u) : width 8, depth 1          # the reaction term, in place of r*u*(1 - u)

pde d(u, t) = D*d(u, x, 2) + R(u)

ic u = exp(-((x - 0.3)/0.08)^2) at t = 0
bc d(u, x) = 0 at x = 0
bc d(u, x) = 0 at x = 1

data "data/fisher_kpp_snapshots.csv"
