# kuramoto_sivashinsky1d.pde - the Kuramoto-Sivashinsky equation, a model of spatio-temporal
#   chaos (flame fronts), in the classic setup of Kassam & Trefethen (SIAM J. Sci. Comput.
#   26, 2005): u_t + u u_x + u_xx + u_xxxx = 0, periodic on [0, 32 pi],
#   u0 = cos(x/16) (1 + sin(x/16)). Fourth derivatives are available on periodic axes only.
#   A short span (t <= 40) keeps it fast; the cells appear at t ~ 20-30. No exact solution.
#   Stiff (u_xxxx): auto picks rk4 at the stability limit (dt ~ dx^4), which is fast enough
#   here; --integrator sdirk2 takes dt = 0.2. The default 129 points under-resolve the cells
#   (peaks ~3); with --grid 257 rk4 and sdirk2 agree (peaks 2.46).
problem "kuramoto-sivashinsky 1d"

space x in [0, 32*pi]
time  t in [0, 40]
field u(t, x)

pde d(u, t) + u*d(u, x) + d(u, x, 2) + d(u, x, 4) = 0

bc periodic x
ic u = cos(x/16)*(1 + sin(x/16)) at t = 0
