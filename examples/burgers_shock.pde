# burgers_shock.pde - Raissi's Burgers benchmark: a sine that steepens into a standing
#   shock of width ~nu (the PINN literature's standard hard case; reference solution in
#   shared/reference/Burgers.npz, published PINN error 6.7e-4).
problem "burgers shock"

param nu = 0.01/pi                   # viscosity

space x in [-1, 1]
time  t in [0, 0.99]
field u(t, x)

pde d(u, t) + u*d(u, x) = nu*d(u, x, 2)

bc u = 0 at x = -1
bc u = 0 at x = 1
ic u = -sin(pi*x) at t = 0
