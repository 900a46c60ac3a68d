"""The network side on TensorRT-RTX, NVIDIA's official `tensorrt_rtx` package: parse a model with the real parser,
run the package's loaders on the real network through Polygraphy's own (NetworkFromOnnxPath, ModifyNetworkOutputs,
EngineBytesFromNetwork), read it back, build it ahead of time, and compare each deconvolution unit's values
(computed in numpy from the layers read back) with onnxruntime's. No engine runs here (no GPU).

Polygraphy must run in its TensorRT-RTX mode (POLYGRAPHY_USE_TENSORRT_RTX=1 before it is imported, as the test
session's conftest.py and `python -m tests.rtx` arrange), so that its loaders and the package take `tensorrt_rtx`
through lazy_import_trt().
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.rtx.evaluate import NetworkEvaluator, NotEvaluable

# TensorRT-RTX's own limit, not a parser rule: it refuses every deconvolution with stride > 1 and dilation > 1.
RTX_STRIDED_DILATED = "Strided & Dilated Deconv are currently not supported"
REFUSED_FOR_RTX_LIMIT = "refused: TensorRT-RTX limit (stride > 1 with dilation > 1)"


def tensorrt_rtx() -> Any:
    """The official TensorRT-RTX module, checked to be the one Polygraphy's loaders and the package use."""
    import tensorrt_rtx

    from polygraphy_deconv.trt_network.library import tensorrt

    if tensorrt() is not tensorrt_rtx:
        raise RuntimeError("Polygraphy is not in its TensorRT-RTX mode: set POLYGRAPHY_USE_TENSORRT_RTX=1 before "
                           "polygraphy is imported")
    return tensorrt_rtx


@dataclass
class UnitOutcome:
    node: str
    verdict: str  # the package's prediction (inspect)
    action: str  # what the loader did (its JSON report)
    layers: tuple[str, ...] = ()
    dims: tuple[int | None, ...] | None = None  # the unit's output dims from the network's shape computation
    expected_dims: tuple[int, ...] | None = None  # onnxruntime's output shape
    window_ok: bool | None = None
    max_abs_diff: float | None = None
    tolerance: float | None = None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem


@dataclass
class ModelOutcome:
    model: str
    parse: str  # "parsed" | "parsed after the pre-parse rewrite of ..." | "parse error: ..."
    predicted_parse_errors: tuple[str, ...] = ()
    build: str = ""
    units: list[UnitOutcome] = field(default_factory=list)
    layers_added: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(u.passed for u in self.units)


def parse_errors(path: str) -> list[str]:
    """The real parser on the model as it is, with nothing of the package: its errors ([] where it parses)."""
    trt = tensorrt_rtx()
    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if parser.parse_from_file(path):
        return []
    return [parser.get_error(i).desc() for i in range(parser.num_errors)] or ["the parser failed without an error"]


def parse_with_plugin(rewrite: Any) -> tuple[Any, ...]:
    """What `polygraphy run --trt --deconv-fix` parses: Polygraphy's NetworkFromOnnxPath on RewriteForParser's path."""
    from polygraphy.backend.trt import NetworkFromOnnxPath

    return tuple(NetworkFromOnnxPath(rewrite)())


def build(network: tuple[Any, ...], input_shapes: Mapping[str, Sequence[int]] | None) -> str:
    """Build ahead of time with Polygraphy's EngineBytesFromNetwork: "built (N bytes)", the RTX limit, or
    "failed: <errors>"."""
    from polygraphy.backend.trt import CreateConfig, EngineBytesFromNetwork, Profile
    from polygraphy.exception import PolygraphyException

    definition = network[1]
    inputs = [definition.get_input(i) for i in range(definition.num_inputs)]
    profiles = None
    if any(-1 in tuple(tensor.shape) for tensor in inputs):
        profile = Profile()
        for tensor in inputs:
            shape = (input_shapes or {}).get(tensor.name) or [1 if d == -1 else d for d in tensor.shape]
            profile.add(tensor.name, shape, shape, shape)
        profiles = [profile]
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):  # Polygraphy's logger prints
            engine = EngineBytesFromNetwork(network, config=CreateConfig(profiles=profiles))()
    except PolygraphyException:
        engine = None
    if engine is not None and engine.nbytes > 0:
        return f"built ({engine.nbytes} bytes)"
    errors = [line for line in log.getvalue().splitlines() if line.startswith(("[E]", "[!]"))]
    if any(RTX_STRIDED_DILATED in e for e in errors):
        return REFUSED_FOR_RTX_LIMIT
    return "failed: " + ("; ".join(errors[-3:]) or "no engine and no error message")


