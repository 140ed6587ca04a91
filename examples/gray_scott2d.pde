# gray_scott2d.pde - Gray-Scott reaction-diffusion: self-replicating spots
#   u + 2v -> 3v, v -> P, with feed F and kill rate k (Pearson, Science 261, 1993; the
#   parameters F = 0.04, k = 0.06 give growing spots/stripes). A square in the middle of the
#   periodic domain is perturbed from the trivial state u = 1, v = 0 (a slight x-ripple
#   breaks the symmetry). No exact solution.
problem "gray-scott 2d"

param Du = 2e-5                      # diffusivities
param Dv = 1e-5
param F = 0.04                       # feed rate
param k = 0.06                       # kill rate

space x in [0, 1], y in [0, 1]
time  t in [0, 2000]
field u(t, x, y), v(t, x, y)

pde d(u, t) = Du*laplace(u) - u*v^2 + F*(1 - u)
pde d(v, t) = Dv*laplace(v) + u*v^2 - (F + k)*v

bc periodic x, y
ic u = where(abs(x - 0.5) < 0.1, where(abs(y - 0.5) < 0.1, 0.5, 1), 1) at t = 0
ic v = where(abs(x - 0.5) < 0.1, where(abs(y - 0.5) < 0.1, 0.25 + 0.01*sin(40*x), 0), 0) at t = 0
