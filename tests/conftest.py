"""Shared test set-up: one torch/BLAS thread, so timings and CI stay predictable."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
