"""TensorRT-RTX's C++ objects reached from Python with ctypes: libraries, vtable slots, calls.

TensorRT-RTX 1.7.1 ships in the package index's `onnxruntime-ep-nv-tensorrt-rtx-cu13==0.5.0` wheel without
Python bindings. Its public classes follow TensorRT 10's layout (include/NvInfer.h@release/10.8):

- a public object (INetworkDefinition, ITensor, ILayer, IBuilder, ...) is {vtable pointer, mImpl}: the
  inline methods of the header forward to `mImpl`, an `apiv::V*` implementation (NvInfer.h@release/10.8:833
  `apiv::VLayer* mLayer`); a layer subclass keeps its own implementation in the next word
  (NvInfer.h@release/10.8:2401 `apiv::VDeconvolutionLayer* mImpl` after ILayer's `mLayer`);
- each `apiv::V*` method is a virtual call: slot N of the implementation's vtable.

The slot of each method is read, by name and signature, from the vtables that the same wheel's
`libtensorrt_shim.so` exports for classes implementing the same apiv interfaces (`VShimNetworkDefinition`,
`VShimLayer`, ...): their relocations give, slot by slot, the method each entry points to. Nothing here
hard-codes a slot number, so a method that TensorRT-RTX lacks fails loudly with its name.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WHEEL = "onnxruntime-ep-nv-tensorrt-rtx-cu13==0.5.0"
PACKAGE = "onnxruntime_ep_nv_tensorrt_rtx"
INFER_LIBRARY = "libtensorrt_rtx.so.1.7.1"
PARSER_LIBRARY = "libtensorrt_onnxparser_rtx.so.1.7.1"
CUDART_LIBRARY = "libcudart.so.13.4.36"
SHIM_LIBRARY = "libtensorrt_shim.so"
INFER_VERSION = 10701  # getInferLibVersion() of TensorRT-RTX 1.7.1
MAX_DIMS = 8  # Dims64 (NvInferRuntimeBase.h@release/10.8: MAX_DIMS = 8)


class Unavailable(RuntimeError):
    """TensorRT-RTX cannot be loaded on this machine (the wheel is missing, or not this platform)."""


class MissingMethod(AttributeError):
    """A method that TensorRT-RTX's interface does not have."""


class Dims64(ctypes.Structure):
    """nvinfer1::Dims64 (NvInferRuntimeBase.h@release/10.8): int32 nbDims; int64 d[8]."""

    _fields_ = [("nbDims", ctypes.c_int32), ("d", ctypes.c_int64 * MAX_DIMS)]

    @classmethod
    def of(cls, values: Any) -> Dims64:
        values = [int(v) for v in values]
        if len(values) > MAX_DIMS:
            raise ValueError(f"a Dims holds at most {MAX_DIMS} values, got {len(values)}")
        dims = cls()
        dims.nbDims = len(values)
        for i, v in enumerate(values):
            dims.d[i] = v
        return dims

    def values(self) -> tuple[int, ...]:
        if self.nbDims < 0:  # an invalid Dims (nbDims -1) is what a failed getter returns
            return ()
        return tuple(int(self.d[i]) for i in range(self.nbDims))


class CWeights(ctypes.Structure):
    """nvinfer1::Weights (NvInferRuntime.h@release/10.8): DataType type; void const* values; int64 count."""

    _fields_ = [("type", ctypes.c_int32), ("values", ctypes.c_void_p), ("count", ctypes.c_int64)]


def package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(f"TensorRT-RTX is not installed (pip install '{WHEEL}')")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class Libraries:
    infer: ctypes.CDLL
    parser: ctypes.CDLL
    slots: dict[str, dict[str, int]]  # interface (e.g. "NetworkDefinition") -> "method(signature)" -> slot
    logger: ctypes.CDLL  # logger.c


@functools.cache
def libraries() -> Libraries:
    """Load TensorRT-RTX once per process. Raises Unavailable with the reason."""
    if os.uname().machine != "x86_64" or os.uname().sysname != "Linux":
        raise Unavailable("TensorRT-RTX's wheel is built for Linux x86_64 only")
    folder = package_dir()
    for tool in ("nm", "readelf", "c++filt", "gcc"):
        if shutil.which(tool) is None:
            raise Unavailable(f"reaching TensorRT-RTX needs {tool} (binutils and gcc)")
    mode = getattr(os, "RTLD_GLOBAL", 0) | getattr(os, "RTLD_NOW", 0)
    # The builder dlopens the CUDA runtime by its soname; loading the bundled one first satisfies that.
    ctypes.CDLL(str(folder / CUDART_LIBRARY), mode=mode)
    infer = ctypes.CDLL(str(folder / INFER_LIBRARY), mode=mode)
    parser = ctypes.CDLL(str(folder / PARSER_LIBRARY), mode=mode)
    infer.getInferLibVersion.restype = ctypes.c_int32
    version = infer.getInferLibVersion()
    if version != INFER_VERSION:
        raise Unavailable(f"expected TensorRT-RTX {INFER_VERSION}, the library says {version}")
    return Libraries(infer, parser, read_vtables(folder / SHIM_LIBRARY), _logger_library())


