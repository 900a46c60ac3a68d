"""core.reference_window against onnxruntime and against onnx's own expected outputs.

The oracle is tests/numerics.py: the full, uncropped transposed convolution in float64, cropped by the
core's window (out[j] = full[j + begin] + bias). It must reproduce
- the expected outputs shipped with onnx's ConvTranspose tests (tests/onnx_cases.py), which are what
  counts: the onnx reference evaluator is not an oracle for group > 1 and some output_shape cases
  (docs/deconv-semantics.md section 2), and is not used here;
- onnxruntime's output for every node onnxruntime accepts, over the whole attribute space (hypothesis);
- for nodes onnxruntime rejects (output_padding >= stride while below the dilation; output_shape beyond
  L + output_padding by a stride or more; output_shape with N, C), `onnxruntime_rejections` must predict the
  rejection, and the oracle gives the spec's answer instead.

Hypothesis runs derandomized (a fixed sequence of examples) with 300 examples by default; a larger run:

    DECONV_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/core/test_window_onnxruntime.py
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from onnx import numpy_helper

from polygraphy_deconv.core import ConvTransposeAttributes, Window, reference_window, window_length
from polygraphy_deconv.core.window import onnxruntime_rejections
from tests.models import conv_transpose_model, run_onnxruntime
from tests.numerics import crop, full_transposed_convolution
from tests.onnx_cases import ONNX_CASE_PARAMS, OnnxCase
from tests.strategies import Draw, conv_transposes

FUZZ_EXAMPLES = int(os.environ.get("DECONV_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def attributes_of(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def oracle(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, attrs: ConvTransposeAttributes,
           window: Window) -> np.ndarray:
    full = full_transposed_convolution(x, weight, attrs.strides, attrs.dilations, attrs.group)
    return crop(full, window, bias)


class TestOnnxCases:
    """onnx's own ConvTranspose tests: the window reproduces the shipped expected output and onnxruntime's."""

    @pytest.mark.parametrize("case", ONNX_CASE_PARAMS)
    def test_basic(self, case: OnnxCase) -> None:
        node = case.node
        x, weight = case.array(node.input[0]), case.array(node.input[1])
        assert x is not None and weight is not None
        bias = case.array(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        attrs = ConvTransposeAttributes.from_onnx(node.name or case.name, attributes_of(node), weight.shape)
        window = reference_window(attrs, x.shape[2:])
        assert onnxruntime_rejections(attrs, x.shape[2:]) == ()

        ours = oracle(x, weight, bias, attrs, window)
        (expected,) = case.outputs
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
        # The shipped data agree with onnxruntime 1.32 for all 14 cases (checked here, not assumed).
        (runtime,) = run_onnxruntime(case.model, case.inputs)
        np.testing.assert_allclose(runtime, expected, rtol=1e-5, atol=1e-5)

    def test_negative_shifted_window_misses(self) -> None:
        # The comparison can fail: the odd-total output_shape case begun one element later (where TensorRT's
        # parser begins, onnx-tensorrt issue 1042) does not reproduce the expected output.
        (case,) = [p.values[0] for p in ONNX_CASE_PARAMS if p.id == "onnx-node/test_convtranspose_output_shape"]
        assert isinstance(case, OnnxCase)
        x, weight = case.array("X"), case.array("W")
        assert x is not None and weight is not None
        attrs = ConvTransposeAttributes.from_onnx("n", attributes_of(case.node), weight.shape)
        window = reference_window(attrs, x.shape[2:])
        moved = tuple(a.sliced(1, 1) for a in window)
        assert not np.allclose(oracle(x, weight, None, attrs, moved), case.outputs[0])


def arrays(model: onnx.ModelProto, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]:
    """Feeds, weight and bias of a tests.models.conv_transpose_model."""
    initializers = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    rng = np.random.default_rng(seed)
    feeds = {}
    for value in model.graph.input:
        shape = [d.dim_value for d in value.type.tensor_type.shape.dim]
        feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
    bias = feeds.get("B", initializers.get("B"))
    return feeds, initializers["W"], bias


class TestWindowAgainstOnnxruntime:
    """numpy full-then-crop by core.reference_window == onnxruntime, over the attribute space."""

    @FUZZ
    @given(conv_transposes())
    def test_basic(self, drawn: Draw) -> None:
        attrs = ConvTransposeAttributes.from_onnx("deconv", drawn.attributes, drawn.weight_shape)
        window = reference_window(attrs, drawn.spatial)
        lengths = window_length(window)
        assume(all(n is not None and n >= 1 for n in lengths))

        model = conv_transpose_model(drawn.input_shape, drawn.weight_shape, bias=drawn.bias, **drawn.attributes)
        feeds, weight, bias = arrays(model, seed=1)
        ours = oracle(feeds["x"], weight, bias, attrs, window)
        assert ours.shape[2:] == lengths

        self._check_declared_shape(model, attrs, lengths)
        rejections = onnxruntime_rejections(attrs, drawn.spatial)
        event(f"auto_pad={attrs.auto_pad}, output_shape={attrs.output_shape is not None}")
        for note in rejections:
            kind = "N, C output_shape" if "N, C" in note else "output_shape" if "exceeds" in note else "output_padding"
            event(f"onnxruntime rejects: {kind}")
        if not rejections:
            (runtime,) = run_onnxruntime(model, feeds)
            assert runtime.shape == ours.shape, (drawn, window)
            np.testing.assert_allclose(runtime, ours, rtol=1e-4, atol=1e-4, err_msg=str((drawn, window)))
            return

        with pytest.raises(Exception):  # noqa: B017 - onnxruntime raises its own (Fail, RuntimeException, ...)
            run_onnxruntime(model, feeds)
        self._check_spec_answer(drawn, attrs, window, feeds, weight, bias)

    @staticmethod
    def _check_declared_shape(model: onnx.ModelProto, attrs: ConvTransposeAttributes,
                              lengths: tuple[int | None, ...]) -> None:
        """ONNX shape inference declares the window's size except where the semantics doc says it does not:
        SAME_* with output_padding (it declares I * S + op)."""
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
        dims = inferred.graph.output[0].type.tensor_type.shape.dim
        if len(dims) != len(lengths) + 2:
            # onnx 1.23.2 shape inference declares a wrong RANK when an output_shape entry is 1 (output_shape
            # [1, 2] on a 2D node declares [1, 1]); nothing to compare sizes with.
            return
        declared = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)[2:]
        if None in declared or declared == lengths:
            return
        assert attrs.auto_pad in ("SAME_UPPER", "SAME_LOWER") and attrs.output_shape is None, (attrs, declared, lengths)
        assert any(attrs.output_padding)

    @staticmethod
    def _check_spec_answer(drawn: Draw, attrs: ConvTransposeAttributes, window: Window,
                           feeds: dict[str, np.ndarray], weight: np.ndarray, bias: np.ndarray | None) -> None:
        """Where onnxruntime refuses, the window is the spec's (and PyTorch's)."""
        if attrs.output_shape is None:
            # output_padding >= stride (< dilation): spec O = L - pads_begin - pads_end + op, begin = pads_begin.
            if attrs.auto_pad in ("NOTSET", "VALID"):
                assert tuple(a.begin for a in window) == attrs.pads_begin
                assert tuple(a.trim for a in window) == tuple(
                    e - op for e, op in zip(attrs.pads_end, attrs.output_padding))
            return
        # output_shape: the output has exactly the asked spatial size, whatever onnxruntime thinks of it.
        assert window_length(window) == attrs.output_shape
        if attrs.output_shape_has_batch_channel:
            # The same node with the spatial-only form runs on onnxruntime: the N, C form means the same window.
            spatial = dict(drawn.attributes, output_shape=list(attrs.output_shape))
            spatial_attrs = ConvTransposeAttributes.from_onnx("deconv", spatial, drawn.weight_shape)
            assert reference_window(spatial_attrs, drawn.spatial) == window
            if not onnxruntime_rejections(spatial_attrs, drawn.spatial):
                model = conv_transpose_model(drawn.input_shape, drawn.weight_shape, bias=drawn.bias, **spatial)
                (runtime,) = run_onnxruntime(model, feeds)
                ours = oracle(feeds["x"], weight, bias, attrs, window)
                np.testing.assert_allclose(runtime, ours, rtol=1e-4, atol=1e-4)


def run_1d(x: list[float], kernel: list[float], bias: float | None, **attributes: Any) -> tuple[np.ndarray, np.ndarray]:
    """(oracle, onnxruntime) for a 1-channel 1D ConvTranspose with the given weights."""
    xs = np.array(x, dtype=np.float32).reshape(1, 1, -1)
    weight = np.array(kernel, dtype=np.float32).reshape(1, 1, -1)
    model = conv_transpose_model(xs.shape, weight.shape, bias="none" if bias is None else "initializer", **attributes)
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weight, "W"))
    bias_array = None if bias is None else np.array([bias], dtype=np.float32)
    if bias_array is not None:
        model.graph.initializer[1].CopyFrom(numpy_helper.from_array(bias_array, "B"))
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, weight.shape)
    ours = oracle(xs, weight, bias_array, attrs, reference_window(attrs, xs.shape[2:]))
    (runtime,) = run_onnxruntime(model, {"x": xs})
    return ours.reshape(-1), runtime.reshape(-1)


class TestCheckedNumerics:
    """docs/deconv-semantics.md section 5, element by element, on the oracle and on onnxruntime."""

    @pytest.mark.parametrize(
        ("bias", "attributes", "expected"),
        [
            (None, {"strides": [2], "pads": [1, 1]}, [1, 2, 2, 3]),
            (None, {"strides": [2], "pads": [1, 1], "output_padding": [1]}, [1, 2, 2, 3, 3]),
            (10.0, {"strides": [2], "output_padding": [1]}, [11, 11, 12, 12, 13, 13, 10]),
            (10.0, {"strides": [3], "pads": [1, 1], "output_padding": [2]}, [11, 10, 12, 12, 10, 13, 13, 10]),
        ],
    )
    def test_basic(self, bias: float | None, attributes: dict[str, Any], expected: list[float]) -> None:
        ours, runtime = run_1d([1, 2, 3], [1, 1], bias, **attributes)
        np.testing.assert_array_equal(ours, expected)
        np.testing.assert_array_equal(runtime, expected)

    def test_same_upper_with_output_padding(self) -> None:
        # full = [1, 2, 5, 4, 9, 6, 9] (L = 7). SAME_UPPER targets I * S = 6 elements. onnxruntime 1.32 counts
        # output_padding in the total (max(0, L + op - I * S) = 2, begin 1): the output_padding moves the window
        # by one instead of being dropped.
        ours, runtime = run_1d([1, 2, 3], [1, 2, 3], None, strides=[2], auto_pad="SAME_UPPER", output_padding=[1])
        np.testing.assert_array_equal(ours, [2, 5, 4, 9, 6, 9])
        np.testing.assert_array_equal(runtime, [2, 5, 4, 9, 6, 9])
        ours, runtime = run_1d([1, 2, 3], [1, 2, 3], None, strides=[2], auto_pad="SAME_UPPER")
        np.testing.assert_array_equal(ours, [1, 2, 5, 4, 9, 6])
        np.testing.assert_array_equal(runtime, [1, 2, 5, 4, 9, 6])

    def test_negative_output_padding_is_not_ignored_under_same(self) -> None:
        # Ignoring output_padding under SAME_* (what earlier notes stated; docs/deconv-semantics.md section 8)
        # would begin the window one element earlier than onnxruntime does.
        attributes = {"strides": [2], "auto_pad": "SAME_UPPER", "output_padding": [1]}
        attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, (1, 1, 3))
        without = ConvTransposeAttributes.from_onnx("deconv", {"strides": [2], "auto_pad": "SAME_UPPER"}, (1, 1, 3))
        assert reference_window(attrs, [5])[0].begin == reference_window(without, [5])[0].begin + 1
        assert window_length(reference_window(attrs, [5])) == window_length(reference_window(without, [5])) == (10,)


class TestOnnxruntimeRejections:
    """onnxruntime's output_shape check, on a grid: it rejects exactly when output_shape >= L + stride."""

    def test_basic(self) -> None:
        mismatches = []
        for size, stride, kernel in itertools.product(range(1, 4), range(1, 4), range(1, 4)):
            for op in range(stride):
                full = (size - 1) * stride + kernel
                for target in range(max(1, full - 2), full + op + stride + 2):
                    attributes: dict[str, Any] = {"strides": [stride], "output_padding": [op], "output_shape": [target]}
                    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, (1, 1, kernel))
                    predicted = bool(onnxruntime_rejections(attrs, [size]))
                    model = conv_transpose_model([1, 1, size], [1, 1, kernel], bias="none", **attributes)
                    try:
                        run_onnxruntime(model, {"x": np.ones((1, 1, size), np.float32)})
                        rejected = False
                    except Exception:  # noqa: BLE001 - any onnxruntime failure is a rejection
                        rejected = True
                    if predicted != rejected:
                        mismatches.append((size, stride, kernel, op, target, rejected))
        assert mismatches == []

    def test_negative_output_padding_at_least_stride(self) -> None:
        attrs = ConvTransposeAttributes.from_onnx(
            "deconv", {"strides": [1], "dilations": [2], "output_padding": [1]}, (1, 1, 2)
        )
        (note,) = onnxruntime_rejections(attrs, [3])
        assert "output_padding 1 >= stride 1" in note
