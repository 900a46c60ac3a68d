"""Verification of a fixed model with Polygraphy's comparator on onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx
import pytest

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.verify import (
    SizesNeeded,
    VerificationShapes,
    concrete_input_shapes,
    verification_shapes,
    verify_fix,
)
from polygraphy_deconv.onnx_model.writing import fix_file
from tests.models import conv_transpose_model
from tests.onnx_model.dynamic_models import gather_after_upsample, mismatched_sizes, unet

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


class TestVerificationShapes:
    """The sizes fix --verify and check feed a model with dynamic dims (issue 11: not 1 where 1 cannot run)."""

    def test_unet_gets_sizes_it_runs_at(self, tmp_path: Path) -> None:
        onnx.save(unet(("N", 3, "H", "W")), str(tmp_path / "m.onnx"))
        sizes = verification_shapes(str(tmp_path / "m.onnx"))
        # The batch stays 1; H and W take the smallest size at which the Concat is consistent.
        assert sizes.shapes == {"x": (1, 3, 2, 2)} and sizes.checked
        assert sizes.chosen == (("N", 1), ("H", 2), ("W", 2))
        assert "x:[1,3,2,2]" in sizes.describe()
        fix_file(str(tmp_path / "m.onnx"), str(tmp_path / "f.onnx"))
        assert verify_fix(str(tmp_path / "m.onnx"), str(tmp_path / "f.onnx"), input_shapes=sizes.shapes).passed

    def test_ones_fail_where_the_chosen_sizes_run(self, tmp_path: Path) -> None:
        # What Polygraphy's data loader does with the dims left dynamic: 1, which this model cannot run at.
        onnx.save(unet(), str(tmp_path / "m.onnx"))
        fix_file(str(tmp_path / "m.onnx"), str(tmp_path / "f.onnx"))
        with pytest.raises(DeconvError, match="Concat"):
            verify_fix(str(tmp_path / "m.onnx"), str(tmp_path / "f.onnx"))

    def test_a_size_the_model_declares(self, tmp_path: Path) -> None:
        # The skip connection is a static [1, 4, 24, 24]: no power of two works, the declared 24 does.
        onnx.save(unet((1, 3, "H", "W"), skip_shape=(1, 4, 24, 24)), str(tmp_path / "m.onnx"))
        sizes = verification_shapes(str(tmp_path / "m.onnx"))
        assert sizes.shapes["x"] == (1, 3, 24, 24)

    def test_bound_dims_are_kept(self, tmp_path: Path) -> None:
        onnx.save(unet(("N", 3, "H", "W")), str(tmp_path / "m.onnx"))
        assert verification_shapes(str(tmp_path / "m.onnx"), {"x": (2, 3, 6, 8)}) == VerificationShapes({"x": (2, 3, 6, 8)})
        # A dim left dynamic in --input-shapes is still chosen; the bound ones stay.
        sizes = verification_shapes(str(tmp_path / "m.onnx"), {"x": ("N", 3, 6, 8)})
        assert sizes.shapes == {"x": (1, 3, 6, 8)} and sizes.chosen == (("N", 1),)

    def test_output_shape_node_gets_sizes_onnxruntime_accepts(self, tmp_path: Path) -> None:
        # output_shape [13, 15], k4 s2: onnxruntime rejects inputs below 6x7 (output_shape past the full result).
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 4, 4], strides=[2, 2], output_shape=[13, 15])
        onnx.save(model, str(tmp_path / "m.onnx"))
        assert verification_shapes(str(tmp_path / "m.onnx")).shapes == {"x": (1, 2, 8, 8)}

    def test_negative_no_size_fits(self, tmp_path: Path) -> None:
        onnx.save(mismatched_sizes(), str(tmp_path / "m.onnx"))
        with pytest.raises(SizesNeeded) as raised:
            verification_shapes(str(tmp_path / "m.onnx"))
        message = str(raised.value)
        assert "x [1, 3, H, W]" in message and "--input-shapes x:[1,3,H,W] with H and W bound" in message
        assert "\n" not in message

    def test_model_shape_inference_cannot_judge(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # onnxruntime judges alone (issue 16: it used to be 1, where the U-Net's Concat fails).
        from polygraphy_deconv.onnx_model import verify

        monkeypatch.setattr(verify, "_strict_inference", lambda model: None)
        onnx.save(unet(), str(tmp_path / "m.onnx"))
        sizes = verification_shapes(str(tmp_path / "m.onnx"))
        assert sizes.shapes == {"x": (1, 3, 2, 2)} and sizes.checked and sizes.judged_by == "onnxruntime"
        assert "the smallest sizes onnxruntime runs" in sizes.describe()

    def test_nothing_can_judge(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from polygraphy_deconv.onnx_model import verify

        monkeypatch.setattr(verify, "_strict_inference", lambda model: None)
        monkeypatch.setattr(verify.OnnxruntimeTrial, "runs", lambda self, shapes: None)
        onnx.save(unet(), str(tmp_path / "m.onnx"))
        sizes = verification_shapes(str(tmp_path / "m.onnx"))
        assert sizes.shapes == {"x": (1, 3, 1, 1)} and not sizes.checked
        assert "--input-shapes x:[1,3,H,W] (H and W bound)" in sizes.hint()

    def test_onnxruntime_rejects_sizes_shape_inference_accepts(self, tmp_path: Path) -> None:
        # A Gather of row 9 of the upsampled output: shape inference does not look at the index, onnxruntime
        # fails below 10 rows (2H), so 1, 2 and 4 are consistent for shape inference and do not run (issue 16).
        onnx.save(gather_after_upsample(), str(tmp_path / "m.onnx"))
        sizes = verification_shapes(str(tmp_path / "m.onnx"))
        assert sizes.shapes == {"x": (1, 2, 8, 8)} and sizes.judged_by == "inference+onnxruntime"
        assert "and onnxruntime runs" in sizes.describe()
        assert concrete_input_shapes(str(tmp_path / "m.onnx")) == {"x": (1, 2, 8, 8)}

    def test_negative_no_candidate_runs(self, tmp_path: Path) -> None:
        # Row 900 needs 2H > 900: beyond every candidate; one line with onnxruntime's reason and what to bind.
        onnx.save(gather_after_upsample(row=900), str(tmp_path / "m.onnx"))
        with pytest.raises(SizesNeeded) as raised:
            verification_shapes(str(tmp_path / "m.onnx"))
        message = str(raised.value)
        assert "\n" not in message and "and onnxruntime run it (onnxruntime: " in message and "idx=900" in message
        assert "--input-shapes x:[1,2,H,W] with H and W bound" in message

    def test_concrete_input_shapes(self, tmp_path: Path) -> None:
        # For tests/rtx: every input, static ones included, as ints.
        onnx.save(unet(("N", 3, "H", "W"), skip_shape=(1, 4, 24, 24)), str(tmp_path / "m.onnx"))
        assert concrete_input_shapes(str(tmp_path / "m.onnx")) == {"x": (1, 3, 24, 24), "skip": (1, 4, 24, 24)}
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3]), str(tmp_path / "s.onnx"))
        assert concrete_input_shapes(str(tmp_path / "s.onnx")) == {"x": (1, 2, 5, 6)}
