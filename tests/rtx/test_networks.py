"""The network patch on TensorRT-RTX's real parser, network and builder (tests/rtx/harness.py).

For each model: parse with the real parser (a parse failure must be predicted `parse-error`, then the plugin's
pre-parse rewrite must parse), run the package's loader on the real network (with and without Polygraphy's
`--trt-outputs mark all`), read every unit back (output dims from the network's own shape computation,
window against the reference), build ahead of time, and compare each unit's values, computed in numpy
from the layers read back and fed with onnxruntime's values, with onnxruntime's output. No engine runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.models import conv_transpose_model, random_feeds, run_onnxruntime
from tests.onnx_cases import ONNX_CASE_PARAMS, OnnxCase
from tests.rtx.field_models import FIELD_MODELS, FieldModel
from tests.rtx.harness import REFUSED_FOR_RTX_LIMIT, ModelOutcome, run_model, tensorrt_rtx
from tests.strategies import Draw, conv_transposes

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples" / "models").glob("*.onnx"))
EXAMPLES = int(os.environ.get("DECONV_RTX_EXAMPLES", "300"))


def explain(outcome: ModelOutcome) -> str:
    lines = [f"{outcome.model}: {outcome.parse}; build {outcome.build}", *outcome.problems]
    lines += [f"  {u.node} [{u.verdict} -> {u.action}]: {u.problem or 'ok'}" for u in outcome.units]
    return "\n".join(lines)


def check(outcome: ModelOutcome) -> None:
    assert outcome.passed, explain(outcome)
    assert outcome.build.startswith(("built", "refused: TensorRT-RTX limit")), explain(outcome)
    for unit in outcome.units:
        assert unit.window_ok, explain(outcome)
        assert unit.max_abs_diff is not None and unit.max_abs_diff <= unit.tolerance, explain(outcome)


def save(model: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> str:
    path = folder / name
    onnx.save(model, str(path))
    return str(path)


class TestSamples:
    @pytest.mark.parametrize("mark_all", [False, True], ids=["outputs", "mark-all"])
    @pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
    def test_sample(self, sample: Path, mark_all: bool) -> None:
        outcome = run_model(str(sample), mark_all=mark_all)
        check(outcome)
        verdicts = {u.verdict for u in outcome.units}
        if verdicts == {"ok"}:
            assert outcome.layers_added == 0 and {u.action for u in outcome.units} == {"ok"}, explain(outcome)
        assert all(u.action.endswith(("ok", "patched")) for u in outcome.units), explain(outcome)
        assert bool(outcome.predicted_parse_errors) == outcome.parse.startswith("parsed after"), explain(outcome)


class TestOnnxCases:
    @pytest.mark.parametrize("case", ONNX_CASE_PARAMS)
    def test_onnx_case(self, case: OnnxCase, tmp_path: Path) -> None:
        shapes = {name: list(value.shape) for name, value in case.inputs.items()}
        check(run_model(save(case.model, tmp_path), input_shapes=shapes))


def _ort_accepts(model: onnx.ModelProto) -> bool:
    """onnxruntime rejects some nodes the spec allows (tests/core covers those): no reference values there."""
    try:
        run_onnxruntime(model, random_feeds(model))
    except Exception:  # noqa: BLE001 - onnxruntime raises its own classes for a model it rejects
        return False
    return True


class TestRandom:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(draw=conv_transposes(max_size=5, max_channels=4))
    def test_random_conv_transpose(self, draw: Draw, tmp_path_factory: pytest.TempPathFactory) -> None:
        folder = tmp_path_factory.mktemp("random")
        model = draw.model(seed=1)
        assume(_ort_accepts(model))
        path = save(model, folder)
        try:
            outcome = run_model(path, mark_all=len(draw.attributes) % 2 == 1)
        except Exception as error:
            raise AssertionError(f"{draw.describe()}: {error}") from error
        assume(not any("onnxruntime" in p for p in outcome.problems))
        assert outcome.passed, draw.describe() + "\n" + explain(outcome)
        assert outcome.build.startswith(("built", "refused: TensorRT-RTX limit")), draw.describe() + "\n" + explain(outcome)
        if {u.verdict for u in outcome.units} == {"ok"}:  # a correct network stays untouched
            assert outcome.layers_added == 0 and {u.action for u in outcome.units} == {"ok"}, explain(outcome)


class TestModelsFromTheField:
    @pytest.mark.parametrize("field", FIELD_MODELS, ids=[m.name for m in FIELD_MODELS])
    def test_field_model(self, field: FieldModel, tmp_path: Path) -> None:
        outcome = run_model(save(field.build(), tmp_path), input_shapes=field.input_shapes)
        check(outcome)
        if field.actions is not None:
            assert tuple(u.action for u in outcome.units) == field.actions, explain(outcome)
        if field.name == "unet_pad_after_conv_transpose":
            assert outcome.layers_added == 0, explain(outcome)
        if field.name == "strided_dilated":
            assert outcome.build == REFUSED_FOR_RTX_LIMIT, explain(outcome)


class TestRealLayers:
    def test_fill_slice_with_axes_is_read(self) -> None:
        """ISliceLayer axes (from 10.3: NvInfer.h@release/10.8:3265-3275, 3430-3469): start, size and stride
        cover only the listed axes. A producer's extension written that way reads as the same window."""
        from polygraphy_deconv.trt_network.comparison import Status, compare_units
        from polygraphy_deconv.trt_network.units import find_units
        from tests.trt_network.nodes import conv_transpose_node, random_weights

        trt = tensorrt_rtx()
        network = trt.Builder(trt.Logger(trt.Logger.ERROR)).create_network(0)
        x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 5, 6))
        weight, _ = random_weights([2, 2, 3, 3], 1)
        deconv = network.add_deconvolution_nd(x, 2, (3, 3), weight)
        deconv.name = "deconv"
        deconv.stride_nd = (2, 2)
        extension = network.add_slice(deconv.get_output(0), (0, 0), (12, 14), (1, 1))
        extension.mode = trt.SampleMode.FILL
        extension.axes = (2, 3)
        extension.get_output(0).name = "y"
        network.mark_output(extension.get_output(0))
        assert tuple(extension.get_output(0).shape) == (1, 2, 12, 14)
        node = conv_transpose_node({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                   [1, 2, 5, 6], [2, 2, 3, 3], bias="none")
        (unit,) = find_units(network, ends={"y"})
        assert unit.slice == ((0, 1), (0, 1)) and unit.unreadable is None
        (comparison,) = compare_units([unit], [node])
        assert comparison.status == Status.OK, comparison.reason

    def test_weights_without_a_numpy_type(self) -> None:
        """A BF16 (or FP8, INT4, FP4) weights getter returns a `trt.Weights`, not an array
        (python/include/utils.h@release/10.8:53-62): its size is read from it, and it has no array to move."""
        import ctypes

        from polygraphy_deconv.trt_network.units import weights_array, weights_size

        trt = tensorrt_rtx()
        network = trt.Builder(trt.Logger(trt.Logger.ERROR)).create_network(0)
        x = network.add_input("x", trt.DataType.BF16, (1, 2, 5, 6))
        raw = (ctypes.c_uint16 * 36)()
        deconv = network.add_deconvolution_nd(x, 2, (3, 3), trt.Weights(trt.DataType.BF16, ctypes.addressof(raw), 36))
        kernel = deconv.kernel
        assert isinstance(kernel, trt.Weights) and weights_size(kernel) == 36 and weights_array(kernel) is None
        assert weights_size(deconv.bias) == 0
        floats = network.add_deconvolution_nd(x, 2, (3, 3), np.zeros((2, 2, 3, 3), np.float32))
        assert weights_size(floats.kernel) == 36 and weights_array(floats.kernel).dtype == np.float32


class TestDeploymentPaths:
    """Issue 12 on the real parser: the npps script patches the real network as the plugin does, and the
    model `fix` writes for trtexec parses and builds without any network patch."""

    @pytest.mark.parametrize("sample", ["shifted_output_shape_2d", "tensor_bias_extension_1d", "decoder_block"])
    def test_npps_script_patches_the_real_network_like_the_plugin(self, sample: str, tmp_path: Path) -> None:
        from polygraphy.backend.trt import NetworkFromOnnxPath

        from polygraphy_deconv.cli.main import main as cli
        from polygraphy_deconv.deploy.postprocess import run_postprocess_script
        from polygraphy_deconv.onnx_model.analysis import analyse_model
        from polygraphy_deconv.plugin.loader import PatchDeconvolutions
        from polygraphy_deconv.trt_network.comparison import Status, compare_units
        from polygraphy_deconv.trt_network.units import find_units

        model = str(SAMPLES[0].parent / f"{sample}.onnx")
        script = tmp_path / "patch_model.py"
        assert cli(["npps", model, "-o", str(script)]) == 0
        nodes = analyse_model(model).nodes
        ends = frozenset(n.output for n in nodes)
        by_script, by_plugin = NetworkFromOnnxPath(model)(), NetworkFromOnnxPath(model)()
        run_postprocess_script(str(script), by_script[1])
        PatchDeconvolutions(by_plugin, model)()

        def layers(network: Any) -> list[tuple[str, str]]:
            return [(network.get_layer(i).name, network.get_layer(i).type.name) for i in range(network.num_layers)]

        assert layers(by_script[1]) == layers(by_plugin[1])
        comparisons = compare_units(find_units(by_script[1], ends=ends), nodes)
        assert [c.status for c in comparisons] == [Status.OK] * len(nodes)

    def test_fixed_model_for_trtexec_parses_and_builds(self, tmp_path: Path) -> None:
        from polygraphy_deconv.cli.main import main as cli

        fixed = tmp_path / "fixed.onnx"
        assert cli(["fix", str(SAMPLES[0].parent / "mixed.onnx"), "-o", str(fixed)]) == 0
        outcome = run_model(str(fixed))
        check(outcome)
        assert outcome.parse == "parsed" and outcome.layers_added == 0, explain(outcome)
        assert {u.action for u in outcome.units} == {"ok"}, explain(outcome)


class TestEmptyDeconvolution:
    """Where the window begins at the end of the full result, the parser's deconvolution is empty and its
    extension alone makes the output: TensorRT-RTX parses and builds that; a negative length fails the parse."""

    def test_empty_deconvolution_parses_and_builds(self, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 1, 2, 2], [1, 1, 1, 1], strides=[2, 2], output_padding=[1, 0], pads=[3, 0, 0, 0])
        outcome = run_model(save(model, tmp_path))
        check(outcome)
        assert outcome.parse == "parsed" and [u.verdict for u in outcome.units] == ["ok"], explain(outcome)
        assert outcome.build.startswith("built"), explain(outcome)

    def test_negative_length_is_a_parse_error(self, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 1, 2, 2], [1, 1, 1, 1], strides=[3, 3], output_padding=[2, 0], pads=[5, 0, 0, 0])
        outcome = run_model(save(model, tmp_path))
        check(outcome)
        assert "(as it is: parse error" in outcome.parse and [u.verdict for u in outcome.units] == ["parse-error"]
        assert outcome.parse.startswith("parsed after the pre-parse rewrite"), explain(outcome)


