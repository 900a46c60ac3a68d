"""External data references of an ONNX model: where each tensor keeps its data outside the model file, and
the checks of those files against the references (sizes, folders, links). No tensor data is ever read.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.graph import model_tensors
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class ExternalReference:
    """Where one tensor of the model keeps its data outside the model file (never opened here)."""

    tensor: str
    location: str  # as written in the model
    offset: int | None
    length: int | None

    @property
    def leaves_folder(self) -> bool:
        """Absolute, a drive, or '..' in it: the location names a file outside the model's folder."""
        return location_leaves_folder(self.location)

    @property
    def relative_path(self) -> str:
        return relative_path(self.location)


@functools.lru_cache(maxsize=256)  # a model has a few locations and thousands of tensors using them
def location_leaves_folder(location: str) -> bool:
    posix, windows = PurePosixPath(location.replace("\\", "/")), PureWindowsPath(location)
    return posix.is_absolute() or windows.is_absolute() or bool(windows.drive) or ".." in posix.parts


def referenced_path(folder: str, location: str) -> str:
    """The file an external data location names, seen from the model's folder: absolute ones as they are
    (a Windows drive path cannot name a file here and is kept as written), relative ones joined and
    normalised ('../w.bin' leaves the folder)."""
    posix = location.replace("\\", "/")
    return os.path.normpath(posix if os.path.isabs(posix) else os.path.join(folder, posix))


@functools.lru_cache(maxsize=256)
def relative_path(location: str) -> str:
    return str(PurePosixPath(location.replace("\\", "/")))


def external_references(model: onnx.ModelProto) -> list[ExternalReference]:
    """Every external data reference of the model (main graph, subgraphs, attribute tensors), unvalidated
    except for its form: a reference without a location or with a non-integer offset/length is an error."""
    references = []
    for tensor in model_tensors(model.graph):
        reference = external_location(tensor)
        if reference is not None:
            references.append(ExternalReference(tensor.name, *reference))
    return references


def external_location(tensor: onnx.TensorProto) -> tuple[str, int | None, int | None] | None:
    """(location, offset, length) of a tensor that keeps its data outside the model; None for one that
    does not. A reference without a location or with a non-integer offset/length is an error."""
    if tensor.data_location != _EXTERNAL:
        return None
    location = offset = length = None  # the last entry of a key counts
    for entry in tensor.external_data:
        key = entry.key
        if key == "location":
            location = entry.value
        elif key == "offset":
            offset = entry.value
        elif key == "length":
            length = entry.value
    if not location:
        raise DeconvError(f"tensor '{shown(tensor.name)}' has external data without a location; the model is malformed")
    return location, _external_number(tensor, "offset", offset), _external_number(tensor, "length", length)


def _external_number(tensor: onnx.TensorProto, key: str, text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if text.isdigit():
        return int(text)
    raise DeconvError(
        f"tensor '{shown(tensor.name)}' has external data {key} '{shown(text)}', not a non-negative integer; the model is malformed"
    )


_EXTERNAL = 1  # onnx.TensorProto.EXTERNAL (onnx.proto: stable enum value)
