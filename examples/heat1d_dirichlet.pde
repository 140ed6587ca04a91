# heat1d_dirichlet.pde - heat equation with time-dependent Dirichlet data
#   Two separable modes, sin(pi x) e^(-alpha pi^2 t) (zero at both ends) and
#   sin(x) e^(-alpha t) (which drives the right end), add up to an exact solution.
problem "heat 1d dirichlet"

param alpha = 0.5                    # diffusivity

space x in [0, 1]
time  t in [0, 1]
field u(t, x)

pde d(u, t) = alpha*d(u, x, 2)

bc u = 0 at x = 0
bc u = exp(-alpha*t)*sin(1) at x = 1 # the end value decays in time
ic u = sin(pi*x) + sin(x) at t = 0

exact u = exp(-alpha*pi^2*t)*sin(pi*x) + exp(-alpha*t)*sin(x)
