"""The `dannscope` command of the Python package: the same command line as the Rust binary (one
entry, `dannscope::cli::run_from`), so the flags, output bytes and exit statuses are the same."""
from __future__ import annotations

import os
import signal
import sys

from . import _native


def main() -> None:
    """Runs `dannscope` with this process's arguments and exits with its status."""
    # ONNX Runtime is found through the `onnxruntime` package of this interpreter when installed
    # (README, Install); a value already set wins.
    os.environ.setdefault("DANNSCOPE_PYTHON", sys.executable)
    # Ctrl-C stops the command at once, as it stops the binary (the native code never returns to
    # Python's own handler while it works).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_native.run_cli(["dannscope", *sys.argv[1:]]))
