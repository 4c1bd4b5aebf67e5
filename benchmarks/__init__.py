"""fitcore's benchmarks: `.venv/bin/python -m benchmarks` runs every group and writes BENCHMARKS.md.

Groups (``--only NAME``): engine, compiled, analytic, memory, startup, live, compare, device. ``--smoke`` runs
tiny sizes so CI can check the suite still runs; tests never assert a speed.
"""
