# kuramoto_sivashinsky1d.pde - the Kuramoto-Sivashinsky equation, a model of spatio-temporal
#   chaos (flame fronts), in the classic setup of Kassam & Trefethen (SIAM J. Sci. Comput.
#   26, 2005): u_t + u u_x + u_xx + u_xxxx = 0, periodic on [0, 32 pi],
#   u0 = cos(x/16) (1 + sin(x/16)). Fourth derivatives are available on periodic axes only.
#   A short span (t <= 40) keeps it fast; the stripes appear at t ~ 20-30. No exact solution.
problem "kuramoto-sivashinsky 1d"

space x in [0, 32*pi]
time  t in [0, 40]
field u(t, x)

pde d(u, t) + u*d(u, x) + d(u, x, 2) + d(u, x, 4) = 0

bc periodic x
ic u = cos(x/16)*(1 + sin(x/16)) at t = 0