def sizes_to_run(model_path: str) -> dict[str, list[int]] | None:
    """Sizes for a model with dynamic dims where none are given: those `fix --verify` and `check` run it at (the
    smallest candidates onnxruntime runs; a U-Net's Concat fails at 1). None for a static model."""
    import onnx

    from polygraphy_deconv.onnx_model.verify import concrete_input_shapes

    try:
        inputs = onnx.load(model_path, load_external_data=False).graph.input
    except Exception:  # noqa: BLE001 (not a model: the package's analysis says so in its own words)
        return None
    if all(d.HasField("dim_value") for i in inputs for d in i.type.tensor_type.shape.dim):
        return None
    return {name: list(dims) for name, dims in concrete_input_shapes(model_path).items()}


def onnxruntime_values(model_path: str, input_shapes: Mapping[str, Sequence[int]] | None, seed: int = 0) -> dict[str, np.ndarray]:
    """Every node output of the model (all marked as graph outputs) and the inputs, from onnxruntime."""
    import onnx
    import onnxruntime as ort

    from polygraphy_deconv.onnx_model.verify import formula_stand_in

    # onnxruntime 1.32 refuses negative pads: those nodes as ONNX's formula writes them out (their outputs keep
    # their names), the values onnxruntime 1.23.2 computes (tests/data/negative_pads.json).
    model, _ = formula_stand_in(onnx.load(model_path))
    # onnxruntime refuses repeated node names (a name changes no value): number the repeats for it
    seen: dict[str, int] = {}
    for node in model.graph.node:
        if node.name:
            seen[node.name] = seen.get(node.name, 0) + 1
            if seen[node.name] > 1:
                node.name = f"{node.name}__onnxruntime_{seen[node.name]}"
    known = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for output in node.output:
            if output and output not in known:
                model.graph.output.append(onnx.ValueInfoProto(name=output))
                known.add(output)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor as it is
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    feeds = {}
    for tensor in session.get_inputs():
        shape = (input_shapes or {}).get(tensor.name)
        if shape is None:
            shape = [d if isinstance(d, int) else 1 for d in tensor.shape]
        dtype = np.float16 if "float16" in tensor.type else np.float32 if "float" in tensor.type else np.int64
        feeds[tensor.name] = rng.standard_normal(shape).astype(dtype) if dtype != np.int64 else np.ones(shape, np.int64)
    names = [o.name for o in session.get_outputs()]
    values = dict(zip(names, session.run(names, feeds)))
    values.update(feeds)
    return values


