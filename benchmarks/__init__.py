"""Benchmarks of tacker_rpc; see doc/performance.rst.

Not part of the test suite's pass/fail: tests/unit/test_benchmarks_smoke.py
only checks that each script still runs.
"""
