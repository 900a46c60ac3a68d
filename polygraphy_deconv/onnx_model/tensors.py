"""Checking that every tensor stored in a model holds as many bytes as its dims and type say.

A weight of the wrong byte size (raw_data of 10 bytes for 24 floats, an external `length` of 8 for a
96-byte tensor) is a malformed model: onnxruntime and TensorRT refuse it or, worse, read past it. `fix`
checks this before writing (it never reads external data: the references' lengths are compared, and
their files' sizes are checked in writing.external_data_files).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.external_data import external_location
from polygraphy_deconv.onnx_model.graph import model_tensors
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx

# Bits per element of each onnx.TensorProto.DataType (onnx.proto: stable enum values); STRING and the
# 6-bit floats (packing not fixed by the spec here) are not checked.
ELEMENT_BITS = {
    1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64, 15: 128, 16: 16,
    17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2,
}
COMPLEX = {14, 15}
SUB_BYTE = {21, 22, 23, 25, 26}
# Which typed field holds the values of each type (onnx.proto's comments on TensorProto's fields).
TYPED_FIELD = {1: "float_data", 14: "float_data", 11: "double_data", 15: "double_data", 7: "int64_data", 12: "uint64_data", 13: "uint64_data"}
_EXTERNAL = 1


def check_tensor_sizes(model: onnx.ModelProto, path: str) -> None:
    """Raise DeconvError naming the first tensor whose stored size does not match its dims and type."""
    for tensor in model_tensors(model.graph):
        check_tensor_size(tensor, path)


def expected_bytes(tensor: onnx.TensorProto) -> int | None:
    """The bytes the tensor's data takes (packed, as raw_data or external data); None for types not checked."""
    bits = ELEMENT_BITS.get(tensor.data_type)
    if bits is None:
        return None
    return (math.prod(tensor.dims) * bits + 7) // 8


def check_tensor_size(tensor: onnx.TensorProto, path: str) -> None:
    name = shown(tensor.name)
    dims = list(tensor.dims)
    if any(d < 0 for d in dims):
        raise DeconvError(f"tensor '{name}' of {shown(path)} has dims {dims}: a size below 0; the model is malformed")
    bits = ELEMENT_BITS.get(tensor.data_type)
    if bits is None:
        return
    count = math.prod(dims)
    expected = (count * bits + 7) // 8
    if tensor.data_location == _EXTERNAL:
        reference = external_location(tensor)
        if reference is None or reference[2] is None:
            return  # no length: the data file's size decides (checked with the file)
        stored, where = reference[2], "external data length"
    elif tensor.HasField("raw_data"):
        stored, where = len(tensor.raw_data), "raw_data"
    else:
        if tensor.data_type in SUB_BYTE:
            return
        field = TYPED_FIELD.get(tensor.data_type, "int32_data")
        values = len(getattr(tensor, field))
        wanted = count * (2 if tensor.data_type in COMPLEX else 1)
        if values == wanted:
            return
        raise DeconvError(
            f"tensor '{name}' of {shown(path)} has dims {dims} ({wanted} values) but holds {values} in {field}; "
            "the model is malformed (re-export it)"
        )
    if stored != expected:
        raise DeconvError(
            f"tensor '{name}' of {shown(path)} has dims {dims} of {bits}-bit elements ({expected} bytes) but its "
            f"{where} is {stored} bytes; the model is malformed (re-export it)"
        )
