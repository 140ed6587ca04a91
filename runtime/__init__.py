"""Running compiled systems: time integration, steady solves, training, results, CLI."""
