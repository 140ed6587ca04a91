"""Integrators driven from the host: the step control and a sparse LU (SuperLU, or MKL
PARDISO where installed) in Python between device calls of the right-hand side and the
Jacobian's coloured jvps. Rodas4 on grids (`sparse_rosenbrock`), variable-order BDF for
long stiff runs and index-1 DAEs (`bdf`, with `dae`: consistent initial values), and what
they share (`common`)."""
