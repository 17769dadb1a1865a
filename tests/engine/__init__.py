"""The training engine: run_training, its schedules, guards and verbosity, and the
``precision`` parameter."""
