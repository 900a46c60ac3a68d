"""Build the sample models: one small ONNX model per finding class and rank, a PyTorch-style decoder block
and one mixed model.

    python samples/build_samples.py [OUTDIR]        (default: samples/models next to this script)

Every model is built with onnx.helper and seeded numpy weights, so the files are byte-identical on every
run. Before anything is written, each model is checked:
- each ConvTranspose gets the verdict the sample claims, from polygraphy_deconv.core.analyse_node on the
  attributes read back from the built model (input sizes from ONNX shape inference);
- the model runs on onnxruntime (CPU), and every ConvTranspose's output there has the size of the
  core's reference window.
A sample that no longer shows its class stops the script with exit code 1 and nothing is written.

Attribute choices follow docs/deconv-semantics.md sections 3 and 4 (the onnx-tensorrt importer's rules and what
a real NVIDIA ONNX parser logged).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from polygraphy_deconv.core import ConvTransposeAttributes, NodeFinding, Verdict, analyse_node

OPSET = 17
IR_VERSION = 8  # onnxruntime >= 1.17 (the oldest this package supports) reads IR 8
DEFAULT_OUTDIR = Path(__file__).resolve().parent / "models"

# Spatial input sizes per rank for the single-node samples; 2 channels in and out keep files tiny.
SPATIAL = {1: (5,), 2: (5, 6), 3: (3, 4, 5)}
CHANNELS = 2


class SampleMismatch(Exception):
    """A sample does not show what its name claims, or does not run on onnxruntime."""


@dataclass(frozen=True)
class Sample:
    """One model to build: its file name (without .onnx), the verdict each ConvTranspose must get, and
    what it shows (printed when the script runs)."""

    name: str
    verdicts: Mapping[str, Verdict]
    shows: str
    build: Callable[[], onnx.ModelProto]

    @property
    def file_name(self) -> str:
        return f"{self.name}.onnx"


# ----------------------------------------------------------------------------------------------------
# Building blocks


def _rng(name: str) -> np.random.Generator:
    """A generator seeded from the sample's name: stable, and different for every sample."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def _weight(rng: np.random.Generator, shape: Sequence[int], name: str) -> onnx.TensorProto:
    return numpy_helper.from_array((0.5 * rng.standard_normal(tuple(shape))).astype(np.float32), name)


def _model(
    name: str,
    nodes: Sequence[onnx.NodeProto],
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[str],
    initializers: Sequence[onnx.TensorProto],
) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes),
        name,
        list(inputs),
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None) for output in outputs],
        list(initializers),
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="polygraphy-deconv samples"
    )
    model.ir_version = IR_VERSION
    return model


def single_deconvolution(name: str, rank: int, *, bias: str = "initializer", **attributes: Any) -> onnx.ModelProto:
    """x [1, 2, spatial] -> ConvTranspose 'deconv' (kernel 3 on every axis) -> y.

    `bias`: "initializer"; "input" (a graph input B); "node" (B = ReduceMean of x over N and the spatial
    axes: a tensor computed at run time); "none".
    """
    rng = _rng(name)
    kernel = tuple(attributes.get("kernel_shape", (3,) * rank))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, *SPATIAL[rank]])
    initializers = [_weight(rng, (CHANNELS, CHANNELS, *kernel), "W")]
    inputs = [x]
    nodes = []
    node_inputs = ["x", "W"]
    if bias == "initializer":
        initializers.append(_weight(rng, (CHANNELS,), "B"))
        node_inputs.append("B")
    elif bias == "input":
        inputs.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, [CHANNELS]))
        node_inputs.append("B")
    elif bias == "node":
        nodes.append(
            helper.make_node("ReduceMean", ["x"], ["B"], name="bias_from_x", axes=[0, *range(2, 2 + rank)], keepdims=0)
        )
        node_inputs.append("B")
    elif bias != "none":
        raise ValueError(f"unknown bias kind {bias!r}")
    nodes.append(helper.make_node("ConvTranspose", node_inputs, ["y"], name="deconv", **attributes))
    return _model(name, nodes, inputs, ["y"], initializers)


def per_axis(rank: int, value: int) -> list[int]:
    return [value] * rank


# ----------------------------------------------------------------------------------------------------
# The samples


def _single(name: str, verdict: Verdict, shows: str, rank: int, **kwargs: Any) -> Sample:
    return Sample(name, {"deconv": verdict}, shows, lambda: single_deconvolution(name, rank, **kwargs))


def _k3(rank: int, stride: int) -> dict[str, list[int]]:
    return {"kernel_shape": per_axis(rank, 3), "strides": per_axis(rank, stride)}


