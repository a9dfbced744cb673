"""Where a benchmark sends the log lines the measured code writes: a file, as a task's log would be.

Writing them to a terminal would measure the terminal; dropping them would not measure the logging.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def output_to_log_file(prefix: str) -> Iterator[str]:
    """Send file descriptors 1 and 2 (Airflow's structlog writes to stdout) to a new file; yield its
    path. Restored on exit, also after a failure."""
    with tempfile.NamedTemporaryFile("w", prefix=prefix, suffix=".log", delete=False) as log:
        saved = [os.dup(1), os.dup(2)]
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        try:
            yield log.name
        finally:
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
