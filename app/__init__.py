"""Backprop Lab's web server (FastAPI) and command line; all maths lives in ``engine``."""
