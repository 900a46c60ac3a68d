"""Predicted TensorRT ONNX-parser builds and verdicts, for every parser behaviour deconv-semantics.md
documents (section 3) and every build TensorRT-RTX 1.7.1's parser logged (section 4).

Each test asserts the verdict AND the window the parser is predicted to build (begin b, trim e per axis;
the length is L - b - e). The importer arithmetic was re-read at the source (onnx/onnx-tensorrt main,
onnxOpImporters.cpp importConvTranspose, importerUtils.cpp generatePadding): see core/trt_parser.py.
No test here runs TensorRT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from polygraphy_deconv.core import (
    AxisWindow,
    ConvTransposeAttributes,
    NodeFinding,
    Verdict,
    analyse_node,
    patched_window,
    predict_parser_build,
    window_length,
)
from polygraphy_deconv.core.deconvolution import DeconvolutionGeometry


def finding(kernel: Sequence[int], sizes: Sequence[int | None], *, bias_is_tensor: bool = False,
            **attributes: Any) -> NodeFinding:
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, (4, 2, *kernel))
    return analyse_node(attrs, sizes, bias_is_tensor=bias_is_tensor)


def begins_trims(window: Sequence[AxisWindow] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    assert window is not None
    return tuple(a.begin for a in window), tuple(a.trim for a in window)


class TestObservedBuilds:
    """deconv-semantics.md section 4: what TensorRT-RTX 1.7.1's parser logged, predicted."""

    def test_basic(self) -> None:
        # k3 s2 pads 1 output_padding 1: pre (1,1), post (0,0), 10x12: correct.
        f = finding([3, 3], [5, 6], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1, 1), (0, 0))
        assert window_length(f.parser.window or ()) == (10, 12)
        assert not f.parser.extension
        assert f.parser.window == f.reference
        assert f.patch is None

    def test_extension_with_bias(self) -> None:
        # k3 s2 pads 0 output_padding 1 with bias: pre 0, post 0, then a zero extension by (1,1) and a bias add.
        f = finding([3, 3], [5, 6], strides=[2, 2], output_padding=[1, 1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((0, 0), (-1, -1))
        assert f.parser.extension and f.parser.extension_has_bias
        assert window_length(f.parser.window or ()) == (12, 14)

    def test_output_shape_odd_total_is_shifted(self) -> None:
        # output_shape [10,12] from 5x6 (odd total 1): pre (0,0), post (1,1); onnxruntime begins at 1.
        f = finding([3, 3], [5, 6], strides=[2, 2], output_shape=[10, 12])
        assert f.verdict is Verdict.SHIFTED
        assert begins_trims(f.parser.window) == ((0, 0), (1, 1))
        assert begins_trims(f.reference) == ((1, 1), (0, 0))
        assert window_length(f.parser.window or ()) == window_length(f.reference or ()) == (10, 12)

    def test_same_upper_drops_output_padding(self) -> None:
        # SAME_UPPER with output_padding [1,1]: the same layer as without output_padding. onnxruntime counts the
        # output_padding (begin 1), TensorRT's SAME_UPPER begins at 0: same 10x12 shape, shifted values.
        f = finding([3, 3], [5, 6], strides=[2, 2], auto_pad="SAME_UPPER", output_padding=[1, 1])
        without = finding([3, 3], [5, 6], strides=[2, 2], auto_pad="SAME_UPPER")
        assert f.parser.window == without.parser.window
        assert begins_trims(f.parser.window) == ((0, 0), (1, 1))
        assert begins_trims(f.reference) == ((1, 1), (0, 0))
        assert f.verdict is Verdict.SHIFTED
        assert without.verdict is Verdict.OK

    def test_same_upper_ignores_output_shape(self) -> None:
        # SAME_UPPER with output_shape [11,13]: 10x12, output_shape ignored: wrong shape.
        f = finding([3, 3], [5, 6], strides=[2, 2], auto_pad="SAME_UPPER", output_shape=[11, 13])
        assert f.verdict is Verdict.WRONG_SHAPE
        assert window_length(f.parser.window or ()) == (10, 12)
        assert window_length(f.reference or ()) == (11, 13)

    def test_negative_pre_padding_fails_to_parse(self) -> None:
        # k3 s3 output_shape 11 from 3 (natural 9): total -2, pre -1: "negative pre-padding".
        f = finding([3, 3], [3, 3], strides=[3, 3], output_shape=[11, 11])
        assert f.verdict is Verdict.PARSE_ERROR
        assert f.parser.window is None
        assert f.parser.parse_error is not None and "negative pre-padding" in f.parser.parse_error
        # onnxruntime accepts it (11 - 9 < stride 3): the output extends past L by 2 with bias only.
        assert begins_trims(f.reference) == ((0, 0), (-2, -2))
        assert f.patch is not None and f.patch.extension_after == (2, 2)

    def test_1d(self) -> None:
        # 1D x=[1,2,3], kernel 2, s2, pads 1, output_padding 1: pre 1, post 0, 5 elements: correct.
        f = finding([2], [3], strides=[2], pads=[1, 1], output_padding=[1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1,), (0,))
        assert window_length(f.parser.window or ()) == (5,)


class TestDocumentedRules:
    """deconv-semantics.md section 3: the importer rules not covered by an observation."""

    def test_basic(self) -> None:
        # pads >= output_padding: post = pads_end - op, no extension.
        f = finding([4, 4], [7, 7], strides=[2, 2], pads=[1, 2, 2, 1], output_padding=[1, 1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1, 2), (1, 0))

    def test_dynamic_input_with_output_shape_fails_to_parse(self) -> None:
        f = finding([3, 3], [None, None], strides=[2, 2], output_shape=[10, 12])
        assert f.verdict is Verdict.PARSE_ERROR
        assert f.reference is None
        assert f.parser.parse_error is not None and "dynamic" in f.parser.parse_error

    def test_dynamic_input_with_output_shape_importer_arithmetic(self) -> None:
        # The parser reads the dynamic size as -1: total = S * (-2) + op + DK - output_shape. A large kernel
        # keeps pre >= 0; the parse then succeeds, and nothing is decided until the size is bound.
        f = finding([7, 7], [None, None], output_shape=[2, 2])
        assert f.parser.parse_error is None
        assert begins_trims(f.parser.window) == ((1, 1), (2, 2))  # total = -2 + 7 - 2 = 3
        assert f.verdict is Verdict.UNDECIDED

    def test_dynamic_input_without_output_shape_is_decided(self) -> None:
        f = finding([3, 3], [None, None], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1, 1), (0, 0))

    def test_tensor_bias_with_extension(self) -> None:
        f = finding([3, 3], [5, 6], strides=[2, 2], output_padding=[1, 1], bias_is_tensor=True)
        assert f.verdict is Verdict.TENSOR_BIAS
        assert begins_trims(f.parser.window) == ((0, 0), (-1, -1))
        assert f.parser.extension and not f.parser.extension_has_bias
        assert f.patch is not None and f.patch.needs_extension

    def test_tensor_bias_without_extension(self) -> None:
        f = finding([3, 3], [5, 6], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], bias_is_tensor=True)
        assert f.verdict is Verdict.OK

    def test_output_shape_even_total_is_ok(self) -> None:
        f = finding([3, 3], [5, 6], strides=[2, 2], output_shape=[9, 11])  # totals 2
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1, 1), (1, 1))

    def test_output_shape_with_output_padding(self) -> None:
        # onnx's test_convtranspose_kernel_shape: strides [3,2], output_shape [10,8], output_padding [1,1] from
        # 3x3, k3. total = L + op - output_shape = 0; the parser subtracts output_padding from post again
        # (generatePadding put it in total, importConvTranspose subtracts it from endPadding): post -1,
        # an extension by 1, and the output is output_shape long.
        f = finding([3, 3], [3, 3], strides=[3, 2], output_shape=[10, 8], output_padding=[1, 1])
        assert begins_trims(f.parser.window) == ((0, 0), (-1, -1))
        assert f.parser.extension
        assert window_length(f.parser.window or ()) == (10, 8)
        assert f.verdict is Verdict.OK

    def test_output_shape_beyond_full_with_output_padding_loses_it(self) -> None:
        # total = 9 + 1 - 11 = -1: pre 0, post -1; the parser replaces output_padding by -post = 1, so the
        # output is 10 long where onnxruntime's is 11.
        f = finding([3, 3], [3, 3], strides=[3, 3], output_shape=[11, 11], output_padding=[1, 1])
        assert begins_trims(f.parser.window) == ((0, 0), (-1, -1))
        assert window_length(f.parser.window or ()) == (10, 10)
        assert window_length(f.reference or ()) == (11, 11)
        assert f.verdict is Verdict.WRONG_SHAPE

    def test_output_shape_with_batch_channel(self) -> None:
        # The importer offsets output_shape by its length difference: N, C are skipped.
        f = finding([3, 3], [5, 6], strides=[2, 2], output_shape=[1, 4, 10, 12])
        assert f.verdict is Verdict.SHIFTED
        assert begins_trims(f.parser.window) == ((0, 0), (1, 1))

    def test_same_lower_with_output_padding(self) -> None:
        # SAME_LOWER puts the odd padding element at the start, like onnxruntime's split of the total that
        # counts output_padding: with k3 s2 op1 both begin at 1.
        f = finding([3, 3], [5, 6], strides=[2, 2], auto_pad="SAME_LOWER", output_padding=[1, 1])
        assert f.verdict is Verdict.OK
        assert begins_trims(f.parser.window) == ((1, 1), (0, 0))

    def test_same_with_kernel_below_stride(self) -> None:
        # DK < S: TensorRT's SAME output is min(I * S, L) = L; onnxruntime's with output_padding is L + op.
        f = finding([1, 1], [4, 4], strides=[2, 2], auto_pad="SAME_UPPER", output_padding=[1, 1])
        assert window_length(f.parser.window or ()) == (7, 7)
        assert window_length(f.reference or ()) == (8, 8)
        assert f.verdict is Verdict.WRONG_SHAPE
        assert finding([1, 1], [4, 4], strides=[2, 2], auto_pad="SAME_UPPER").verdict is Verdict.OK

    def test_valid_ignores_output_padding(self) -> None:
        f = finding([3, 3], [5, 6], strides=[2, 2], auto_pad="VALID", output_padding=[1, 1])
        assert begins_trims(f.parser.window) == ((0, 0), (0, 0))
        assert begins_trims(f.reference) == ((0, 0), (-1, -1))
        assert f.verdict is Verdict.WRONG_SHAPE

    def test_1d_output_shape(self) -> None:
        # 1D is unsqueezed to 2D and output_shape read one entry off: the added axis (I = S = K = 1) gets
        # total 1 - output_shape[-1], a negative pre-padding from 3 on; below that the result is undefined.
        f = finding([2], [3], strides=[2], output_shape=[6])
        assert f.verdict is Verdict.PARSE_ERROR
        small = finding([1], [1], output_shape=[2])
        assert small.verdict is Verdict.WRONG_SHAPE
        assert small.parser.window is None and small.parser.undefined is not None

    @pytest.mark.parametrize(
        "attributes",
        [
            {"strides": [2, 2], "output_shape": [10, 12]},
            {"strides": [2, 2], "auto_pad": "SAME_UPPER", "output_shape": [11, 13]},
            {"strides": [2, 2], "auto_pad": "SAME_UPPER", "output_padding": [1, 1]},
            {"strides": [3, 3], "output_shape": [11, 11]},
            {"strides": [2, 2], "auto_pad": "VALID", "output_padding": [1, 1]},
        ],
    )
    def test_patch_gives_the_reference(self, attributes: dict[str, Any]) -> None:
        f = finding([3, 3], [5, 6], **attributes)
        assert f.verdict.needs_patch and f.patch is not None and f.reference is not None
        geometry = DeconvolutionGeometry((5, 6), f.attributes.strides, f.attributes.kernel_shape,
                                         f.attributes.dilations, (0, 0), (0, 0))
        assert patched_window(geometry, f.patch) == f.reference

    def test_negative_prediction_can_differ(self) -> None:
        # The parser's window is predicted from the attributes, not copied from the reference.
        attrs = ConvTransposeAttributes.from_onnx("deconv", {"strides": [2, 2], "output_shape": [10, 12]}, (4, 2, 3, 3))
        build = predict_parser_build(attrs, [5, 6])
        assert build.window != analyse_node(attrs, [5, 6]).reference
