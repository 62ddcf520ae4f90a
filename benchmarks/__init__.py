"""Benchmarks of the Athena Partition Refresh: AWS calls against their lower bounds, throughput, cold start.

Never packaged into a Lambda zip: run with ``scripts/bench``; results are written under ``build/bench/``
(``--publish``: ``docs/bench/``, the published ones).
"""
