# sod_shock_tube.pde - Sod's shock tube: the 1-D Euler equations in conservation form
#   density rho, momentum m, energy E; pressure p = (gamma - 1)*(E - m^2/(2*rho)).
#   Each d(flux, x) is differenced as a flux: WENO5 with Lax-Friedrichs splitting (the
#   default for a nonlinear conservation law; --scheme muscl for MUSCL), SSPRK3 in time.
#   A rarefaction, a contact and a shock; the exact Riemann solution is in
#   tests/compiler/fd/riemann.py (density L1 error 2e-3 at 400 cells)
problem "sod shock tube"

param gamma = 1.4

space x in [0, 1]
time  t in [0, 0.2]
field rho(t, x)
field m(t, x)
field E(t, x)

pde d(rho, t) + d(m, x) = 0
pde d(m, t) + d(m^2/rho + (gamma - 1)*(E - m^2/(2*rho)), x) = 0
pde d(E, t) + d((E + (gamma - 1)*(E - m^2/(2*rho)))*m/rho, x) = 0

ic rho = where(x < 0.5, 1, 0.125) at t = 0
ic m = 0 at t = 0
ic E = where(x < 0.5, 1, 0.1)/(gamma - 1) at t = 0

bc d(rho, x) = 0 at x = 0            # outflow: zero gradient
bc d(rho, x) = 0 at x = 1
bc d(m, x) = 0 at x = 0
bc d(m, x) = 0 at x = 1
bc d(E, x) = 0 at x = 0
bc d(E, x) = 0 at x = 1
