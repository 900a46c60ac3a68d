"""Equivalence fuzzing: random ConvTranspose nodes, each checked end to end against onnxruntime.

One drawn configuration (tests/strategies.py: rank 1-3, stride, kernel, dilation, group, asymmetric pads,
output_padding, output_shape incl. odd totals and totals below zero, auto_pad NOTSET/VALID/SAME_UPPER/
SAME_LOWER incl. DK < S, bias none/initializer/tensor, batch and channel counts, opset 10/11/17, a static or
symbolic batch) is one example, and every example checks all of:

(a) the window: the numpy oracle (tests/numerics.py: the full transposed convolution, cropped by the
    core's reference window) reproduces onnxruntime's output; or onnxruntime rejects the node and
    core.window.onnxruntime_rejections predicted exactly that (and predicts no rejection that does not come);
(b) fix: fix_model's output computes onnxruntime's output (where onnxruntime rejected the original and
    the node was rewritten, it computes the oracle's, the spec's answer); a node that needs a patch is
    rewritten, any other is left byte for byte, and any note is one of the documented kinds;
(c) idempotence: fix(fix(m)) serializes byte-identical to fix(m), with no rewrite, and every node of
    fix(m) is verdict ok;
(e) the declared shapes: with the shapes ONNX shape inference declares (graph output, as exporters write it),
    fix's output passes onnx.checker.check_model(full_check=True) wherever the input does;
(d) the network patch: for every producer of docs/deconv-semantics.md section 3 that can build the node
    (tests/standin/producers.py: the ONNX parser incl. its extension chain and the odd output_shape split,
    SAME_* ignoring output_padding/output_shape, a tensor bias, TensorRT 10's squeeze layers for 1D;
    torch2trt; Torch-TensorRT), the stand-in network before the patch has the window the core predicts
    for the parser, and after fix_network it has the reference window (always, also with a dynamic
    batch), computes onnxruntime's output when the stand-in executes it with numpy (static shapes), and
    a second fix_network changes nothing.

Runs derandomized (a fixed sequence of examples, no example database), DECONV_FUZZ_EXAMPLES examples
(default 2000: about 30 s on 2 cores). A larger run:

    DECONV_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/fuzz

What was covered (examples, verdicts, onnxruntime rejection kinds, fix outcomes, producer outcomes) is
printed at the end of the run under "equivalence fuzz coverage"; per-example events with
`--hypothesis-show-statistics`.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import numpy as np
import onnx
from hypothesis import HealthCheck, assume, given, settings
from onnx import numpy_helper

from polygraphy_deconv.core.attributes import InvalidConvTranspose
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.core.model import ConvTransposeNode
from polygraphy_deconv.core.window import full_length, onnxruntime_rejections, window_length
from polygraphy_deconv.onnx_model.rewrite import FixResult, fix_model
from polygraphy_deconv.trt_network.patching import Action, fix_network
from polygraphy_deconv.trt_network.units import find_units
from tests.fuzz.tally import CONFIGURATIONS, FAILURES, count
from tests.models import random_feeds
from tests.numerics import crop, full_transposed_convolution
from tests.onnx_model.producer_models import declared
from tests.standin import network as standin
from tests.standin import producers
from tests.strategies import Draw, conv_transposes
from tests.trt_network.test_patching import assert_fixed, build

if TYPE_CHECKING:
    import onnxruntime

FUZZ_EXAMPLES = int(os.environ.get("DECONV_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# float32 against the float64 oracle; onnxruntime against itself after the rewrite (rtol = atol).
ORACLE_TOLERANCE = 1e-4
RUNTIME_TOLERANCE = 1e-5

BARE = "bare deconvolution"

# The notes fix_model may leave (rewrite.py: FixResult.notes; reading.py: ModelAnalysis.notes) for a
# single-node model without external data or subgraphs.
DOCUMENTED_NOTES = ("cannot rewrite '", "ONNX shape inference failed")


@functools.cache
def session_options() -> onnxruntime.SessionOptions:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # rejections are asserted on, not logged
    options.intra_op_num_threads = 1  # tiny tensors: a thread pool per session costs more than it brings
    options.inter_op_num_threads = 1
    return options


def run_or_reject(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray | str:
    """onnxruntime's output of the model, or its error message when it rejects the model."""
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), session_options(),
                                               providers=["CPUExecutionProvider"])
        (output,) = session.run(None, feeds)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own (Fail, InvalidArgument, ...)
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return np.asarray(output)


