# lotka_volterra.pde - predator and prey (Lotka 1925, Volterra 1926): an ODE, no space
#   prey' = alpha prey - beta prey pred,  pred' = delta prey pred - gamma pred.
#   No closed form, but V = delta prey - gamma ln(prey) + beta pred - alpha ln(pred) is
#   conserved: the orbit is closed (tests/runtime/test_gallery.py checks V numerically).
#   Solve with `--integrator dopri5` (adaptive; V drifts by 2e-6) or `--dt 0.01`: the default
#   fixed step for a problem with no space (rk4, dt = 0.3) lets V drift by 1%.
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