def _natural(rank: int, stride: int) -> list[int]:
    """(I - 1) * S + 3 per axis: the full length for kernel 3 (output_shape = this splits total 0)."""
    return [(i - 1) * stride + 3 for i in SPATIAL[rank]]


def single_node_samples() -> list[Sample]:
    samples = []
    for rank in (1, 2, 3):
        d = f"{rank}d"
        samples += [
            _single(
                f"ok_pads_output_padding_{d}", Verdict.OK,
                "k3 s2 pads 1 output_padding 1 (PyTorch's decoder upsampling): the parser takes output_padding "
                "off the end padding; TensorRT matches", rank,
                **_k3(rank, 2), pads=per_axis(2 * rank, 1), output_padding=per_axis(rank, 1),
            ),
            _single(
                f"tensor_bias_extension_{d}", Verdict.TENSOR_BIAS,
                "k3 s2 pads 0 output_padding 1 with the bias " + ("computed by a node" if rank == 3 else "a graph input")
                + ": the parser's extension row gets 0 instead of the bias", rank,
                bias="node" if rank == 3 else "input",
                **_k3(rank, 2), pads=per_axis(2 * rank, 0), output_padding=per_axis(rank, 1),
            ),
            _single(
                f"wrong_shape_same_upper_output_shape_{d}", Verdict.WRONG_SHAPE,
                "auto_pad SAME_UPPER with output_shape (I - 1) * S + K: the parser ignores output_shape and "
                "builds I * S", rank,
                **_k3(rank, 2), auto_pad="SAME_UPPER", output_shape=_natural(rank, 2),
            ),
            _single(
                f"parse_error_output_shape_{d}", Verdict.PARSE_ERROR,
                "k3 s3 output_shape 2 past the full length (11 from 3 on the first axis): 'TensorRT does not "
                "support negative pre-padding'" + (" (and 1D output_shape is read one entry off)" if rank == 1 else ""),
                rank,
                **_k3(rank, 3), output_shape=[n + 2 for n in _natural(rank, 3)],
            ),
        ]
        if rank == 1:
            # The parser reads 1D output_shape one entry off (a parse error, above), so 1D shows the shift
            # through SAME_UPPER + output_padding, which the parser drops.
            samples.append(_single(
                "shifted_same_upper_output_padding_1d", Verdict.SHIFTED,
                "auto_pad SAME_UPPER with output_padding 1: the parser drops output_padding; same length, "
                "values one element off", rank,
                **_k3(rank, 2), auto_pad="SAME_UPPER", output_padding=[1],
            ))
        else:
            samples.append(_single(
                f"shifted_output_shape_{d}", Verdict.SHIFTED,
                "output_shape one below the full length (odd total): the parser trims the end, onnxruntime the "
                "start (onnx-tensorrt issue 1042)", rank,
                **_k3(rank, 2), output_shape=[n - 1 for n in _natural(rank, 2)],
            ))
    samples += [
        _single(
            "ok_output_shape_even_2d", Verdict.OK,
            "output_shape two below the full length (even total): both split it evenly", 2,
            **_k3(2, 2), output_shape=[n - 2 for n in _natural(2, 2)],
        ),
        _single(
            "ok_same_upper_2d", Verdict.OK,
            "auto_pad SAME_UPPER alone: TensorRT's SAME_UPPER mode matches", 2,
            **_k3(2, 2), auto_pad="SAME_UPPER",
        ),
        _single(
            "shifted_same_upper_output_padding_2d", Verdict.SHIFTED,
            "auto_pad SAME_UPPER with output_padding 1: the parser drops output_padding; same shape, values one "
            "element off", 2,
            **_k3(2, 2), auto_pad="SAME_UPPER", output_padding=[1, 1],
        ),
    ]
    return samples


