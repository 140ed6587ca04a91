# advection_fast.pde - fast transport around a periodic interval: u_t + 50 u_x = 0,
#   u(0, x) = sin(x) on [0, 2 pi] (the beta = 50 convection case of Krishnapriyan et al.,
#   "Characterizing possible failure modes in physics-informed neural networks", 2021).
#   Hard because the wave goes round the interval about 8 times in t in [0, 1]: a plain
#   PINN trained on all times at once settles on a wrong, nearly flat solution (relative
#   error near 1 in that paper); causal training or time-marching is needed.
#   Reference: the exact line below.
problem "advection fast"

param beta = 50                      # transport speed

space x in [0, 2*pi]
time  t in [0, 1]
field u(t, x)

pde d(u, t) + beta*d(u, x) = 0

bc periodic x
ic u = sin(x) at t = 0

exact u = sin(x - beta*t)
