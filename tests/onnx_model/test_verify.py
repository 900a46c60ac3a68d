"""Verification of a fixed model with Polygraphy's comparator on onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx
import pytest

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.rewrite import fix_file
from polygraphy_deconv.onnx_model.verify import verify_fix
from tests.models import conv_transpose_model

DYNAMIC: dict[str, Any] = {"input_shape": ["N", 2, "H", "W"], "weight_shape": [2, 3, 3, 3], "strides": [2, 2], "output_padding": [1, 1], "bias": "tensor"}


class TestVerifyFix:
    def test_basic(self, tmp_path: Path) -> None:
        source, target = tmp_path / "m.onnx", tmp_path / "f.onnx"
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12]), str(source))
        fix_file(str(source), str(target))
        verification = verify_fix(str(source), str(target), seed=7)
        assert verification.passed and verification.seed == 7
        (output,) = verification.outputs
        assert (output.name, output.passed, output.original_shape, output.max_abs_diff) == ("y", True, (1, 3, 10, 12), 0.0)
        assert output.describe() == "y: PASSED (shape [1, 3, 10, 12], max abs diff 0)"

    def test_bound_input_shapes(self, tmp_path: Path) -> None:
        source, target = tmp_path / "m.onnx", tmp_path / "f.onnx"
        onnx.save(conv_transpose_model(**DYNAMIC), str(source))
        fix_file(str(source), str(target))
        verification = verify_fix(str(source), str(target), input_shapes={"x": (2, 2, 4, 5)})
        assert verification.passed
        assert verification.outputs[0].original_shape == (2, 3, 10, 12)

    def test_negative_values_differ(self, tmp_path: Path) -> None:
        source, other = tmp_path / "m.onnx", tmp_path / "other.onnx"
        onnx.save(conv_transpose_model(**DYNAMIC), str(source))
        onnx.save(conv_transpose_model(**DYNAMIC, seed=1), str(other))  # other weights
        verification = verify_fix(str(source), str(other), input_shapes={"x": (1, 2, 3, 3)})
        assert not verification.passed
        assert not verification.outputs[0].passed and verification.outputs[0].max_abs_diff > 0.1  # type: ignore[operator]
        assert "FAILED" in verification.outputs[0].describe()

    def test_negative_shapes_differ(self, tmp_path: Path) -> None:
        source, other = tmp_path / "m.onnx", tmp_path / "other.onnx"
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), str(source))
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], pads=[1, 1, 0, 0]), str(other))
        verification = verify_fix(str(source), str(other))
        assert not verification.passed
        assert verification.outputs[0].max_abs_diff is None
        assert "shape [1, 3, 9, 11] vs [1, 3, 10, 12]" in verification.outputs[0].describe()

    def test_negative_onnxruntime_rejects_the_model(self, tmp_path: Path) -> None:
        # output_padding 2 >= stride 2 but < dilation 3: the spec allows it, onnxruntime does not.
        source = tmp_path / "m.onnx"
        model = conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], dilations=[3, 3], output_padding=[2, 2])
        onnx.save(model, str(source))
        with pytest.raises(DeconvError, match="onnxruntime could not run the models"):
            verify_fix(str(source), str(source))
