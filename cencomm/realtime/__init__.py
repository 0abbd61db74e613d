"""Live delivery: fan-out hub and cross-process bus."""
