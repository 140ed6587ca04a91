# allen_cahn1d.pde - Allen-Cahn equation: phase separation with a diffuse interface
#   u_t = eps^2 u_xx + u - u^3. The standing front u = tanh(x/(sqrt(2) eps)) is an exact
#   steady solution; started from it, the scheme must hold the front still (a test of the
#   balance between diffusion and the double-well reaction). Dirichlet ends at +-1 (to
#   round-off, tanh(1/(sqrt(2) 0.05)) = 1 - 2e-12).
problem "allen-cahn 1d"

param eps = 0.05                     # interface width

space x in [-1, 1]
time  t in [0, 2]
field u(t, x)

pde d(u, t) = eps^2*d(u, x, 2) + u - u^3

bc u = tanh(-1/(sqrt(2)*eps)) at x = -1
bc u = tanh(1/(sqrt(2)*eps)) at x = 1
ic u = tanh(x/(sqrt(2)*eps)) at t = 0

exact u = tanh(x/(sqrt(2)*eps))
