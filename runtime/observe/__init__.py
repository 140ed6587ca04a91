"""What runs beside a solve, between its jitted chunks: progress lines, per-stage timers,
clean interruption, checkpoints, and the memory check made before anything is allocated."""
