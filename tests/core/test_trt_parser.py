"""Predicted TensorRT ONNX-parser builds and verdicts, for every parser behaviour docs/deconv-semantics.md
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
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, PARSER_RULES, ParserRules, parser_rules


def finding(kernel: Sequence[int], sizes: Sequence[int | None], *, bias_is_tensor: bool = False,
            **attributes: Any) -> NodeFinding:
    attrs = ConvTransposeAttributes.from_onnx("deconv", attributes, (4, 2, *kernel))
    return analyse_node(attrs, sizes, bias_is_tensor=bias_is_tensor)


def begins_trims(window: Sequence[AxisWindow] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    assert window is not None
    return tuple(a.begin for a in window), tuple(a.trim for a in window)


class TestObservedBuilds:
    """docs/deconv-semantics.md section 4: what TensorRT-RTX 1.7.1's parser logged, predicted."""

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
    """docs/deconv-semantics.md section 3: the importer rules not covered by an observation."""

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

    def test_1d_output_shape_3_and_more_fail_with_negative_pre_padding(self) -> None:
        # 1D is unsqueezed to 2D and output_shape read one entry off: the added axis (I = S = K = 1) gets
        # total 1 - output_shape[-1], a negative pre-padding from 3 on (TensorRT-RTX 1.7.1: "negative pre-padding").
        for output_shape, sizes in (([6], [3]), ([3], [1]), ([5], [2])):
            f = finding([2], sizes, strides=[2], output_shape=output_shape)
            assert f.verdict is Verdict.PARSE_ERROR
            assert f.parser.window is None and f.parser.undefined is None
            assert "negative pre-padding" in (f.parser.parse_error or "")
            assert f.patch is not None  # fix rewrites it into explicit pads

    def test_1d_output_shape_2_fails_with_a_reshape_error(self) -> None:
        # total 1 - 2 = -1 on the added axis: pre 0, post -1, an extension to 2, and squeezing back to 1D fails
        # (TensorRT-RTX 1.7.1: "Invalid Node", a reshape error). Also where the real axis would be fine.
        for kernel, sizes, strides in (([1], [1], [1]), ([2], [1], [2]), ([3], [4], [2])):
            f = finding(kernel, sizes, strides=strides, output_shape=[2])
            assert f.verdict is Verdict.PARSE_ERROR
            assert f.parser.undefined is None
            assert "Invalid Node" in (f.parser.parse_error or "")

    def test_1d_output_shape_1_parses_with_length_1(self) -> None:
        # The real axis reads the word before the entries (their count, 1) as its output size; the added axis
        # gets 1 and is exact. The real axis is then an output_shape [1] build: pre = total / 2 (C++), onnxruntime
        # begins at the larger half: an odd total is shifted, an even one is ok.
        odd = finding([2], [3], strides=[2], output_shape=[1])  # L 6, total 5: parser begins 2, onnxruntime 3
        assert odd.verdict is Verdict.SHIFTED
        assert begins_trims(odd.parser.window) == ((2,), (3,))
        assert window_length(odd.parser.window or ()) == (1,)
        assert begins_trims(odd.reference) == ((3,), (2,))
        even = finding([3], [2], strides=[2], output_shape=[1])  # L 5, total 4: both begin at 2
        assert even.verdict is Verdict.OK
        assert begins_trims(even.parser.window) == ((2,), (2,))
        one = finding([1], [1], output_shape=[1])
        assert one.verdict is Verdict.OK and begins_trims(one.parser.window) == ((0,), (0,))

    def test_1d_output_shape_1_with_output_padding(self) -> None:
        # output_padding is in the total and subtracted from post once more: still 1 long.
        f = finding([2], [3], strides=[2], output_shape=[1], output_padding=[1])  # total 6: pre 3, post 3 - 1
        assert begins_trims(f.parser.window) == ((3,), (2,))
        assert window_length(f.parser.window or ()) == (1,)
        assert f.verdict is Verdict.OK

    def test_1d_output_shape_never_unpredictable_in_spatial_form(self) -> None:
        for size in range(1, 5):
            for target in range(1, 10):
                f = finding([3], [size], strides=[2], output_shape=[target])
                assert f.parser.undefined is None
                assert (f.parser.window is None) == (target >= 2)

    def test_1d_output_shape_with_batch_channel(self) -> None:
        # [N, C, O]: the added axis still gets O; the real axis gets C, which the prediction does not see.
        assert finding([2], [3], strides=[2], output_shape=[1, 4, 2]).verdict is Verdict.PARSE_ERROR
        assert finding([2], [3], strides=[2], output_shape=[1, 4, 7]).verdict is Verdict.PARSE_ERROR
        unknown = finding([2], [3], strides=[2], output_shape=[1, 4, 1])
        assert unknown.parser.window is None and unknown.parser.parse_error is None
        assert unknown.parser.undefined is not None and "channel" in unknown.parser.undefined

    def test_output_shape_on_bound_dynamic_sizes(self) -> None:
        # The parser reads the model's dims (-1 where dynamic), not the sizes a run binds (rule 1, issue 16):
        # a parse error, while the bound sizes still give the ONNX window and the patch.
        attrs = ConvTransposeAttributes.from_onnx("deconv", {"strides": [2, 2], "output_shape": [31, 31]}, (4, 2, 3, 3))
        bound = analyse_node(attrs, [16, 16], model_sizes=[None, None])
        assert bound.verdict is Verdict.PARSE_ERROR
        assert "pre-padding -16" in (bound.parser.parse_error or "") and "--input-shapes" in bound.reason
        assert bound.reference is not None and window_length(bound.reference) == (31, 31)
        assert bound.patch is not None and bound.model_input_sizes == (None, None)
        # Sizes the model declares itself are the parser's too.
        assert analyse_node(attrs, [16, 16], model_sizes=[16, 16]).verdict is Verdict.OK
        assert analyse_node(attrs, [16, 16]).verdict is Verdict.OK
        build = predict_parser_build(attrs, [16, 16], model_sizes=[16, None])
        assert build.parse_error is not None and "on W" in build.parse_error

    def test_1d_output_shape_dynamic_size(self) -> None:
        # A dynamic real axis is -1 to the parser: total S * -2 + DK + op - 1 is negative here, and that axis
        # is checked before the added one.
        f = finding([3], [None], strides=[2], output_shape=[1])
        assert f.verdict is Verdict.PARSE_ERROR
        assert "dynamic input size on W" in (f.parser.parse_error or "")

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