class TestRtxParserRules:
    """`inspect --trt-version rtx` against TensorRT-RTX's real parser (every run_model compares the rtx rules'
    parse-error predictions with the real parse; these name the rules that differ between TensorRT versions)."""

    def test_same_next_to_pads_is_a_parse_error(self, tmp_path: Path) -> None:
        """Rule 5 (core/trt_parser.py): as TensorRT 10 and 11, not as 8.6."""
        from polygraphy_deconv.onnx_model.analysis import analyse_model
        from tests.rtx.harness import parse_errors

        path = save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], auto_pad="SAME_UPPER",
                                         pads=[0, 0, 0, 0]), tmp_path)
        (error,) = parse_errors(path)
        assert "Pads attribute should not be specified" in error
        assert [n.finding.verdict.value for n in analyse_model(path, rules="rtx").nodes] == ["parse-error"]
        assert [n.finding.verdict.value for n in analyse_model(path, rules="8.6").nodes] != ["parse-error"]
        # (onnxruntime refuses the node, "pads ... cannot be used simultaneously with auto_pad": no values to compare)


class TestApiRulesOnTensorRTRTX:
    """Each API rule of trt_network/versions.py as TensorRT-RTX 1.7.1's official module answers it (the same rules
    on every emulated TensorRT version: tests/trt_network/test_versions.py). Decided by what the module has: its
    version, 1.7.1.116, says nothing about TensorRT's."""

    def test_rules(self) -> None:
        from polygraphy_deconv.trt_network import versions
        from polygraphy_deconv.trt_network.library import library

        trt = tensorrt_rtx()
        assert str(library()) == f"TensorRT-RTX {trt.__version__}"
        assert {t.name for t in versions.reshape_layer_types()} == {"SHUFFLE", "UNSQUEEZE", "SQUEEZE"}
        assert versions.slice_has_axes()
        network = trt.Builder(trt.Logger(trt.Logger.ERROR)).create_network(0)
        assert not versions.output_types_settable(network)  # strongly typed only: ITensor.dtype is read-only
        x = network.add_input("x", trt.DataType.FLOAT, (-1, 2, 5, 6))
        shape = network.add_shape(x).get_output(0)
        assert shape.dtype == trt.DataType.INT64 and versions.shape_integer_type(shape) is np.int64
