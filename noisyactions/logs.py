"""Send a Snakemake job's stderr (progress bars, warnings, tracebacks) to its log file."""

from __future__ import annotations

import logging
import sys
import traceback
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def log_to_file(path: str) -> Iterator[None]:
    """Everything written to stderr, and any exception's traceback, goes to `path`; errors still raise."""
    with open(path, "w", buffering=1) as log:
        previous, sys.stderr = sys.stderr, log
        logging.basicConfig(stream=log, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
        try:
            yield
        except BaseException as error:
            traceback.print_exc(file=log)
            # Snakemake shows only the log's path: say what went wrong where the user is looking.
            print(f"ERROR: {type(error).__name__}: {error} (details: {path})", file=previous)
            raise
        finally:
            sys.stderr = previous
