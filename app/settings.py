"""Every limit of the server in one object; ``/api/options`` reports them to the page."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from engine.datasets.mnist import MIRRORS


@dataclass(frozen=True)
class Settings:
    """Limits and knobs of one app instance (tests build their own with smaller numbers)."""

    max_layers: int = 8                    # Dense layers per network, output included
    max_units: int = 1024                  # units per layer
    max_batch_size: int = 4096             # samples per minibatch
    max_epochs: int = 200                  # epochs of one comparison
    max_learning_rates: int = 8            # runs of one learning-rate comparison
    max_grid: int = 200                    # predict-grid resolution (points per side)
    max_points: int = 5000                 # points of each split sent by /data
    max_upload_bytes: int = 50_000_000     # an imported session (JSON or .npz), and the arrays of an .npz inflated
    max_json_bytes: int = 1_000_000        # any other JSON request body (413 past it)
    max_answer_bytes: int = 48_000_000     # a step's answer; past it the largest tensors come as summaries
    max_sessions: int = 32                 # sessions held at once
    max_total_params: int = 20_000_000     # weights summed over all sessions
    idle_expiry_seconds: float = 3600.0    # a session unused this long (and held by no page) is dropped
    release_after_seconds: float = 20.0    # a page's session is dropped this long after the page closed
    max_indices: int = 1024                # samples in a one-off /forward batch
    max_play_speed: float = 1000.0         # steps per second while playing over the WebSocket
    play_lean_weights: int = 10_000        # while playing, layers with more weights send only what is drawn
    max_range_test_steps: int = 5000       # batches of an LR range test
    timeline_bytes: int = 32_000_000       # keyframes a session keeps to go back in time (their interval
                                           # doubles past it; any step is still rebuilt exactly)
    compare_workers: int = 2               # worker processes for comparisons
    max_compare_jobs: int = 4              # comparisons and sweeps kept (queued, running or finished)
    max_sweep_runs: int = 200              # runs of one sweep (grid combinations or listed runs)
    max_curve_points: int = 2000           # batch losses kept per run (past it every 2nd, 4th, ... step)
    dask_address: str | None = None        # a Dask scheduler (tcp://host:port): sweeps run there
    mnist_max_train: int | None = None     # None: every MNIST image may be used
    mnist_mirrors: tuple[str, ...] = MIRRORS   # where POST /api/datasets/mnist/download fetches from
    mnist_timeout: float = 30.0            # seconds per network read of that download
    max_csv_bytes: int = 5_000_000         # an uploaded CSV file
    max_csv_rows: int = 100_000            # data rows of an uploaded CSV file
    max_csv_columns: int = 2000            # columns of an uploaded CSV file
    max_uploads: int = 8                   # uploaded CSV files kept (the oldest is forgotten)
    bind_host: str = "127.0.0.1"           # address served on: a non-loopback one needs a token
    allowed_hosts: tuple[str, ...] = ()    # more names of this server for the Host check (--allow-host)
    token: str | None = field(default=None, repr=False)   # access token (None: none asked; loopback only)

    def public(self) -> dict:
        """The limits as JSON for /api/options (never the access token)."""
        limits = asdict(self)
        del limits["token"], limits["dask_address"]
        return limits
