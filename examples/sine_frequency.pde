# sine_frequency.pde - the first case of the FBPINN paper (Moseley, Markham and
#   Nissen-Meyer 2023): du/dx = cos(w x) on [-2 pi, 2 pi] with w = 15, a solution of 60
#   periods' worth of wiggles that one network learns slowly. The paper fixes u(0) = 0;
#   here u(-2 pi) = 0, the same solution sin(w x)/w. Try --method fbpinn --subdomains 30.
space x in [-2*pi, 2*pi]
field u(x)
param w = 15

pde d(u, x) = cos(w*x)
bc u = 0 at x = -2*pi

exact u = sin(w*x)/w
