"""fix's output passes onnx.checker.check_model(full_check=True) wherever its input does (issue 16): the shapes a
model declares (graph outputs, value_info) that a rewrite changes are refreshed, and no other.

Over every bundled sample (as shipped, and with the shapes ONNX shape inference declares), onnx's own
ConvTranspose cases, the models of other producers (paddle2onnx's SAME, a 1D output_shape node, tf2onnx's negative
pads) and the U-Net of the dynamic-size tests; the fuzz (tests/fuzz) checks the same on every drawn node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from polygraphy_deconv.onnx_model.rewrite import fix_model
from tests.data import negative_pads
from tests.models import random_feeds, run_onnxruntime
from tests.onnx_cases import ONNX_CASE_PARAMS, OnnxCase
from tests.onnx_model.dynamic_models import unet
from tests.onnx_model.producer_models import PRODUCER_MODELS, declared

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples" / "models").glob("*.onnx"))


def full_check_error(model: onnx.ModelProto) -> str:
    """onnx's full check ("" when the model passes)."""
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # noqa: BLE001 (ValidationError, InferenceError)
        return str(error).strip() or type(error).__name__
    return ""


def assert_fixed_passes_where_the_input_does(model: onnx.ModelProto) -> onnx.ModelProto:
    fixed = fix_model(model).model
    if not full_check_error(model):
        assert full_check_error(fixed) == ""
    return fixed


def declared_output_shapes(model: onnx.ModelProto) -> list[list[int | str]]:
    return [
        [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value.type.tensor_type.shape.dim]
        for value in model.graph.output
    ]


class TestFullCheck:
    @pytest.mark.parametrize("form", ["as shipped", "declared"])
    @pytest.mark.parametrize("sample", SAMPLES, ids=[path.stem for path in SAMPLES])
    def test_samples(self, sample: Path, form: str) -> None:
        model = onnx.load(str(sample))
        assert_fixed_passes_where_the_input_does(declared(model) if form == "declared" else model)

    @pytest.mark.parametrize("case", ONNX_CASE_PARAMS)
    def test_onnx_cases(self, case: OnnxCase) -> None:
        assert_fixed_passes_where_the_input_does(case.model)
        assert_fixed_passes_where_the_input_does(declared(case.model))

    @pytest.mark.parametrize("name", list(PRODUCER_MODELS))
    def test_producer_models(self, name: str) -> None:
        model = PRODUCER_MODELS[name]()
        assert full_check_error(model) == ""
        fixed = fix_model(model)
        assert fixed.rewrites, "each producer model has a node fix rewrites"
        assert full_check_error(fixed.model) == ""
        # The declarations now say what runs.
        feeds = random_feeds(fixed.model, seed=0, dims={"N": 2})
        outputs = run_onnxruntime(fixed.model, feeds)
        for shape, output in zip(declared_output_shapes(fixed.model), outputs):
            assert [d if isinstance(d, int) else output.shape[axis] for axis, d in enumerate(shape)] == list(output.shape)

    @pytest.mark.parametrize("name", list(negative_pads.BUILDERS))
    def test_negative_pads(self, name: str) -> None:
        # The input fails the full check (negative pads); the fix must not.
        model, _ = negative_pads.BUILDERS[name]()
        assert "negative" in full_check_error(model)
        assert full_check_error(fix_model(model).model) == ""

    def test_unet(self) -> None:
        assert_fixed_passes_where_the_input_does(declared(unet(("N", 3, 8, 8))))

    def test_paddle2onnx_declarations_refreshed(self) -> None:
        model = PRODUCER_MODELS["paddle2onnx_same_output_padding"]()
        # ONNX shape inference declares I * S + output_padding = 17; onnxruntime computes 16 (section 2).
        assert declared_output_shapes(model) == [[1, 2, 17, 17]]
        assert [v.name for v in model.graph.value_info] == ["up"]
        fixed = fix_model(model).model
        assert declared_output_shapes(fixed) == [[1, 2, 16, 16]]
        (up,) = [v for v in fixed.graph.value_info if v.name == "up"]
        assert [d.dim_value for d in up.type.tensor_type.shape.dim] == [1, 2, 16, 16]
        (y,) = run_onnxruntime(fixed, random_feeds(fixed))
        assert y.shape == (1, 2, 16, 16)

    def test_declarations_not_downstream_are_kept(self) -> None:
        # Only what the rewritten node's output reaches can change: the input's declaration stays as it is,
        # also where it holds a symbolic name.
        model = PRODUCER_MODELS["paddle2onnx_same_dynamic_batch"]()
        fixed = fix_model(model).model
        assert fixed.graph.input[0].SerializeToString() == model.graph.input[0].SerializeToString()
        assert declared_output_shapes(fixed) == [["N", 2, 10, 14]]
        assert np.array_equal(
            [v.name for v in fixed.graph.value_info], [v.name for v in model.graph.value_info]
        )

    def test_unchanged_model_stays_byte_identical(self) -> None:
        model = declared(onnx.load(str(SAMPLES[0].with_name("decoder_block.onnx"))))
        result = fix_model(model)
        assert result.rewrites == ()
        assert result.model.SerializeToString() == model.SerializeToString()
