"""``make bench``: side-by-side ratios against peer libraries and the lesson's own code.

Every figure is a ratio of two timings taken in the same run, best of several repetitions
after a warm-up (see :mod:`benchmarks.timing`); absolute times are printed only as context.
One module per benchmark group (listed in :mod:`benchmarks.suite`), each with
``run(config) -> list[Measurement]``; ``python -m benchmarks --help`` for the options.
"""
