# lotka_volterra_runs_ude.pde - a universal differential equation fitted to three
#   experiments at once: the Lotka-Volterra interactions unknown (two small networks), the
#   data three runs from different starts (data/lotka_volterra_runs.csv: a `run` column;
#   beta = 0.9, gamma = 0.8, t in [0, 3] every 0.1, 5% noise proportional to the value):
#     pdelang solve examples/lotka_volterra_runs_ude.pde --misfit relative --hold-out 0.2 \
#         --fit-steps 1000 --out runs.npz
#     pdelang discover runs.npz
#   Each run starts from its own state: its observations at t = 0 are the first guess of
#   unknowns fitted with the nets (--initial-state fitted, the default for runs of a system
#   without space; starting from the noisy values themselves biases the fit). The Solution
#   has one member per run. Discovery finds B = 0.911 u v and C = 0.796 u v; the three runs
#   carry the nets over u in [0.18, 4.7] where one run covers [0.18, 1.56].
problem "lotka-volterra-runs-ude"

param alpha = 1.3                    # prey growth (known)
param delta = 1.8                    # predator death (known)

time  t in [0, 3]
field u(t), v(t)

net B(u, v) : width 5, depth 2       # in place of beta*u*v
net C(u, v) : width 5, depth 2       # in place of gamma*u*v

pde d(u, t) = alpha*u - B(u, v)
pde d(v, t) = C(u, v) - delta*v

ic u = 0.44249 at t = 0              # the spec's own start; each run has its own
ic v = 4.6280 at t = 0

data "data/lotka_volterra_runs.csv"
