"""Shared paths and loaders of the Python package's tests. The tests run against the installed
package (``pip install <wheel>``), never against the source folder python/dannscope."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(os.environ.get("DANNSCOPE_REPO", Path(__file__).resolve().parents[2]))
FIXTURES = REPO / "tests" / "fixtures"


def load_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def domain(folder: Path, prefix: str) -> dict[str, np.ndarray]:
    """The ``<prefix>_emb``, ``_labels`` and ``_logits`` arrays of a fixture case."""
    return {k: np.load(folder / f"{prefix}_{k}.npy") for k in ("emb", "labels", "logits")}


def dannscope_command() -> str:
    """The installed ``dannscope`` command (beside this interpreter, as a venv installs it)."""
    here = Path(sys.executable).parent / "dannscope"
    found = str(here) if here.exists() else shutil.which("dannscope")
    if found is None:
        pytest.fail("the dannscope command is not installed beside this Python")
    return found


def run(args: list[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def need(module: str):
    """Import `module`, or skip; where DANNSCOPE_REQUIRE_TORCH=1 says the torch stack is installed (CI),
    fail instead."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if os.environ.get("DANNSCOPE_REQUIRE_TORCH") == "1":
            pytest.fail(f"{module} is required here: {e}")
        pytest.skip(f"{module} not installed")
