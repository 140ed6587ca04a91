# reaction_diffusion2d.pde - two species that diffuse and turn into each other
#   u <-> v at unit rate; both vanish on the edges. Exact: with s = sin(pi x) sin(pi y),
#   u + v = exp(-2 D pi^2 t) s  and  u - v = exp(-(2 D pi^2 + 2) t) s
problem "reaction-diffusion 2d"

param D = 0.1                        # diffusivity of both species
param k = 1                          # exchange rate

space x in [0, 1], y in [0, 1]
time  t in [0, 0.5]
field u(t, x, y), v(t, x, y)

pde d(u, t) = D*laplace(u) - k*u + k*v
pde d(v, t) = D*laplace(v) + k*u - k*v

bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
bc v = 0 at x = 0
bc v = 0 at x = 1
bc v = 0 at y = 0
bc v = 0 at y = 1
ic u = sin(pi*x)*sin(pi*y) at t = 0
ic v = 0 at t = 0

exact u = exp(-2*D*pi^2*t)*(1 + exp(-2*k*t))/2*sin(pi*x)*sin(pi*y)
exact v = exp(-2*D*pi^2*t)*(1 - exp(-2*k*t))/2*sin(pi*x)*sin(pi*y)
