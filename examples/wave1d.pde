# wave1d.pde - a plucked string: second order in time, fixed ends
problem "wave 1d"

param c = 1                          # wave speed

space x in [0, 1]
time  t in [0, 1]
field u(t, x)

pde d(u, t, 2) = c^2 * d(u, x, 2)

bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
ic d(u, t) = 0 at t = 0              # the second initial condition: released at rest

exact u = sin(pi*x)*cos(c*pi*t)
