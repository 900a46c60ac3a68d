"""Negative pads (tf2onnx's pattern, issue 16): the verdict, the fix, the pre-parse rewrite and the core's window,
each compared with what onnxruntime 1.23.2 computed on the original models (tests/data/negative_pads.json,
recorded by tests/data/negative_pads.py; onnxruntime 1.32, which these tests run, refuses the originals)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.core.producers import TF2ONNX
from polygraphy_deconv.core.window import reference_window
from polygraphy_deconv.onnx_model.analysis import analyse_proto
from polygraphy_deconv.onnx_model.loaded import load
from polygraphy_deconv.onnx_model.rewrite import fix_model, rewrite_for_parser
from polygraphy_deconv.onnx_model.verify import formula_stand_in, verify_fix
from tests.data import negative_pads
from tests.numerics import crop, full_transposed_convolution

NAMES = list(negative_pads.BUILDERS)
# float32 on onnxruntime 1.32 against float32 on onnxruntime 1.23.2 (recorded to the last digit of float32)
TOLERANCE = 1e-5
PRODUCERS = {
    "tf2onnx_end_2d": TF2ONNX, "tf2onnx_both_2d": TF2ONNX, "tf2onnx_3d": TF2ONNX,
    "begin_negative_1d": "", "end_negative_tensor_bias_2d": "", "documented_begin_1d": "", "documented_end_1d": TF2ONNX,
}
NEGATIVE_BEGIN = {"tf2onnx_both_2d", "tf2onnx_3d", "begin_negative_1d", "documented_begin_1d"}


def recorded(name: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray], np.ndarray]:
    """The model, its inputs and onnxruntime 1.23.2's output; the inputs must be the ones it was run with."""
    model, feeds = negative_pads.BUILDERS[name]()
    entry = negative_pads.recorded()["models"][name]
    for key, value in feeds.items():
        np.testing.assert_array_equal(value, negative_pads.array(entry["inputs"][key]))
    return model, feeds, negative_pads.array(entry["output"])


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, feeds)
    return np.asarray(output)


def assert_equal_to_recorded(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape
    difference = float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
    assert difference <= TOLERANCE, difference
    return difference


class TestRecordedData:
    def test_produced_by_onnxruntime_1_23_2(self) -> None:
        assert negative_pads.recorded()["produced_by"].startswith("onnxruntime 1.23.2 ")
        assert sorted(negative_pads.recorded()["models"]) == sorted(NAMES)

    def test_documented_example(self) -> None:
        # docs/deconv-semantics.md section 2: the full result [1, 1, 0, 2, 2, 0, 3, 3] plus the bias 10.
        assert recorded("documented_begin_1d")[2].ravel().tolist() == [10, 11, 11, 10, 12, 12, 10, 13, 13]
        assert recorded("documented_end_1d")[2].ravel().tolist() == [11, 11, 10, 12, 12, 10, 13, 13, 10]

    def test_negative_onnxruntime_here_refuses_the_originals(self) -> None:
        import onnxruntime

        model, feeds, _ = recorded("tf2onnx_end_2d")
        if onnxruntime.__version__.startswith("1.23."):
            pytest.skip("this onnxruntime runs negative pads")
        with pytest.raises(Exception, match="negative"):
            run(model, feeds)


class TestWindow:
    @pytest.mark.parametrize("name", NAMES)
    def test_core_window_reproduces_onnxruntime_1_23_2(self, name: str) -> None:
        # ONNX's formula as the core states it (begin = pads_begin, trim = pads_end - output_padding), cropped
        # from an independent numpy full transposed convolution, against the recorded values.
        model, feeds, expected = recorded(name)
        (node,) = analyse_proto(model).nodes
        attrs = node.finding.attributes
        weight = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "W"))
        bias_initializer = [numpy_helper.to_array(i) for i in model.graph.initializer if i.name == "B"]
        bias = feeds.get("B", bias_initializer[0] if bias_initializer else None)
        full = full_transposed_convolution(feeds["x"], weight, attrs.strides, attrs.dilations, attrs.group)
        window = reference_window(attrs, feeds["x"].shape[2:])
        assert_equal_to_recorded(crop(full, window, bias), expected)


class TestVerdict:
    @pytest.mark.parametrize("name", NAMES)
    def test_basic(self, name: str) -> None:
        model, _, expected = recorded(name)
        (node,) = analyse_proto(model).nodes
        finding = node.finding
        assert finding.verdict is Verdict.NEGATIVE_PADS and finding.verdict.needs_patch
        assert finding.producer == PRODUCERS[name]
        assert finding.output_sizes == expected.shape[2:]
        assert any("onnxruntime 1.32 rejects pads" in note for note in finding.notes)
        warned = any(note.startswith("warning: the negative pads begin") for note in finding.notes)
        assert warned == (name in NEGATIVE_BEGIN)
        if name == "end_negative_tensor_bias_2d":  # output_padding on W takes the negative end into the extension
            assert finding.parser.parse_error is None and "builds the window" in finding.reason
        else:
            assert finding.parser.parse_error is not None and "refuses negative" in finding.parser.parse_error


