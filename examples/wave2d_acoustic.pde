# wave2d_acoustic.pde - acoustic waves from a point source in a layered medium
#   p_tt = c(x, y)^2 laplace(p) + s(t, x, y), with a Ricker wavelet of peak frequency f0
#   centred at t0 = 1.2/f0, spread over a narrow Gaussian at the centre of the domain.
#   The velocity model (three layers, 1500-2500 m/s) is data: examples/data/velocity.npy
problem "acoustic wave 2d"

param f0 = 20                               # peak frequency of the source, Hz
param t0 = 1.2/f0                           # delay of the wavelet, s
param sigma = 10                            # width of the source, m
param c(x, y) = load("data/velocity.npy")   # velocity, m/s, sampled on the domain

space x in [0, 1000], y in [0, 1000]        # metres
time  t in [0, 0.3]                         # seconds

field p(t, x, y)                            # pressure

pde d(p, t, 2) = (c^2*laplace(p)                  # a statement continues inside brackets
                  + 1e6*(1 - 2*(pi*f0*(t - t0))^2)*exp(-(pi*f0*(t - t0))^2)
                    *exp(-((x - 500)^2 + (y - 500)^2)/(2*sigma^2)))

bc p = 0 at x = 0
bc p = 0 at x = 1000
bc p = 0 at y = 0
bc p = 0 at y = 1000
ic p = 0 at t = 0
ic d(p, t) = 0 at t = 0