class TestParserRulesByVersion:
    """Rules that differ by TensorRT version: auto_pad SAME_* next to a pads attribute (even all zeros) fails
    the parse from TensorRT 10 on (getKernelParams, onnx/onnx-tensorrt@release/10.0-GA:importerUtils.cpp:820-822,
    an ASSERT with kINVALID_NODE) and parses on 8.5/8.6, whose check is a C assert that release builds compile
    out (@release/8.6-GA:onnx2trt_utils.cpp:1149)."""

    @staticmethod
    def same_with_pads(auto_pad: str, rules: ParserRules | None = None, **extra: Any) -> NodeFinding:
        attrs = ConvTransposeAttributes.from_onnx(
            "deconv", {"strides": [2, 2], "auto_pad": auto_pad, "pads": [0, 0, 0, 0], **extra}, (4, 2, 3, 3)
        )
        return analyse_node(attrs, [5, 6]) if rules is None else analyse_node(attrs, [5, 6], rules=rules)

    @pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER"])
    @pytest.mark.parametrize("rules", ["10", "11", "rtx"])
    def test_same_with_pads_fails_from_10_on(self, auto_pad: str, rules: ParserRules) -> None:
        f = self.same_with_pads(auto_pad, rules)
        assert f.verdict is Verdict.PARSE_ERROR
        assert "Pads attribute should not be specified" in f.reason
        assert f.patch is not None and f.reference is not None

    @pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER"])
    def test_same_with_pads_parses_on_8_6_as_without_pads(self, auto_pad: str) -> None:
        with_pads = self.same_with_pads(auto_pad, "8.6")
        attrs = ConvTransposeAttributes.from_onnx("deconv", {"strides": [2, 2], "auto_pad": auto_pad}, (4, 2, 3, 3))
        without = analyse_node(attrs, [5, 6], rules="8.6")
        assert with_pads.parser.parse_error is None
        assert with_pads.parser.window == without.parser.window
        assert with_pads.verdict is without.verdict is Verdict.OK

    def test_same_with_pads_on_8_6_judged_as_without_pads(self) -> None:
        # SAME_UPPER with output_padding: TensorRT's SAME puts the odd element at the end (shifted), pads or not.
        f = self.same_with_pads("SAME_UPPER", "8.6", output_padding=[1, 1])
        attrs = ConvTransposeAttributes.from_onnx(
            "deconv", {"strides": [2, 2], "auto_pad": "SAME_UPPER", "output_padding": [1, 1]}, (4, 2, 3, 3)
        )
        assert f.verdict is analyse_node(attrs, [5, 6], rules="8.6").verdict is Verdict.SHIFTED

    def test_default_is_the_newest_rules(self) -> None:
        assert NEWEST_RULES == "11" and PARSER_RULES == ("8.6", "10", "11", "rtx")
        assert self.same_with_pads("SAME_UPPER").verdict is Verdict.PARSE_ERROR

    @pytest.mark.parametrize("rules", ["8.6", "10", "11", "rtx"])
    def test_valid_and_notset_with_pads_do_not_depend_on_the_version(self, rules: ParserRules) -> None:
        valid = self.same_with_pads("VALID", rules)
        assert valid.parser.parse_error is None and valid.verdict is Verdict.OK
        notset = analyse_node(
            ConvTransposeAttributes.from_onnx("deconv", {"strides": [2, 2], "pads": [1, 1, 1, 1]}, (4, 2, 3, 3)),
            [5, 6], rules=rules,
        )
        assert notset.verdict is Verdict.OK

    @pytest.mark.parametrize(
        ("version", "rules"),
        [("8.5", "8.6"), ("8.6", "8.6"), ("8.6.1", "8.6"), ("10", "10"), ("10.3.0", "10"), ("11.4", "11"), ("11", "11"),
         ("rtx", "rtx"), ("RTX", "rtx"), ("rtx-1.7", "rtx")],
    )
    def test_parser_rules_of_a_version(self, version: str, rules: str) -> None:
        assert parser_rules(version) == rules

    @pytest.mark.parametrize("version", ["7.2", "8.4", "9.0", "12", "", "ten", "rtx-2"])
    def test_parser_rules_unknown_version(self, version: str) -> None:
        with pytest.raises(ValueError, match="give 8.6"):
            parser_rules(version)
