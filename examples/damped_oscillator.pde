# damped_oscillator.pde - the damped harmonic oscillator of the scalable-PINNs workshop:
#   m u'' + mu u' + k u = 0 with m = 1, mu = 4, k = 400, u(0) = 1, u'(0) = 0 (underdamped:
#   delta = mu/2, omega = sqrt(k - delta^2)). Compare --method pinn, fbpinn and elm.
param mu = 4
param k = 400
time t in [0, 1]
field u(t)

pde d(u, t, 2) + mu*d(u, t) + k*u = 0
ic u = 1 at t = 0
ic d(u, t) = 0 at t = 0

exact u = exp(-mu/2*t)*(cos(sqrt(k - mu^2/4)*t) + mu/2/sqrt(k - mu^2/4)*sin(sqrt(k - mu^2/4)*t))
