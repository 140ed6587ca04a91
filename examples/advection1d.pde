# advection1d.pde - a sine wave carried around a periodic interval
problem "advection 1d"

param a = 1                          # transport speed

space x in [0, 1]
time  t in [0, 1]
field u(t, x)

pde u_t + a*u_x = 0

bc periodic x
ic u = sin(2*pi*x) at t = 0

exact u = sin(2*pi*(x - a*t))