def _logger_library() -> ctypes.CDLL:
    """logger.c compiled once per source text into the cache folder (ctypes cannot return a struct from a
    callback, which ILogger::getInterfaceInfo needs)."""
    source = Path(__file__).with_name("logger.c")
    text = source.read_bytes()
    digest = hashlib.sha256(text).hexdigest()[:16]
    folder = Path(os.environ.get("DECONV_RTX_CACHE", Path(__file__).resolve().parents[2] / ".ci-cache" / "rtx"))
    target = folder / f"logger-{digest}.so"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(partial), str(source)], check=True)
        os.replace(partial, target)
    library = ctypes.CDLL(str(target))
    library.logger_init.restype = None
    library.logger_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    return library


def read_vtables(library: Path) -> dict[str, dict[str, int]]:
    """Every `nvinfer1::apiv::VShim<Interface>` vtable of the shim library: method signature -> slot.

    A vtable symbol starts with offset-to-top and the typeinfo pointer; slot 0 is the word after them.
    Each slot is a relocation whose target is a named symbol of the library: R_X86_64_64 names it,
    R_X86_64_RELATIVE gives its address as the addend.
    """
    symbols = subprocess.run(["nm", "-DS", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    by_address: dict[int, str] = {}
    vtables: dict[str, tuple[int, int]] = {}
    for line in symbols.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        address, size, name = int(parts[0], 16), int(parts[1], 16), parts[3]
        by_address.setdefault(address, name)
        if name.startswith("_ZTVN8nvinfer14apiv") and "VShim" in name:
            vtables[name] = (address, size)
    relocations = subprocess.run(["readelf", "-rW", str(library)], capture_output=True, text=True, check=True)
    targets: dict[int, str] = {}
    for line in relocations.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "R_X86_64_RELATIVE" and int(parts[3], 16) in by_address:
            targets[int(parts[0], 16)] = by_address[int(parts[3], 16)]
        elif len(parts) >= 5 and parts[2] == "R_X86_64_64":
            targets[int(parts[0], 16)] = parts[4]
    mangled: list[str] = []
    layout: list[tuple[str, int]] = []  # (vtable symbol, slot) for each mangled entry
    for name, (address, size) in sorted(vtables.items()):
        for slot, offset in enumerate(range(address + 16, address + size, 8)):
            if offset in targets:
                mangled.append(targets[offset])
                layout.append((name, slot))
    demangled = subprocess.run(
        ["c++filt"], input="\n".join(mangled), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    slots: dict[str, dict[str, int]] = {}
    pattern = re.compile(r"nvinfer1::apiv::VShim(\w+)::(\w+\(.*\))(?: const)?$")
    for (_, slot), text in zip(layout, demangled):
        match = pattern.match(text)
        if match is None:
            continue
        interface, method = match.groups()
        signature = method.replace("nvinfer1::", "").replace("v_1_0::", "")
        slots.setdefault(interface, {})[signature] = slot
    if "NetworkDefinition" not in slots or "Layer" not in slots:
        raise Unavailable(f"no apiv vtables found in {library}")
    return slots


_read_word = ctypes.c_size_t.from_address


def word(address: int, index: int) -> int:
    """The pointer-sized word `index` of the object at `address`."""
    return int(_read_word(address + 8 * index).value)


@functools.cache
def _prototype(restype: Any, argtypes: tuple[Any, ...]) -> Any:
    return ctypes.CFUNCTYPE(restype, ctypes.c_void_p, *argtypes)


def method(interface: str, signature: str, restype: Any, *argtypes: Any) -> Callable[..., Any]:
    """A caller of `interface::signature` on an implementation pointer: call(impl, *args)."""
    table = libraries().slots.get(interface, {})
    if signature not in table:
        raise MissingMethod(f"TensorRT-RTX's apiv::V{interface} has no method {signature}")
    offset = 8 * table[signature]
    prototype = _prototype(restype, tuple(argtypes))
    functions: dict[int, Any] = {}  # vtable address -> the method's function (one per implementing class)

    def call(impl: int, *args: Any) -> Any:
        if not impl:
            raise ValueError(f"V{interface}::{signature} called on a null object")
        vtable = _read_word(impl).value
        function = functions.get(vtable)
        if function is None:
            function = functions[vtable] = prototype(_read_word(vtable + offset).value)
        return function(impl, *args)

    call.__name__ = signature.split("(")[0]
    return call
