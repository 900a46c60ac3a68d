"""One read of a model file, shared by every step of a command.

A command reads its model once (`load`) and hands the LoadedModel to each step: the proto, the file's bytes,
its external references, and the analyses with and without --input-shapes, each made on first use. Reading
the file again, or analysing it again, costs as much as the step itself on a large model.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from polygraphy_deconv.core.model import ModelAnalysis
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, ParserRules
from polygraphy_deconv.onnx_model.analysis import analyse_proto
from polygraphy_deconv.onnx_model.external_data import ExternalReference, external_references
from polygraphy_deconv.onnx_model.graph import read_model

if TYPE_CHECKING:
    import onnx

InputShapes = Mapping[str, Sequence[int | str | None]]


@dataclass(frozen=True)
class LoadedModel:
    """A model read from `path` (never its external data). The model proto is shared: a step that changes a
    model works on a copy."""

    path: str  # as given
    model: onnx.ModelProto
    serialized: bytes | None  # the file's bytes where they are the protobuf encoding (None for a text format)
    input_shapes: InputShapes | None = None
    rules: ParserRules = NEWEST_RULES

    @property
    def absolute_path(self) -> str:
        return os.path.abspath(self.path)

    @functools.cached_property
    def analysis(self) -> ModelAnalysis:
        """The analysis with --input-shapes bound."""
        return analyse_proto(
            self.model, self.input_shapes, path=self.absolute_path, serialized=self.serialized, rules=self.rules
        )

    @functools.cached_property
    def unbound(self) -> ModelAnalysis:
        """The analysis of the model's own sizes (what TensorRT's parser reads); the bound one where none are bound."""
        if not self.input_shapes:
            return self.analysis
        return analyse_proto(self.model, None, path=self.absolute_path, serialized=self.serialized, rules=self.rules)

    @functools.cached_property
    def external_references(self) -> tuple[ExternalReference, ...]:
        return tuple(external_references(self.model))

    @functools.cached_property
    def model_bytes(self) -> bytes:
        """The model's protobuf encoding (the file's own bytes where it is one)."""
        return self.serialized if self.serialized is not None else self.model.SerializeToString()


def load(path: str, input_shapes: InputShapes | None = None, *, rules: ParserRules = NEWEST_RULES) -> LoadedModel:
    """Read the model at `path` once; one DeconvError for anything that is not an ONNX model."""
    model, serialized = read_model(path)
    return LoadedModel(path, model, serialized, input_shapes, rules)
