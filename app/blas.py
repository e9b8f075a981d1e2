"""One BLAS thread unless the user asks for more; import this before NumPy is imported.

The products here are small (a batch of 32 rows), and on a 2-core machine OpenBLAS' own threads
made them 6-25x slower under load; parallel work (learning-rate comparisons) runs in separate
processes instead. Setting OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS overrides it.
"""
import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if not any(os.environ.get(v) for v in THREAD_VARIABLES):
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
