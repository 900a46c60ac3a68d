"""Polygraphy reads POLYGRAPHY_USE_TENSORRT_RTX once, when it is imported, and its TensorRT loaders bind the module
they use (lazy_import_trt()) when they are imported. Where NVIDIA's tensorrt_rtx package is installed, the test
session runs Polygraphy in its TensorRT-RTX mode, as `POLYGRAPHY_USE_TENSORRT_RTX=1 polygraphy run` does, so that
tests/rtx drive the real TensorRT-RTX through Polygraphy's own loaders. The stand-in fixtures (tests/standin)
turn the package back to the stand-in `tensorrt` module for the tests that use it. Subprocesses are not affected:
only the imported configuration changes, not the environment.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("tensorrt_rtx") is not None:
    import polygraphy.config

    polygraphy.config.USE_TENSORRT_RTX = True