def rejection_kind(note: str) -> str:
    if "N, C" in note:
        return "output_shape with N, C"
    if "exceeds the full length" in note:
        return "output_shape past L + stride"
    if "output_padding" in note and ">= stride" in note:
        return "output_padding >= stride"
    return note.split(":")[-1].strip()[:60]


def count_configuration(drawn: Draw, node: ConvTransposeNode) -> None:
    attrs = node.finding.attributes
    count("rank", f"{attrs.rank}D")
    shape = "" if attrs.output_shape is None else " + output_shape N,C" if attrs.output_shape_has_batch_channel else " + output_shape"
    count("auto_pad", f"{attrs.auto_pad}{shape}")
    count("bias", drawn.bias)
    count("opset", str(drawn.opset))
    count("batch", "symbolic" if drawn.dynamic_batch else "static")
    count("group", str(attrs.group))
    count("verdict", node.finding.verdict.value)

    assert node.finding.reference is not None
    features = set()
    for axis, (window, size) in enumerate(zip(node.finding.reference, node.finding.input_sizes)):
        stride, dk, op = attrs.strides[axis], attrs.dilated_kernel[axis], attrs.output_padding[axis]
        if window.begin < 0 or window.trim < 0:
            features.add("extends past the full result")
        if op >= stride:
            features.add("output_padding >= stride")
        if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER") and dk < stride:
            features.add("SAME with DK < S")
        if attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER") and op:
            features.add("SAME with output_padding")
        if attrs.output_shape is not None and size is not None:
            total = full_length(size, stride, dk) + op - attrs.output_shape[axis]
            features.add("output_shape total < 0" if total < 0 else "output_shape total odd" if total % 2 else "output_shape total even")
        if attrs.auto_pad == "NOTSET" and attrs.output_shape is None and attrs.pads_begin[axis] != attrs.pads_end[axis]:
            features.add("asymmetric pads")
    for feature in sorted(features):
        count("window", feature)


def check_window(drawn: Draw, node: ConvTransposeNode, model: onnx.ModelProto, feeds: dict[str, np.ndarray],
                 weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(a): the oracle's output (the spec's answer) and onnxruntime's (None where it rejects the node)."""
    finding = node.finding
    attrs, reference = finding.attributes, finding.reference
    assert reference is not None
    assert finding.input_sizes == drawn.spatial and node.bias == drawn.bias
    full = full_transposed_convolution(feeds["x"], weight, attrs.strides, attrs.dilations, attrs.group)
    spec = crop(full, reference, bias)
    assert spec.shape[2:] == window_length(reference)

    rejections = onnxruntime_rejections(attrs, finding.input_sizes)
    runtime = run_or_reject(model, feeds)
    if isinstance(runtime, str):
        assert rejections, f"onnxruntime rejects a node the core expects it to run: {runtime}"
        for kind in sorted({rejection_kind(note) for note in rejections}):
            count("onnxruntime rejects (predicted)", kind)
        return spec, None
    assert not rejections, f"onnxruntime runs a node the core expects it to reject: {rejections}"
    assert runtime.shape == spec.shape, (runtime.shape, spec.shape)
    np.testing.assert_allclose(runtime, spec, rtol=ORACLE_TOLERANCE, atol=ORACLE_TOLERANCE)
    count("onnxruntime", "runs it; the window reproduces its output")
    return spec, runtime


def passes_checker(model: onnx.ModelProto) -> bool:
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError:
        return False
    return True


