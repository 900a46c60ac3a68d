"""What differs between the TensorRT Python APIs this package supports (8.6 to 11.x), one rule per difference,
each with the release that introduced it. Every caller takes its version's path explicitly through these.

The attributes that only some versions have are read through `__members__` or an `Any` view, so the code
type-checks against every version's real bindings (scripts/check-trt-types) and takes the path the running
version has.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorrt as trt


@functools.cache
def _parse(version: str) -> tuple[int, int]:
    parts = (version.split(".") + ["0"])[:2]
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)


def api_version() -> tuple[int, int]:
    """(major, minor) of the TensorRT Python API in use (`tensorrt.__version__`)."""
    import tensorrt as trt

    return _parse(str(trt.__version__))


def reshape_layer_types() -> tuple[trt.LayerType, ...]:
    """The layer types that can add or drop the axis of a 1D deconvolution: IShuffleLayer in every version;
    IUnsqueezeLayer and ISqueezeLayer from 10.7 (include/NvInfer.h@release/10.7:106-107; absent from
    NvInfer.h@release/10.6 and from pyGraph.cpp@release/8.6 and @release/10.0), which the 10.7+ parser uses."""
    import tensorrt as trt

    if api_version() >= (10, 7):
        members = trt.LayerType.__members__
        return (trt.LayerType.SHUFFLE, members["UNSQUEEZE"], members["SQUEEZE"])
    return (trt.LayerType.SHUFFLE,)


def shape_integer_type() -> Any:
    """The numpy type of shape tensors: INT32 in TensorRT 8.x, whose bindings refuse int64 Weights
    (python/src/utils.cpp@release/8.6: no kINT64); INT64 from 10.0 (IShapeLayer output, NvInfer.h@release/10.0)."""
    import numpy as np

    return np.int32 if api_version() < (10, 0) else np.int64


def slice_has_axes() -> bool:
    """ISliceLayer::setAxes and the slice's axes input (input 5) exist from 10.3 (include/NvInfer.h@release/10.3;
    absent from @release/10.2)."""
    return api_version() >= (10, 3)


def slice_axes(layer: trt.ISliceLayer) -> Any:
    """The slice's static axes (a Dims, empty or invalid when unset); only where slice_has_axes()."""
    view: Any = layer
    return view.axes


def output_types_settable(network: trt.INetworkDefinition) -> bool:
    """Whether a network output's type is set on the tensor: TensorRT 8.x and 10.x weakly typed networks,
    where the parser sets each output's type after markOutput (onnx-tensorrt@10.1-GA:ModelImporter.cpp:783-794,
    "Without this, output type is always float32"). Not in 10.x strongly typed networks nor in 11.x, whose
    `ITensor.dtype` is read-only (strongly typed only)."""
    import tensorrt as trt

    version = api_version()
    if version >= (11, 0):
        return False
    if version < (10, 0):
        return True
    flag = trt.NetworkDefinitionCreationFlag.__members__.get("STRONGLY_TYPED")
    view: Any = network  # INetworkDefinition.get_flag: from 10.0 (not in 8.6's bindings)
    return flag is None or not view.get_flag(flag)


def set_output_type(tensor: trt.ITensor, dtype: trt.DataType) -> None:
    """Set a network output's type; only where output_types_settable() (ITensor.dtype has no setter in 11.x)."""
    view: Any = tensor
    view.dtype = dtype
