"""The TensorRT library in use, taken where Polygraphy takes it.

Polygraphy imports TensorRT through `polygraphy.mod.trt_importer.lazy_import_trt()` (0.49.26 to 0.53.x):
`tensorrt_rtx` when POLYGRAPHY_USE_TENSORRT_RTX=1 was set before Polygraphy was imported (polygraphy/config.py
USE_TENSORRT_RTX), `tensorrt` otherwise. The package follows the same switch, so the network it patches and the
module it patches it with always come from one library.

Each TensorRT-facing module writes

    if TYPE_CHECKING:
        import tensorrt as trt      # the type checker sees the real API of each TensorRT version
    else:
        from polygraphy_deconv.trt_network.library import trt

and `trt.X` at run time reads X from the module in use now (a test may install a stand-in module in its place).
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# The product names of the two module names lazy_import_trt() gives.
_PRODUCTS = {"tensorrt": "TensorRT", "tensorrt_rtx": "TensorRT-RTX"}
_names: dict[bool, str] = {}


@functools.cache
def _config() -> ModuleType:
    """polygraphy.config, imported once (read on every `trt.X`; an import statement costs a lookup each time)."""
    from polygraphy import config

    return config


def module_name() -> str:
    """The module lazy_import_trt() imports: "tensorrt_rtx" under POLYGRAPHY_USE_TENSORRT_RTX=1, else "tensorrt"."""
    rtx = bool(_config().USE_TENSORRT_RTX)
    name = _names.get(rtx)
    if name is None:
        from polygraphy.mod.trt_importer import tensorrt_module_and_version_string

        # "tensorrt>=8.5" / "tensorrt_rtx>=1.0": the name before the version requirement
        name = _names[rtx] = re.split(r"[<>=!~ ]", tensorrt_module_and_version_string(), maxsplit=1)[0]
    return name


# The module last found in use, with what decided it: Polygraphy's switch and the module object under its name in
# sys.modules. `trt.X` is read tens of thousands of times on a deep network; the switch may be flipped and a
# stand-in put into sys.modules at any time (the tests do both), and either change is seen on the next read.
_in_use: tuple[bool, str, ModuleType] | None = None


def tensorrt() -> ModuleType:
    """The TensorRT module in use. Imported the first time through lazy_import_trt(), so a missing or too old
    library fails with Polygraphy's own message (a PolygraphyException)."""
    global _in_use
    in_use = _in_use
    if in_use is not None:
        rtx, name, module = in_use
        if rtx == bool(_config().USE_TENSORRT_RTX) and sys.modules.get(name) is module:
            return module
    name = module_name()
    found = sys.modules.get(name)
    if found is None:
        from polygraphy.mod.trt_importer import lazy_import_trt

        lazy_import_trt().__version__  # noqa: B018 (the attribute access is the import, with Polygraphy's checks)
        found = sys.modules.get(name) or importlib.import_module(name)
    _in_use = (bool(_config().USE_TENSORRT_RTX), name, found)
    return found


def installed() -> bool:
    """Whether the library Polygraphy would import is installed (without importing it)."""
    import importlib.util

    name = module_name()
    try:
        return sys.modules.get(name) is not None or importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True, slots=True)
class Library:
    """Which library ran, for the log, the report and the JSON: "TensorRT-RTX 1.7.1.116", "TensorRT 10.16.1"."""

    product: str  # "TensorRT" | "TensorRT-RTX"
    version: str

    def __str__(self) -> str:
        return f"{self.product} {self.version}"


def library() -> Library:
    """The library in use (imports it)."""
    module = tensorrt()
    product = _PRODUCTS.get(module_name(), module_name())
    return Library(product, str(getattr(module, "__version__", "unknown version")))


class _Proxy:
    """`trt` at run time: every attribute read from the module in use at that moment."""

    __slots__ = ()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(tensorrt(), attribute)

    def __repr__(self) -> str:
        return f"<TensorRT module in use: {module_name()}>"


trt: Any = _Proxy()


def missing_cuda_device() -> str:
    """Why no engine can run on this machine ("" where a CUDA device is there): TensorRT-RTX builds engines
    without a GPU, but deserializing one needs the CUDA driver and a device (on a CPU machine Polygraphy stops
    with "CUDA driver version is insufficient for CUDA runtime version"). Asks the driver API directly
    (cuInit, cuDeviceGetCount), which needs no CUDA toolkit."""
    import ctypes
    import ctypes.util

    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        found = ctypes.util.find_library("cuda")
        if found is None:
            return "no CUDA driver"
        try:
            driver = ctypes.CDLL(found)
        except OSError:
            return "no CUDA driver"
    status = driver.cuInit(0)
    if status != 0:
        return f"the CUDA driver finds no usable device (cuInit error {status})"
    count = ctypes.c_int(0)
    status = driver.cuDeviceGetCount(ctypes.byref(count))
    if status != 0 or count.value == 0:
        return "no CUDA device"
    return ""