def check_fix(model: onnx.ModelProto, feeds: dict[str, np.ndarray], result: FixResult, node: ConvTransposeNode,
              spec: np.ndarray, runtime: np.ndarray | None) -> None:
    """(b) and (c)."""
    finding = node.finding
    for note in result.notes:
        assert note.startswith(DOCUMENTED_NOTES), note
        count("fix notes", note.split(":")[0].split("(")[0].strip())
    refused = [note for note in result.notes if note.startswith(f"cannot rewrite '{node.name}'")]
    if not finding.verdict.needs_patch:
        assert result.rewrites == () and not refused
        assert result.model.SerializeToString() == model.SerializeToString()
        count("fix", "unchanged (verdict ok)")
    elif refused:
        # Only a node without a reference window or patch is left (rewrite.py); static shapes decide both.
        assert result.rewrites == () and (finding.reference is None or finding.patch is None), refused
        count("fix", "refused with a documented note")
    else:
        (rewrite,) = result.rewrites
        assert (rewrite.node, rewrite.verdict) == (node.name, finding.verdict)
        assert finding.patch is not None
        ops = [n.op_type for n in result.model.graph.node]
        count("fix", "rewritten: " + " + ".join(dict.fromkeys(ops)))
    if passes_checker(model):
        onnx.checker.check_model(result.model)

    fixed = run_or_reject(result.model, feeds)
    if runtime is not None:
        assert not isinstance(fixed, str), f"onnxruntime rejects the fixed model: {fixed}"
        assert fixed.shape == runtime.shape
        np.testing.assert_allclose(fixed, runtime, rtol=RUNTIME_TOLERANCE, atol=RUNTIME_TOLERANCE)
    elif result.rewrites:
        # onnxruntime rejected the original; the rewrite states the spec's window in terms it accepts.
        assert not isinstance(fixed, str), f"onnxruntime rejects the rewritten model: {fixed}"
        assert fixed.shape == spec.shape
        np.testing.assert_allclose(fixed, spec, rtol=ORACLE_TOLERANCE, atol=ORACLE_TOLERANCE)
        count("fix", "rewritten where onnxruntime rejected the original: the spec's answer")
    else:
        assert isinstance(fixed, str)  # the unchanged model, rejected as before

    twice = fix_model(result.model)
    assert twice.rewrites == ()
    assert twice.model.SerializeToString() == result.model.SerializeToString()
    assert twice.analysis is not None
    assert [n.finding.verdict for n in twice.analysis.nodes] == [Verdict.OK]


def check_declared_shapes(model: onnx.ModelProto) -> None:
    """(e)."""
    try:
        declaring = declared(model)
        onnx.checker.check_model(declaring, full_check=True)
    except Exception:  # noqa: BLE001 (the input fails the full check: nothing to hold the fix to)
        count("full check (declared shapes)", "the input fails it")
        return
    onnx.checker.check_model(fix_model(declaring).model, full_check=True)
    count("full check (declared shapes)", "the input and fix's output pass it")


def applicable_producers(drawn: Draw, node: ConvTransposeNode, weight_shape: list[int]) -> list[str]:
    """The producers that can build this node (test_patching.applies, on parsed attributes so that an explicit
    default counts as absent): PyTorch has neither output_shape nor auto_pad and takes the bias as weights;
    torch2trt builds only as many input as output channels without dilation (test_patching.torch2trt_builds);
    the parser's 1D output_shape reads one entry off (core/trt_parser.py); TensorRT 10's squeeze layers
    matter only for 1D. First, a bare deconvolution (no padding) with the bias as weights, for every node."""
    attrs = node.finding.attributes
    chosen = [
        name for name, producer in producers.PRODUCERS.items()
        if producer.can_build(attrs, weight_shape, drawn.bias) and not (producer.one_dimensional_only and attrs.rank != 1)
    ]
    return [BARE, *chosen]


