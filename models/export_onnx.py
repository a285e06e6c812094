#!/usr/bin/env python3
"""The ONNX exporter, run from a checkout without the Python package installed.

The code lives in python/dannscope/export.py (installed as ``dannscope-export`` and
``python -m dannscope.export`` by ``pip install "dannscope[export]"``). This file runs that code as its
own module, so ``python models/export_onnx.py ...``, ``import export_onnx`` (models/train_dann.py) and
pickled modules that name ``export_onnx`` work as before; see the docstring there for flags and examples.
"""
import os

_SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                        "python", "dannscope", "export.py"))
with open(_SOURCE, encoding="utf-8") as _f:
    exec(compile(_f.read(), _SOURCE, "exec"))  # defines this module's names; runs main() as a script
