"""The window values and reference_window's rules that need no runtime (the runtime checks are in
test_window_onnxruntime.py)."""

from __future__ import annotations

import pytest

from polygraphy_deconv.core import (
    AxisWindow,
    ConvTransposeAttributes,
    UndecidableWindow,
    describe_window,
    full_length,
    reference_window,
    window_length,
)


class TestAxisWindow:
    def test_basic(self) -> None:
        window = AxisWindow(1, -2, 11)
        assert window.length == 12
        assert window.extension_before == 0 and window.extension_after == 2
        assert window.describe() == "[1:L+2] (12)"
        assert window.sliced(-1, 1) == AxisWindow(0, -3, 11)

    def test_dynamic(self) -> None:
        assert AxisWindow(1, 0).length is None
        assert describe_window((AxisWindow(1, 0), AxisWindow(0, -1, 13))) == "b=(1,0) e=(0,-1) -> ?x14"

    def test_full_length(self) -> None:
        assert full_length(5, 2, 3) == 11


class TestReferenceWindow:
    def test_basic(self) -> None:
        a = ConvTransposeAttributes.from_onnx("n", {"strides": [2], "pads": [1, 2], "output_padding": [1]}, (1, 1, 3))
        assert reference_window(a, [5]) == (AxisWindow(1, 1, 11),)

    def test_output_shape_split(self) -> None:
        # Odd total 3: NOTSET / SAME_LOWER begin at total - total // 2 = 2; SAME_UPPER at total // 2 = 1.
        for auto_pad, begin in (("NOTSET", 2), ("SAME_LOWER", 2), ("SAME_UPPER", 1)):
            a = ConvTransposeAttributes.from_onnx(
                "n", {"strides": [2], "output_shape": [8], "auto_pad": auto_pad}, (1, 1, 3)
            )
            (axis,) = reference_window(a, [5])
            assert (axis.begin, axis.length) == (begin, 8)

    def test_output_shape_negative_total(self) -> None:
        a = ConvTransposeAttributes.from_onnx("n", {"strides": [2], "output_shape": [12]}, (1, 1, 3))
        assert reference_window(a, [5]) == (AxisWindow(0, -1, 11),)

    def test_dynamic_without_output_shape(self) -> None:
        a = ConvTransposeAttributes.from_onnx("n", {"strides": [2, 2], "auto_pad": "SAME_UPPER"}, (1, 1, 3, 3))
        assert window_length(reference_window(a, [None, 5])) == (None, 10)

    def test_negative_dynamic_with_output_shape(self) -> None:
        a = ConvTransposeAttributes.from_onnx("n", {"strides": [2], "output_shape": [10]}, (1, 1, 3))
        with pytest.raises(UndecidableWindow, match="output_shape on W"):
            reference_window(a, [None])
