"""What differs between the TensorRT Python APIs this package supports (TensorRT 8.6 to 11.x, TensorRT-RTX 1.x),
one rule per difference, each decided by what the module in use has, never by its version number: TensorRT-RTX
numbers its releases on its own (1.7.1.116 has everything TensorRT 10.7 introduced), so comparing `__version__`
across the two products is wrong.

Members that only some versions have are read through `__members__`, `hasattr` or an `Any` view, so the code
type-checks against every version's real bindings (scripts/check-trt-types) and takes the path the running
module has.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from polygraphy_deconv.trt_network.library import tensorrt

if TYPE_CHECKING:
    import tensorrt as trt
else:
    from polygraphy_deconv.trt_network.library import trt

_Answer = TypeVar("_Answer")


def _per_module(rule: Callable[[], _Answer]) -> Callable[[], _Answer]:
    """A rule that depends on the module in use only, answered once per module: asked again when another module is
    in use (a test installs a stand-in of another version), and read from the module's members, so never stale.
    Unit reading asks some rules once per layer."""
    last: list[Any] = [None, None]  # the module, its answer

    @functools.wraps(rule)
    def answer() -> _Answer:
        module = tensorrt()
        if last[0] is not module:
            last[:] = [module, rule()]
        return cast("_Answer", last[1])

    return answer


@_per_module
def reshape_layer_types() -> tuple[trt.LayerType, ...]:
    """The layer types that can add or drop the axis of a 1D deconvolution: IShuffleLayer everywhere; IUnsqueezeLayer
    and ISqueezeLayer where LayerType has them (TensorRT 10.7, include/NvInfer.h@release/10.7:106-107, absent from
    @release/10.6 and pyGraph.cpp@release/8.6; TensorRT-RTX 1.x), which those parsers put around 1D deconvolutions."""
    members = trt.LayerType.__members__
    if "UNSQUEEZE" in members and "SQUEEZE" in members:
        return (trt.LayerType.SHUFFLE, members["UNSQUEEZE"], members["SQUEEZE"])
    return (trt.LayerType.SHUFFLE,)


def shape_integer_type(shape_tensor: trt.ITensor) -> Any:
    """The numpy type to combine with a shape tensor: the type IShapeLayer's output has (INT32 in TensorRT 8.x,
    NvInfer.h@release/8.6 IShapeLayer; INT64 from 10.0, NvInfer.h@release/10.0, and in TensorRT-RTX). An
    elementwise of two integer types is an error the builder may only find late (on TensorRT-RTX 1.7.1 an
    internal assertion, "!isInFlight")."""
    import numpy as np

    return np.int64 if shape_tensor.dtype.name == "INT64" else np.int32


@_per_module
def slice_has_axes() -> bool:
    """Whether ISliceLayer has `axes` (setAxes, and the axes input 5): from TensorRT 10.3
    (include/NvInfer.h@release/10.3; absent from @release/10.2), and in TensorRT-RTX."""
    return hasattr(trt.ISliceLayer, "axes")


def slice_axes(layer: trt.ISliceLayer) -> Any:
    """The slice's static axes (a Dims, empty or invalid when unset); only where slice_has_axes()."""
    view: Any = layer
    return view.axes


def output_types_settable(network: trt.INetworkDefinition) -> bool:
    """Whether a network output's type is set on the tensor: where `ITensor.dtype` has a setter (TensorRT 8.x and
    10.x; not 11.x nor TensorRT-RTX, strongly typed only: NvInfer.h@release/11.0 has no ITensor::setType) and the
    network is not created STRONGLY_TYPED (the flag and `get_flag` from 10.0). Weakly typed parsers set each
    output's type after markOutput (onnx-tensorrt@10.1-GA:ModelImporter.cpp:783-794, "Without this, output type
    is always float32"), so a patch that moves an output name must move its type too."""
    dtype = inspect.getattr_static(trt.ITensor, "dtype", None)
    if not isinstance(dtype, property) or dtype.fset is None:
        return False
    flag = trt.NetworkDefinitionCreationFlag.__members__.get("STRONGLY_TYPED")
    view: Any = network  # INetworkDefinition.get_flag: from 10.0 (not in 8.6's bindings)
    return flag is None or not hasattr(view, "get_flag") or not view.get_flag(flag)


def set_output_type(tensor: trt.ITensor, dtype: trt.DataType) -> None:
    """Set a network output's type; only where output_types_settable()."""
    view: Any = tensor
    view.dtype = dtype
