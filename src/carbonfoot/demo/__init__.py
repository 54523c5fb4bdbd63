"""The bundled example: Nanjing-like trips and a programme's settings, and how such trips
are made.

``trips.csv`` (3,001 trips over three days in May 2024, with a few deliberately malformed
rows) and ``demo.toml`` are what ``carbonfoot demo`` runs on. :mod:`~carbonfoot.demo.synthetic`
generates trips of the same shape, of any size, for the demo, the tests and the benchmarks.
"""
