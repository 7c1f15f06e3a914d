"""Benchmarks for jwt_auth, run with ``python -m bench`` (``make bench``).

Each section prints its own figures; none of them fails the run.
"""
