# burgers1d.pde - viscous Burgers' equation with an exact Cole-Hopf solution
#   u = -2 nu phi_x / phi, where phi = A + exp(-pi^2 nu t) cos(pi x) solves the heat equation
problem "burgers 1d"

param nu = 0.05                      # viscosity
param A = 2                          # keeps phi > 0

space x in [0, 1]
time  t in [0, 1]
field u(t, x)

pde d(u, t) + u*d(u, x) = nu*d(u, x, 2)

bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = 2*nu*pi*sin(pi*x)/(A + cos(pi*x)) at t = 0

exact u = 2*nu*pi*exp(-pi^2*nu*t)*sin(pi*x)/(A + exp(-pi^2*nu*t)*cos(pi*x))
