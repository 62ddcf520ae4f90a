"""In-memory stand-ins shared by the tests and the benchmarks (``scripts/bench``): a clock, an SQS queue and
an AWS call counter. Tooling: no zip carries them and the runtime never imports them."""
