# heat_disk.pde - heat in a disk with an off-centre hole, the temperature on both circles
#   given as a function of time (manufactured: u = exp(-t) exp(x) sin(2y) + t x).
space x in [-1, 1], y in [-1, 1]
time  t in [0, 0.5]
field u(t, x, y)

domain disk(0, 0, 1) - disk(0.3, 0.2, 0.3)

pde d(u, t) = 0.5*laplace(u) + 0.5*exp(-t)*exp(x)*sin(2*y) + x
bc u = exp(-t)*exp(x)*sin(2*y) + t*x on boundary
ic u = exp(x)*sin(2*y) at t = 0

exact u = exp(-t)*exp(x)*sin(2*y) + t*x