class TestFix:
    @pytest.mark.parametrize("name", NAMES)
    def test_fixed_model_computes_onnxruntime_1_23_2s_output(self, name: str) -> None:
        model, feeds, expected = recorded(name)
        result = fix_model(model)
        (rewrite,) = result.rewrites
        assert rewrite.verdict is Verdict.NEGATIVE_PADS
        assert (rewrite.note != "") == (name in NEGATIVE_BEGIN)
        onnx.checker.check_model(result.model, full_check=True)
        assert_equal_to_recorded(run(result.model, feeds), expected)
        assert all(p >= 0 for n in result.model.graph.node for a in n.attribute if a.name == "pads" for p in a.ints)
        twice = fix_model(result.model)
        assert twice.rewrites == ()

    @pytest.mark.parametrize("name", NAMES)
    def test_pre_parse_rewrite_computes_onnxruntime_1_23_2s_output(self, name: str, tmp_path: Path) -> None:
        model, feeds, expected = recorded(name)
        path = tmp_path / "m.onnx"
        onnx.save(model, str(path))
        loaded = load(str(path))
        rewrite = rewrite_for_parser(loaded.model, loaded.analysis)
        assert tuple(r.node for r in rewrite.rewrites) == (name,)
        assert_equal_to_recorded(run(rewrite.model, feeds), expected)

    @pytest.mark.parametrize("name", NAMES)
    def test_formula_stand_in_computes_onnxruntime_1_23_2s_output(self, name: str) -> None:
        # What verify runs in place of an original this onnxruntime refuses: checked against the record too.
        model, feeds, expected = recorded(name)
        stand_in, replaced = formula_stand_in(model)
        assert replaced == (name,)
        assert_equal_to_recorded(run(stand_in, feeds), expected)

    def test_verify_runs_the_formula_in_place_of_the_refused_original(self, tmp_path: Path) -> None:
        model, _, _ = recorded("tf2onnx_both_2d")
        onnx.save(model, str(tmp_path / "m.onnx"))
        onnx.save(fix_model(model).model, str(tmp_path / "f.onnx"))
        verification = verify_fix(str(tmp_path / "m.onnx"), str(tmp_path / "f.onnx"))
        assert verification.passed and verification.stand_in == ("tf2onnx_both_2d",)
        assert "refuses the negative pads of 'tf2onnx_both_2d'" in verification.stand_in_text()


@st.composite
def tf2onnx_nodes(draw: st.DrawFn) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A ConvTranspose as tf2onnx writes it for an output size beyond the full result (core/producers.py), now and
    then with an output_padding on top (not tf2onnx's, but ONNX's formula covers it) and any bias kind."""
    rank = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(rank)]
    strides = [draw(st.integers(1, 4)) for _ in range(rank)]
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    output_padding = [draw(st.sampled_from([0, 0, 0, s - 1])) for s in strides]
    pads_begin, pads_end = [], []
    for i, s, k in zip(sizes, strides, kernel):
        full = (i - 1) * s + k
        total = full - (full + draw(st.integers(0, s + 1)))  # output size L + extra: total = -extra
        begin = -((-total) // 2)  # int(total / 2), toward zero
        pads_begin.append(begin)
        pads_end.append(total - begin)
    pads = pads_begin + pads_end
    bias = draw(st.sampled_from(["none", "initializer", "tensor"]))
    channels_in, channels_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    attributes: dict[str, object] = {"kernel_shape": kernel, "strides": strides, "pads": pads}
    if any(output_padding):
        attributes["output_padding"] = output_padding
    return negative_pads.conv_transpose(
        "deconv", [1, channels_in, *sizes], [channels_in, channels_out, *kernel], bias=bias, **attributes
    )


class TestRandom:
    @settings(max_examples=150, derandomize=True, database=None, deadline=None)
    @given(drawn=tf2onnx_nodes())
    def test_fix_keeps_onnxs_formula(self, drawn: tuple[onnx.ModelProto, dict[str, np.ndarray]]) -> None:
        model, feeds = drawn
        (node,) = analyse_proto(model).nodes
        finding = node.finding
        assert finding.verdict is (Verdict.NEGATIVE_PADS if finding.attributes.negative_pads else Verdict.OK)
        attrs = finding.attributes
        weight = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "W"))
        bias_initializer = [numpy_helper.to_array(i) for i in model.graph.initializer if i.name == "B"]
        bias = feeds.get("B", bias_initializer[0] if bias_initializer else None)
        full = full_transposed_convolution(feeds["x"], weight, attrs.strides, attrs.dilations, attrs.group)
        spec = crop(full, reference_window(attrs, feeds["x"].shape[2:]), bias)
        result = fix_model(model)
        fixed = run(result.model, feeds)
        assert fixed.shape == spec.shape
        np.testing.assert_allclose(fixed, spec, rtol=1e-4, atol=1e-4)
        onnx.checker.check_model(result.model, full_check=True)
        if finding.verdict is Verdict.NEGATIVE_PADS:
            stand_in, _ = formula_stand_in(model)
            np.testing.assert_allclose(run(stand_in, feeds), fixed, rtol=1e-5, atol=1e-5)
        assert fix_model(result.model).rewrites == ()
