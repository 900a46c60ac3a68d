"""One ConvTranspose node, judged: the reference window, what TensorRT's parser builds, the verdict and
the patch that makes TensorRT agree with the reference."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from polygraphy_deconv.core.attributes import ConvTransposeAttributes, axis_names
from polygraphy_deconv.core.deconvolution import (
    DeconvolutionPatch,
    plan_patch,
    windows_differ_in_offset,
    windows_differ_in_shape,
)
from polygraphy_deconv.core.producers import TF2ONNX, negative_pads_producer, pattern_text
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, ParserBuild, ParserRules, predict_parser_build
from polygraphy_deconv.core.window import (
    UndecidableWindow,
    Window,
    onnxruntime_rejections,
    reference_window,
    window_length,
)


class Verdict(str, enum.Enum):
    """How TensorRT's build of a node compares with the ONNX meaning."""

    OK = "ok"
    SHIFTED = "shifted"  # same shape, values offset
    WRONG_SHAPE = "wrong-shape"
    PARSE_ERROR = "parse-error"  # the parser rejects the node
    TENSOR_BIAS = "tensor-bias"  # right window, but the extension rows lose the bias
    NEGATIVE_PADS = "negative-pads"  # pads below 0 (tf2onnx): refused by onnx's shape inference and most parsers
    UNDECIDED = "undecided"  # dynamic input sizes leave the answer open

    @property
    def needs_patch(self) -> bool:
        return self in (
            Verdict.SHIFTED, Verdict.WRONG_SHAPE, Verdict.PARSE_ERROR, Verdict.TENSOR_BIAS, Verdict.NEGATIVE_PADS
        )

    @property
    def rewritten_before_parse(self) -> bool:
        """TensorRT's parser cannot build the node as it is (or, for negative pads, should not be given it): the
        plugin rewrites it in the model it hands to the parser."""
        return self in (Verdict.PARSE_ERROR, Verdict.NEGATIVE_PADS)


@dataclass(frozen=True)
class NodeFinding:
    """Everything known about one ConvTranspose node."""

    attributes: ConvTransposeAttributes
    input_sizes: tuple[int | None, ...]
    reference: Window | None
    parser: ParserBuild
    verdict: Verdict
    reason: str
    patch: DeconvolutionPatch | None
    declared_sizes: tuple[int | None, ...] | None = None  # what ONNX shape inference declares, when it differs
    bias_is_tensor: bool = False
    notes: tuple[str, ...] = ()
    producer: str = ""  # the producer whose pattern the node's attributes follow (core.producers), "" if none
    # The sizes the model itself declares, which TensorRT's parser reads (None where the model leaves a size
    # dynamic); only where they differ from input_sizes (sizes bound with --input-shapes).
    unbound_input_sizes: tuple[int | None, ...] | None = None

    @property
    def node(self) -> str:
        return self.attributes.node

    @property
    def model_input_sizes(self) -> tuple[int | None, ...]:
        """The input sizes as the model declares them: what TensorRT's parser sees at parse time."""
        return self.input_sizes if self.unbound_input_sizes is None else self.unbound_input_sizes

    @property
    def output_sizes(self) -> tuple[int | None, ...] | None:
        return None if self.reference is None else window_length(self.reference)

    def renamed(self, node: str) -> NodeFinding:
        """This finding for another node of the same configuration: every field as it is, the node name changed.

        Equal to dataclasses.replace(self, attributes=dataclasses.replace(self.attributes, node=node)), at a sixth
        of its cost (the fields are copied, not validated again: only the name differs). A decoder repeats one
        configuration thousands of times."""
        attributes = object.__new__(ConvTransposeAttributes)
        attributes.__dict__.update(self.attributes.__dict__)
        object.__setattr__(attributes, "node", node)
        finding = object.__new__(NodeFinding)
        finding.__dict__.update(self.__dict__)
        object.__setattr__(finding, "attributes", attributes)
        return finding


def judge(reference: Window, build: ParserBuild) -> tuple[Verdict, str]:
    """Compare the parser's build with the reference window."""
    if build.parse_error is not None:
        return Verdict.PARSE_ERROR, build.parse_error
    if build.window is None:
        return Verdict.WRONG_SHAPE, build.undefined or "the parser's result cannot be predicted"
    if windows_differ_in_shape(build.window, reference):
        return Verdict.WRONG_SHAPE, "TensorRT's output has a different size"
    if windows_differ_in_offset(build.window, reference):
        return Verdict.SHIFTED, "same size, but TensorRT's output starts at a different element"
    if build.extension and not build.extension_has_bias:
        return Verdict.TENSOR_BIAS, "the bias is a tensor: TensorRT's extension rows hold 0 instead of the bias"
    return Verdict.OK, ""