def decoder_block() -> onnx.ModelProto:
    """Conv -> Relu -> ConvTranspose(k3 s2 p1 output_padding 1) -> BatchNormalization -> Relu -> Conv, the
    upsampling stage of a PyTorch decoder (e.g. MONAI's UNet), as the TorchScript exporter writes it."""
    name = "decoder_block"
    rng = _rng(name)
    c_in, c_mid, c_up, c_out = 4, 8, 4, 3
    initializers = [
        _weight(rng, (c_mid, c_in, 3, 3), "conv_in.weight"),
        _weight(rng, (c_mid,), "conv_in.bias"),
        _weight(rng, (c_mid, c_up, 3, 3), "up.weight"),
        _weight(rng, (c_up,), "up.bias"),
        numpy_helper.from_array((1 + 0.1 * rng.standard_normal(c_up)).astype(np.float32), "bn.weight"),
        _weight(rng, (c_up,), "bn.bias"),
        _weight(rng, (c_up,), "bn.running_mean"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, c_up).astype(np.float32), "bn.running_var"),
        _weight(rng, (c_out, c_up, 3, 3), "conv_out.weight"),
        _weight(rng, (c_out,), "conv_out.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv_in.weight", "conv_in.bias"], ["conv_in"], name="conv_in",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv_in"], ["relu_in"], name="relu_in"),
        helper.make_node("ConvTranspose", ["relu_in", "up.weight", "up.bias"], ["up"], name="up",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        helper.make_node("BatchNormalization", ["up", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
                         ["bn"], name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["relu_up"], name="relu_up"),
        helper.make_node("Conv", ["relu_up", "conv_out.weight", "conv_out.bias"], ["y"], name="conv_out",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c_in, 8, 8])
    return _model(name, nodes, [x], ["y"], initializers)


def mixed() -> onnx.ModelProto:
    """Five ConvTransposes of x [1, 2, 5, 6], one of each class, in parallel and in sequence:

        x -> up_pads (ok) ----------------------------+
        x -> up_output_shape_odd (shifted) -----------+-> Add -> Relu -> up_output_shape_past_end (parse-error) -> y
        x -> up_same_upper_output_shape (wrong-shape) ---> y_same_upper
        x -> up_bias_from_x (tensor-bias, bias = ReduceMean(x)) -> y_bias_from_x
    """
    name = "mixed"
    rng = _rng(name)
    c = CHANNELS
    initializers = [
        _weight(rng, (c, c, 3, 3), "W_pads"), _weight(rng, (c,), "B_pads"),
        _weight(rng, (c, c, 3, 3), "W_odd"), _weight(rng, (c,), "B_odd"),
        _weight(rng, (c, c, 3, 3), "W_past_end"), _weight(rng, (c,), "B_past_end"),
        _weight(rng, (c, c, 3, 3), "W_same"), _weight(rng, (c,), "B_same"),
        _weight(rng, (c, c, 3, 3), "W_bias_from_x"),
    ]
    k3s2: dict[str, Any] = {"kernel_shape": [3, 3], "strides": [2, 2]}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W_pads", "B_pads"], ["pads_out"], name="up_pads",
                         pads=[1, 1, 1, 1], output_padding=[1, 1], **k3s2),
        helper.make_node("ConvTranspose", ["x", "W_odd", "B_odd"], ["odd_out"], name="up_output_shape_odd",
                         output_shape=[10, 12], **k3s2),
        helper.make_node("Add", ["pads_out", "odd_out"], ["merged"], name="merge"),
        helper.make_node("Relu", ["merged"], ["merged_relu"], name="merge_relu"),
        # From 10x12, k3 s3: full lengths 30 and 36; output_shape 2 past them needs pre-padding -1.
        helper.make_node("ConvTranspose", ["merged_relu", "W_past_end", "B_past_end"], ["y"],
                         name="up_output_shape_past_end", kernel_shape=[3, 3], strides=[3, 3], output_shape=[32, 38]),
        helper.make_node("ConvTranspose", ["x", "W_same", "B_same"], ["y_same_upper"],
                         name="up_same_upper_output_shape", auto_pad="SAME_UPPER", output_shape=[11, 13], **k3s2),
        helper.make_node("ReduceMean", ["x"], ["bias_from_x"], name="bias_from_x", axes=[0, 2, 3], keepdims=0),
        helper.make_node("ConvTranspose", ["x", "W_bias_from_x", "bias_from_x"], ["y_bias_from_x"],
                         name="up_bias_from_x", pads=[0, 0, 0, 0], output_padding=[1, 1], **k3s2),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 5, 6])
    return _model(name, nodes, [x], ["y", "y_same_upper", "y_bias_from_x"], initializers)


def samples() -> list[Sample]:
    return [
        *single_node_samples(),
        Sample("decoder_block", {"up": Verdict.OK},
               "a PyTorch decoder block: Conv, Relu, ConvTranspose k3 s2 p1 output_padding 1, BatchNorm, Relu, Conv",
               decoder_block),
        Sample("mixed", {
            "up_pads": Verdict.OK,
            "up_output_shape_odd": Verdict.SHIFTED,
            "up_output_shape_past_end": Verdict.PARSE_ERROR,
            "up_same_upper_output_shape": Verdict.WRONG_SHAPE,
            "up_bias_from_x": Verdict.TENSOR_BIAS,
        }, "one ConvTranspose of each class, in parallel and in sequence", mixed),
    ]


