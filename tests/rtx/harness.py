"""The network side on TensorRT-RTX: parse a model with the real parser, run the package's loader step on the
real network, read it back, build it ahead of time, and compare each deconvolution unit's values (computed in
numpy from the layers read back) with onnxruntime's. No engine runs here (no GPU).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.rtx import facade, native
from tests.rtx.evaluate import NetworkEvaluator, NotEvaluable

# TensorRT-RTX's own limit, not a parser rule: it refuses every deconvolution with stride > 1 and dilation > 1.
RTX_STRIDED_DILATED = "Strided & Dilated Deconv are currently not supported"


@contextlib.contextmanager
def rtx_tensorrt() -> Iterator[Any]:
    """The facade installed as `tensorrt` for the package's code (restored afterwards)."""
    module = facade.module()
    saved = sys.modules.get("tensorrt")
    sys.modules["tensorrt"] = module
    try:
        yield module
    finally:
        if saved is None:
            sys.modules.pop("tensorrt", None)
        else:
            sys.modules["tensorrt"] = saved


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


@dataclass
class Parsed:
    builder: Any
    network: Any
    parser: Any
    logger: Any
    ok: bool

    def errors(self) -> list[str]:
        return self.logger.errors()


def parse(model: bytes, path: str | None = None) -> Parsed:
    logger = facade.Logger()
    builder = facade.Builder(logger)
    network = builder.create_network(0)
    parser = facade.OnnxParser(network, logger)
    ok = parser.parse(model, path)
    return Parsed(builder, network, parser, logger, ok)


def build(parsed: Parsed, input_shapes: Mapping[str, Sequence[int]] | None) -> str:
    """Build ahead of time; "built (N bytes)", "refused: TensorRT-RTX limit ...", or "failed: <errors>"."""
    trt = facade
    network = parsed.network
    config = parsed.builder.create_builder_config()
    dynamic = [network.get_input(i) for i in range(network.num_inputs) if -1 in tuple(network.get_input(i).shape)]
    if dynamic:
        profile = parsed.builder.create_optimization_profile()
        for tensor in dynamic:
            shape = (input_shapes or {}).get(tensor.name)
            if shape is None:
                shape = [1 if d == -1 else d for d in tensor.shape]
            profile.set_shape(tensor.name, shape, shape, shape)
        config.add_optimization_profile(profile)
    before = len(parsed.logger.messages)
    memory = parsed.builder.build_serialized_network(network, config)
    errors = [text for severity, text in parsed.logger.messages[before:] if severity <= trt.Logger.ERROR]
    if memory is not None and memory.nbytes > 0:
        return f"built ({memory.nbytes} bytes)"
    if any(RTX_STRIDED_DILATED in e for e in errors):
        return "refused: TensorRT-RTX limit (stride > 1 with dilation > 1)"
    return "failed: " + ("; ".join(errors[-3:]) or "no engine and no error message")


