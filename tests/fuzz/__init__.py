"""A fuzzing harness over the command line, in-process (see harness.py)."""