def check_network(drawn: Draw, node: ConvTransposeNode, feeds: dict[str, np.ndarray], weight: np.ndarray,
                  bias: np.ndarray | None, expected: np.ndarray, expected_from: str) -> None:
    """(d)."""
    finding = node.finding
    for producer in applicable_producers(drawn, node, list(weight.shape)):
        section = f"network: {producer}"
        for dynamic in (False, True) if drawn.dynamic_batch else (False,):
            input_shape = [-1 if dynamic else drawn.input_shape[0], *drawn.input_shape[1:]]
            try:
                if producer == BARE:
                    # A deconvolution without padding: every window, degenerate ones included, is reached from it.
                    network = producers.bare_deconvolution(finding.attributes, input_shape, weight, bias)
                else:
                    network = build(producer, node, input_shape, weight, bias)
                network.check()
            except standin.NetworkError as error:
                # The deconvolution is left without output: by PyTorch's symmetric padding, or by the parser's
                # pre = pads_begin when the window begins at or past the end of the full result (the output
                # is all extension). TensorRT cannot build that network, so the core must not call it ok.
                assert "output size" in str(error), error
                if producer.startswith("parser"):
                    assert finding.verdict.needs_patch, (
                        f"the parser's deconvolution has no output ({error}) but the core predicts "
                        f"{finding.verdict.value}: {finding.parser}"
                    )
                count(section, "cannot build: the deconvolution has no output")
                continue
            except ValueError as error:
                assert producer.startswith("parser") and (
                    "negative pre-padding" in str(error) or "Pads attribute should not be specified" in str(error)
                ), error
                assert finding.parser.parse_error is not None, "the parser fails where the core predicts a build"
                count(section, "parse error (predicted)")
                continue
            if producer.startswith("parser"):
                assert finding.parser.parse_error is None, "the core predicts a parse error where the parser builds"
                (unit,) = find_units(network)
                predicted = finding.parser.window
                assert predicted is not None
                assert [(a.begin, a.trim) for a in unit.window()] == [(p.begin, p.trim) for p in predicted]
                assert unit.has_extension == finding.parser.extension
                assert unit.extension_loses_bias == (finding.parser.extension and not finding.parser.extension_has_bias
                                                     and node.bias != "none")

            fix = fix_network(network, [node])
            (result,) = fix.results
            assert result.action in (Action.OK, Action.PATCHED), (result.action, result.detail)
            if producer.startswith("parser"):
                assert (result.action == Action.OK) == (finding.verdict is Verdict.OK), (result.action, finding.verdict)
            assert_fixed(network, node)
            layers = network.num_layers
            again = fix_network(network, [node])
            assert [r.action for r in again.results] == [Action.OK] and network.num_layers == layers

            outcome = "ok" if result.action == Action.OK else "patched"
            if result.patch is not None and result.patch.needs_extension:
                outcome += " with extension"
            if dynamic:
                count(section, f"{outcome}; batch -1: window only")
                continue
            actual = network.execute(feeds)["y"]
            assert actual.shape == expected.shape
            np.testing.assert_allclose(actual, expected, rtol=ORACLE_TOLERANCE, atol=ORACLE_TOLERANCE)
            count(section, f"{outcome}; window and values ({expected_from})")


class TestEquivalence:
    @FUZZ
    @given(drawn=conv_transposes(opsets=(10, 11, 17), dynamic_batch=True))
    def test_basic(self, drawn: Draw) -> None:
        # Every example a configuration not checked before: hypothesis draws some twice, and a rejected draw does
        # not count towards max_examples. Once an example failed, hypothesis replays and shrinks: from then on
        # nothing is rejected, so that a replay behaves as the first run did.
        configuration = drawn.describe()
        if not FAILURES:
            assume(configuration not in CONFIGURATIONS)
        try:
            self.check(drawn)
        except BaseException:
            FAILURES.append(configuration)
            raise
        CONFIGURATIONS.add(configuration)

    @staticmethod
    def check(drawn: Draw) -> None:
        model = drawn.model(seed=0)
        feeds = random_feeds(model, seed=1, dims={"N": drawn.input_shape[0]})
        initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        weight = initializers["W"]
        bias = feeds.get("B", initializers.get("B"))

        try:
            result = fix_model(model)
        except InvalidConvTranspose as error:
            # The core refuses only what no system runs: onnxruntime must reject the node too.
            assert isinstance(run_or_reject(model, feeds), str), f"the core refuses a node onnxruntime runs: {error}"
            count("examples", "refused as invalid by the core and by onnxruntime")
            return
        assert result.analysis is not None
        (node,) = result.analysis.nodes
        count_configuration(drawn, node)

        spec, runtime = check_window(drawn, node, model, feeds, weight, bias)
        check_fix(model, feeds, result, node, spec, runtime)
        check_declared_shapes(model)
        if runtime is None:
            check_network(drawn, node, feeds, weight, bias, spec, "vs the spec: onnxruntime rejects it")
        else:
            check_network(drawn, node, feeds, weight, bias, runtime, "vs onnxruntime")