# ----------------------------------------------------------------------------------------------------
# Checking


def analyse_conv_transposes(model: onnx.ModelProto) -> dict[str, NodeFinding]:
    """Each ConvTranspose's finding, from its attributes and the input sizes ONNX shape inference gives."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {
        value.name: [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    }
    initializers = {init.name: list(init.dims) for init in model.graph.initializer}
    findings = {}
    for node in model.graph.node:
        if node.op_type != "ConvTranspose":
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = ConvTransposeAttributes.from_onnx(node.name, attributes, initializers[node.input[1]])
        bias = node.input[2] if len(node.input) > 2 else ""
        findings[node.name] = analyse_node(
            attrs, shapes[node.input[0]][2:], bias_is_tensor=bool(bias) and bias not in initializers
        )
    return findings


def run_onnxruntime(model: onnx.ModelProto, extra_outputs: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Run on onnxruntime's CPU EP with seeded random inputs; `extra_outputs` exposes inner tensors."""
    import onnxruntime as ort

    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    known = {output.name for output in exposed.graph.output}
    exposed.graph.output.extend(
        helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in extra_outputs if name not in known
    )
    rng = np.random.default_rng(0)
    feeds = {
        value.name: rng.standard_normal([d.dim_value for d in value.type.tensor_type.shape.dim]).astype(np.float32)
        for value in model.graph.input
    }
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(exposed.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def declare_output_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with each graph output declared with the shape it has on onnxruntime (the builders leave
    them open: ONNX shape inference is wrong for some ConvTranspose attribute sets, docs/deconv-semantics.md 2)."""
    results = run_onnxruntime(model)
    declared = onnx.ModelProto()
    declared.CopyFrom(model)
    for output in declared.graph.output:
        output.CopyFrom(helper.make_tensor_value_info(output.name, TensorProto.FLOAT, list(results[output.name].shape)))
    return declared


def check_sample(sample: Sample, model: onnx.ModelProto) -> dict[str, NodeFinding]:
    """Raise SampleMismatch unless every ConvTranspose has the claimed verdict and the model runs on
    onnxruntime with each ConvTranspose output as long as the core's reference window."""
    onnx.checker.check_model(model)
    findings = analyse_conv_transposes(model)
    if set(findings) != set(sample.verdicts):
        raise SampleMismatch(f"{sample.name}: ConvTranspose nodes {sorted(findings)}, expected {sorted(sample.verdicts)}")
    for node, expected in sample.verdicts.items():
        finding = findings[node]
        if finding.verdict is not expected:
            raise SampleMismatch(
                f"{sample.name}: node '{node}' is {finding.verdict.value} ({finding.reason or 'no reason given'}), "
                f"but the sample claims {expected.value}"
            )
    outputs_of = {n.name: n.output[0] for n in model.graph.node if n.op_type == "ConvTranspose"}
    try:
        results = run_onnxruntime(model, list(outputs_of.values()))
    except Exception as error:  # onnxruntime raises several unrelated types
        raise SampleMismatch(f"{sample.name}: onnxruntime cannot run it: {error}") from error
    for node, output in outputs_of.items():
        got = tuple(results[output].shape[2:])
        want = findings[node].output_sizes
        if got != want:
            raise SampleMismatch(
                f"{sample.name}: node '{node}' gives {list(got)} on onnxruntime, the core's reference window {want}"
            )
        if not np.all(np.isfinite(results[output])):
            raise SampleMismatch(f"{sample.name}: node '{node}' gives non-finite values on onnxruntime")
    return findings


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build(outdir: Path, *, quiet: bool = False) -> list[Path]:
    """Build and check every sample, then write them all into `outdir`; returns the written paths."""
    built = []
    for sample in samples():
        try:
            model = declare_output_shapes(sample.build())
        except Exception as error:  # onnxruntime raises several unrelated types
            raise SampleMismatch(f"{sample.name}: onnxruntime cannot run it: {error}") from error
        findings = check_sample(sample, model)
        built.append((sample, model.SerializeToString(), findings))
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for sample, data, findings in built:
        path = outdir / sample.file_name
        _write_atomically(path, data)
        written.append(path)
        if not quiet:
            verdicts = ", ".join(f"{node}: {finding.verdict.value}" for node, finding in findings.items())
            print(f"{sample.file_name:45} {len(data):6d} bytes  {verdicts}")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR,
                        help=f"where to write the models (default: {DEFAULT_OUTDIR})")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    try:
        written = build(args.outdir, quiet=args.quiet)
    except SampleMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{len(written)} models checked and written to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