def onnxruntime_values(model_path: str, input_shapes: Mapping[str, Sequence[int]] | None, seed: int = 0) -> dict[str, np.ndarray]:
    """Every node output of the model (all marked as graph outputs) and the inputs, from onnxruntime."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(model_path)
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
    from polygraphy_deconv.onnx_model.preparse import needs_rewrite_before_parse
    from polygraphy_deconv.onnx_model.reading import analyse_model

    analysis = analyse_model(model_path, input_shapes)
    # What the parser sees: the model's own sizes, not --input-shapes
    unbound = analyse_model(model_path) if input_shapes else analysis
    predicted_errors = tuple(n.name for n in unbound.nodes if n.finding.verdict.value == "parse-error")
    may_fail = tuple(n.name for n in needs_rewrite_before_parse(analysis, unbound))
    outcome = ModelOutcome(model=model_path, parse="", predicted_parse_errors=predicted_errors)
    with open(model_path, "rb") as handle:
        parsed = parse(handle.read(), model_path)
    if parsed.ok:
        outcome.parse = "parsed"
        if predicted_errors:
            outcome.problems.append(f"predicted parse-error for {', '.join(predicted_errors)}, but the model parsed")
    else:
        message = next((e for e in reversed(parsed.errors()) if "ERROR" in e or "Error" in e), "; ".join(parsed.errors()[-2:]))
        outcome.parse = "parse error: " + " ".join(message.split())
        if not may_fail:
            outcome.problems.append(f"the parser failed but no node was predicted parse-error: {message}")
            return outcome
    with rtx_tensorrt():
        from polygraphy.exception import PolygraphyException

        from polygraphy_deconv.plugin.loader import RewriteForParser

        # What the plugin hands to the parser (--deconv-fix): the model, or its pre-parse rewrite.
        rewrite = RewriteForParser(model_path, input_shapes)
        try:
            parse_path = rewrite()
        except PolygraphyException as error:
            outcome.problems.append(f"the pre-parse rewrite failed: {error}")
            return outcome
        if rewrite.rewritten:
            with open(parse_path, "rb") as handle:
                parsed = parse(handle.read(), parse_path)
            if not parsed.ok:
                outcome.problems.append("the model still fails to parse after the pre-parse rewrite: " + "; ".join(parsed.errors()[-2:]))
                return outcome
            outcome.parse = f"parsed after the pre-parse rewrite of {', '.join(rewrite.rewritten)} (as it is: {outcome.parse})"
        elif not parsed.ok:
            outcome.problems.append("the model fails to parse and the plugin rewrote nothing before the parse")
            return outcome

    layers_before = parsed.network.num_layers
    with rtx_tensorrt() as trt, tempfile.TemporaryDirectory() as folder:
        from polygraphy.exception import PolygraphyException

        from polygraphy_deconv.plugin.loader import PatchDeconvolutions
        from polygraphy_deconv.trt_network.comparison import STATUS_OK, compare_units
        from polygraphy_deconv.trt_network.units import find_units

        report = os.path.join(folder, "report.json")
        loader = PatchDeconvolutions((parsed.builder, parsed.network, parsed.parser), rewrite, report_path=report,
                                     input_shapes=input_shapes)
        try:
            result = loader()
        except PolygraphyException as error:  # G_LOGGER.critical: an unpatchable unit, bad input
            outcome.problems.append(f"the loader failed: {error}")
            return outcome
        network = result[1]
        outcome.layers_added = network.num_layers - layers_before
        # Read back as the loader left it: Polygraphy's post-processing (--trt-outputs) comes after it.
        # The nodes the network was parsed from: after a pre-parse rewrite, its rewritten nodes are ordinary ones.
        parsed_nodes = analyse_model(rewrite(), input_shapes).nodes if rewrite.rewritten else analysis.nodes
        ends = frozenset(node.output for node in parsed_nodes)
        comparisons = compare_units(find_units(network, ends=ends), parsed_nodes)
        if mark_all:
            from polygraphy import constants
            from polygraphy.backend.trt import ModifyNetworkOutputs

            ModifyNetworkOutputs(result, outputs=constants.MARK_ALL)()
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
            unit_outcome.window_ok = comparison.status == STATUS_OK
            expected = values.get(node.output)
            layers = [network.get_layer(i) for i in range(network.num_layers)]
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
            if comparison.status != STATUS_OK:
                unit_outcome.problem = unit_outcome.problem or f"read back: {comparison.status}: {comparison.reason}"
                continue
            if expected is None:
                unit_outcome.problem = "onnxruntime gave no value for the node's output"
                continue
            try:
                # The node's output tensor: the unit's, or after a pre-parse rewrite the rewrite's Pad/bias Add
                # (their layers are named after the node), computed from the unit's input too.
                stop = set(unit.layers) | {layer.name for layer in layers if layer.name.startswith(f"{node.name}/")}
                computed = NetworkEvaluator(trt, network, values, stop=stop).value(tail)
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
            outcome.build = build(parsed, input_shapes)
            if outcome.build.startswith("failed"):
                outcome.problems.append(f"build {outcome.build}")
    return outcome


def available() -> str | None:
    """None where TensorRT-RTX can be reached, else why not."""
    try:
        native.libraries()
    except native.Unavailable as error:
        return str(error)
    return None
