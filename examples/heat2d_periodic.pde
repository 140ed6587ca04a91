# heat2d_periodic.pde - heat equation on a doubly periodic square (a torus)
#   The Fourier mode sin(2 pi x) cos(4 pi y) decays at the rate alpha (4 pi^2 + 16 pi^2).
problem "heat 2d periodic"

param alpha = 0.01                   # diffusivity

space x in [0, 1], y in [0, 1]
time  t in [0, 1]
field u(t, x, y)

pde d(u, t) = alpha*laplace(u)

bc periodic x, y
ic u = sin(2*pi*x)*cos(4*pi*y) at t = 0

exact u = exp(-20*alpha*pi^2*t)*sin(2*pi*x)*cos(4*pi*y)