def analyse_node(
    attrs: ConvTransposeAttributes,
    input_sizes: Sequence[int | None],
    *,
    bias_is_tensor: bool = False,
    declared_sizes: Sequence[int | None] | None = None,
    rules: ParserRules = NEWEST_RULES,
    model_sizes: Sequence[int | None] | None = None,
) -> NodeFinding:
    """Judge one node: reference window, predicted TensorRT build (under the parser `rules` of a TensorRT
    version), verdict and patch.

    `declared_sizes` is the spatial output shape ONNX shape inference declares (None if unknown); it
    is kept in the finding only where it disagrees with the window that runs. `model_sizes` are the input
    sizes the model declares itself where `input_sizes` binds some of its dynamic ones (--input-shapes):
    the reference window follows `input_sizes`, TensorRT's parser reads `model_sizes` (trt_parser rule 1).
    """
    sizes = tuple(input_sizes)
    unbound = None if model_sizes is None or tuple(model_sizes) == sizes else tuple(model_sizes)
    build = predict_parser_build(attrs, sizes, bias_is_tensor, rules, model_sizes=unbound)
    notes = list(onnxruntime_rejections(attrs, sizes))
    if unbound is not None and attrs.output_shape is not None and build.parse_error is not None:
        notes.append(
            "the sizes bound with --input-shapes give the ONNX window; TensorRT's parser sees the model's dynamic "
            "sizes: fix and polygraphy run --deconv-fix rewrite the node before the parse, as explicit pads valid "
            "at the bound sizes only"
        )
    try:
        reference = reference_window(attrs, sizes)
    except UndecidableWindow as error:
        if build.parse_error is not None:
            verdict, reason = Verdict.PARSE_ERROR, build.parse_error
        else:
            verdict, reason = Verdict.UNDECIDED, f"{error}; bind it with --input-shapes"
        return NodeFinding(
            attrs, sizes, None, build, verdict, reason, None, bias_is_tensor=bias_is_tensor, notes=tuple(notes),
            unbound_input_sizes=unbound,
        )

    verdict, reason = judge(reference, build)
    if verdict is Verdict.OK and build.window is not None and any(a.length is None for a in reference):
        reason = "decided for every input size (begin and trim do not depend on it)"
    producer = ""
    if attrs.negative_pads:
        verdict, reason, producer = Verdict.NEGATIVE_PADS, *negative_pads_reason(attrs, build)
        notes.extend(negative_begin_notes(attrs, reference, producer))

    declared: tuple[int | None, ...] | None = None
    if declared_sizes is not None:
        lengths = window_length(reference)
        if any(d is not None and n is not None and d != n for d, n in zip(declared_sizes, lengths)):
            declared = tuple(declared_sizes)
            notes.append(
                f"ONNX shape inference declares {list(declared)} but the node computes {list(lengths)}: "
                "the declared shape is not what runs"
            )
    patch = plan_patch(reference) if verdict.needs_patch else None
    return NodeFinding(
        attrs, sizes, reference, build, verdict, reason, patch, declared, bias_is_tensor, tuple(notes), producer,
        unbound,
    )


def negative_pads_reason(attrs: ConvTransposeAttributes, build: ParserBuild) -> tuple[str, str]:
    """(reason, producer) of a node with negative pads: what they are, whose pattern they follow, what TensorRT's
    parser does with them. ONNX's formula still gives the window (onnxruntime 1.23.2 computes it so; the
    refusal of onnx's shape inference and newer onnxruntime is one of onnxruntime_rejections' notes)."""
    producer = negative_pads_producer(attrs)
    reason = f"pads {list(attrs.pads)} have entries below 0"
    reason += f", {pattern_text(producer)}" if producer else " (no producer pattern known)"
    if build.parse_error is not None:
        reason += f"; TensorRT's parser fails: {build.parse_error}"
    else:
        reason += "; TensorRT's parser builds the window (its extension takes the negative end)"
    return reason, producer


def negative_begin_notes(attrs: ConvTransposeAttributes, reference: Window, producer: str) -> list[str]:
    """The warning for a negative pads begin: the elements ONNX puts before the full result were probably
    meant at its end (core.producers: TensorFlow computes them there)."""
    names = axis_names(attrs.rank)
    early = [(names[axis], window.extension_before) for axis, window in enumerate(reference) if window.begin < 0]
    if not early:
        return []
    where = ", ".join(f"{elements} on {name}" for name, elements in early)
    who = (
        "TensorFlow, whose model tf2onnx converted,"
        if producer == TF2ONNX
        else "TensorFlow (converted by tf2onnx, which writes negative pads)"
    )
    warning = (
        f"warning: the negative pads begin puts bias-only elements before the full result ({where}), as ONNX's "
        f"formula reads it; {who} computes such elements at the end of the output: the producer probably meant "
        "them there. fix keeps ONNX's meaning; compare with the source framework's output"
    )
    return [warning]
