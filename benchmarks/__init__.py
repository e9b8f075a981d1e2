"""Backprop Lab's speed benchmarks (issue 6): ``python -m benchmarks [--quick]``.

The engine against PyTorch on MNIST, time to 97.5 % test accuracy, and the server (``/step``
latency, WebSocket frames, live-view overhead, learning-rate comparison). Every comparison
is a ratio taken in one run: the machine may be shared, so absolute seconds drift.
"""