def run_model(
    model_path: str,
    *,
    mark_all: bool = False,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    build_engine: bool = True,
) -> ModelOutcome:
    """Section 2 of the issue on one model: parse, patch with the loader, read back, build, compare values."""
    from polygraphy_deconv.core.model import needs_rewrite_before_parse
    from polygraphy_deconv.onnx_model.analysis import analyse_model

    if input_shapes is None:
        input_shapes = sizes_to_run(model_path)
    analysis = analyse_model(model_path, input_shapes, rules="rtx")  # inspect --trt-version rtx
    # What the parser sees: the model's own sizes, not --input-shapes
    unbound = analyse_model(model_path, rules="rtx") if input_shapes else analysis
    predicted_errors = tuple(n.name for n in unbound.nodes if n.finding.verdict.value == "parse-error")
    may_fail = tuple(n.name for n in needs_rewrite_before_parse(analysis, unbound))
    outcome = ModelOutcome(model=model_path, parse="", predicted_parse_errors=predicted_errors)
    trt = tensorrt_rtx()
    errors = parse_errors(model_path)
    if not errors:
        outcome.parse = "parsed"
        if predicted_errors:
            outcome.problems.append(f"predicted parse-error for {', '.join(predicted_errors)}, but the model parsed")
    else:
        outcome.parse = "parse error: " + " ".join(errors[-1].split())
        if not may_fail:
            outcome.problems.append(f"the parser failed but no node was predicted parse-error: {errors[-1]}")
            return outcome

    from polygraphy.exception import PolygraphyException

    from polygraphy_deconv.plugin.loader import PatchDeconvolutions, RewriteForParser
    from polygraphy_deconv.trt_network.comparison import Status, compare_units
    from polygraphy_deconv.trt_network.units import find_units

    # What the plugin hands to the parser (--deconv-fix): the model, or its pre-parse rewrite.
    rewrite = RewriteForParser(model_path, input_shapes)
    try:
        parse_path = rewrite()
        network = parse_with_plugin(rewrite)
    except PolygraphyException as error:
        if rewrite.rewritten:
            outcome.problems.append(f"the model still fails to parse after the pre-parse rewrite: {error}")
        elif errors:
            outcome.problems.append("the model fails to parse and the plugin rewrote nothing before the parse")
        else:
            outcome.problems.append(f"the pre-parse rewrite or Polygraphy's parse failed: {error}")
        return outcome
    if rewrite.rewritten:
        outcome.parse = f"parsed after the pre-parse rewrite of {', '.join(rewrite.rewritten)} (as it is: {outcome.parse})"

    layers_before = network[1].num_layers
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        loader = PatchDeconvolutions(network, rewrite, report_path=report, input_shapes=input_shapes)
        try:
            result = loader()
        except PolygraphyException as error:  # G_LOGGER.critical: an unpatchable unit, bad input
            outcome.problems.append(f"the loader failed: {error}")
            return outcome
        definition = result[1]
        outcome.layers_added = definition.num_layers - layers_before
        # Read back as the loader left it: Polygraphy's post-processing (--trt-outputs) comes after it.
        # The nodes the network was parsed from: after a pre-parse rewrite, its rewritten nodes are ordinary ones.
        parsed_nodes = analyse_model(parse_path, input_shapes).nodes if rewrite.rewritten else analysis.nodes
        ends = frozenset(node.output for node in parsed_nodes)
        comparisons = compare_units(find_units(definition, ends=ends), parsed_nodes)
        if mark_all:
            from polygraphy import constants
            from polygraphy.backend.trt import ModifyNetworkOutputs

            result = tuple(ModifyNetworkOutputs(result, outputs=constants.MARK_ALL)())
        with open(report, encoding="utf-8") as handle:
            document = json.load(handle)
        # one record per node, in the model's order (node names may repeat)
        actions = [record["network"]["action"] for record in document["findings"]]

        values = onnxruntime_values(model_path, input_shapes)
        by_output = {c.node.output: c for c in comparisons if c.node is not None}
        names = Counter(node.name for node in parsed_nodes)
        by_name = {c.node.name: c for c in comparisons if c.node is not None and names[c.node.name] == 1}
        for position, node in enumerate(analysis.nodes):
            action = actions[position]
            if node.name in rewrite.rewritten:
                action = f"rewritten before the parse, then {action}"
            unit_outcome = UnitOutcome(node.name, node.finding.verdict.value, action)
            outcome.units.append(unit_outcome)
            # after a pre-parse rewrite the unit ends at the rewritten node's own output: found by its name
            comparison = by_output.get(node.output) or by_name.get(node.name)
            if comparison is None:
                unit_outcome.problem = "no deconvolution unit of the patched network maps to this node"
                continue
            unit = comparison.unit
            unit_outcome.layers = unit.layers
            unit_outcome.window_ok = comparison.status == Status.OK
            expected = values.get(node.output)
            layers = [definition.get_layer(i) for i in range(definition.num_layers)]
            tail = next((layer.get_output(0) for layer in layers if layer.num_outputs and layer.get_output(0).name == node.output), None)
            if tail is None:
                unit_outcome.problem = f"no tensor of the network is named '{node.output}'"
                continue
            # The node's output as the network's own shape computation gives it (after a pre-parse rewrite:
            # the rewrite's bias Add or Pad after the unit).
            dims = tuple(None if d == -1 else int(d) for d in tail.shape)
            unit_outcome.dims = dims
            if expected is not None:
                unit_outcome.expected_dims = tuple(expected.shape)
                if len(dims) != expected.ndim or any(d is not None and d != e for d, e in zip(dims, expected.shape)):
                    unit_outcome.problem = f"network dims {dims} differ from onnxruntime's {expected.shape}"
            if comparison.status != Status.OK:
                unit_outcome.problem = unit_outcome.problem or f"read back: {comparison.status}: {comparison.reason}"
                continue
            if expected is None:
                unit_outcome.problem = "onnxruntime gave no value for the node's output"
                continue
            try:
                # The node's output tensor: the unit's, or after a pre-parse rewrite the rewrite's Pad/bias Add
                # (their layers are named after the node), computed from the unit's input too.
                stop = set(unit.layers) | {layer.name for layer in layers if layer.name.startswith(f"{node.name}/")}
                computed = NetworkEvaluator(trt, definition, values, stop=stop).value(tail)
            except (NotEvaluable, ValueError) as error:
                unit_outcome.problem = f"cannot evaluate the unit: {error}"
                continue
            if computed.shape != expected.shape:
                unit_outcome.problem = f"evaluated shape {computed.shape} != onnxruntime's {expected.shape}"
                continue
            diff = float(np.max(np.abs(computed - expected.astype(np.float64)))) if expected.size else 0.0
            scale = float(np.max(np.abs(expected))) if expected.size else 0.0
            tolerance = (1e-2 if expected.dtype == np.float16 else 1e-4) * max(1.0, scale)
            unit_outcome.max_abs_diff, unit_outcome.tolerance = diff, tolerance
            if not diff <= tolerance:
                unit_outcome.problem = f"values differ from onnxruntime: max abs diff {diff:.3g} > {tolerance:.3g}"

        if build_engine:
            outcome.build = build(result, input_shapes)
            if outcome.build.startswith("failed"):
                outcome.problems.append(f"build {outcome.build}")
    return outcome


def available() -> str | None:
    """None where NVIDIA's tensorrt_rtx package imports, else why not."""
    try:
        import tensorrt_rtx  # noqa: F401
    except Exception as error:  # noqa: BLE001 (a broken install raises more than ImportError)
        return f"{type(error).__name__}: {error}"
    return None
