# lotka_volterra_ude.pde - a universal differential equation (Rackauckas et al. 2020):
#   Lotka-Volterra with the interaction terms unknown, learned from noisy data by two
#   small networks inside the equations, then read back as formulas:
#     pdelang solve examples/lotka_volterra_ude.pde --misfit relative --hold-out 0.2 \
#         --out lv.npz
#     pdelang discover lv.npz --out found.pde
#   The data (data/lotka_volterra_noisy.csv) are the trajectory with beta = 0.9 and
#   gamma = 0.8 on t in [0, 3], each value with 5% noise proportional to it (hence
#   `--misfit relative`). Discovery finds B = 0.906 u v and C = 0.805 u v, and found.pde,
#   solved to t = 6, stays within 1.5% of the true trajectory; the networks alone, past
#   the data, do not (they learned the terms only where the data went).
problem "lotka-volterra-ude"

param alpha = 1.3                    # prey growth (known)
param delta = 1.8                    # predator death (known)

time  t in [0, 6]
field u(t), v(t)

net B(u, v) : width 5, depth 2       # in place of beta*u*v
net C(u, v) : width 5, depth 2       # in place of gamma*u*v

pde d(u, t) = alpha*u - B(u, v)
pde d(v, t) = C(u, v) - delta*v

ic u = 0.44249 at t = 0
ic v = 4.6280 at t = 0

data "data/lotka_volterra_noisy.csv"
