"""TensorRT's deconvolution layer as a window, and the patch plan that gives it any wanted window.

TensorRT's documented rules (include/NvInfer.h, IDeconvolutionLayer / PaddingMode): explicit modes crop
pre at the start and post at the end; SAME_UPPER gives O = min(I * S, L) with P = max(DK - S, 0),
pre = P // 2; SAME_LOWER swaps pre and post; the padding mode wins over pre/post padding.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from polygraphy_deconv.core import (
    AxisWindow,
    DeconvolutionGeometry,
    DeconvolutionPatch,
    deconvolution_window,
    full_length,
    patched_window,
    plan_patch,
    window_length,
)

PROPERTY = settings(derandomize=True, max_examples=500, deadline=None)


@st.composite
def geometries(draw: st.DrawFn) -> DeconvolutionGeometry:
    rank = draw(st.integers(1, 3))
    axes = st.integers(1, 6)
    return DeconvolutionGeometry(
        input_sizes=tuple(draw(st.one_of(axes, st.none())) for _ in range(rank)),
        strides=tuple(draw(axes) for _ in range(rank)),
        kernel=tuple(draw(axes) for _ in range(rank)),
        dilations=tuple(draw(st.integers(1, 3)) for _ in range(rank)),
        pre_padding=tuple(draw(st.integers(0, 4)) for _ in range(rank)),
        post_padding=tuple(draw(st.integers(0, 4)) for _ in range(rank)),
        padding_mode=draw(st.sampled_from(["EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP", "SAME_UPPER", "SAME_LOWER"])),
    )


def fulls(geometry: DeconvolutionGeometry) -> tuple[int | None, ...]:
    return tuple(
        None if size is None else full_length(size, stride, dk)
        for size, stride, dk in zip(geometry.input_sizes, geometry.strides, geometry.dilated_kernel)
    )


class TestPlanPatch:
    @PROPERTY
    @given(geometries(), st.data())
    def test_basic(self, geometry: DeconvolutionGeometry, data: st.DataObject) -> None:
        # Any wanted window, begins and trims possibly negative (extensions at either end).
        offsets = st.integers(-6, 6)
        wanted = tuple(AxisWindow(data.draw(offsets), data.draw(offsets), full) for full in fulls(geometry))
        assume(all(a.length is None or a.length >= 1 for a in wanted))  # an output has at least one element
        patch = plan_patch(wanted)
        assert patched_window(geometry, patch) == wanted
        assert all(v >= 0 for v in (*patch.pre_padding, *patch.post_padding))
        # The deconvolution itself is never empty; only then does the slice crop (a negative extension).
        for axis, pre, post, before, after in zip(
            wanted, patch.pre_padding, patch.post_padding, patch.extension_before, patch.extension_after
        ):
            degenerate = axis.full is not None and max(axis.begin, 0) + max(axis.trim, 0) >= axis.full
            if axis.full is not None:
                assert axis.full - pre - post >= 1
            assert (before < 0 or after < 0) == degenerate
        assert patch.needs_extension == any(a.begin < 0 or a.trim < 0 for a in wanted)

    def test_window_past_the_full_result(self) -> None:
        # I = 1, K = 1, S = 2, output_padding 1, pads_begin 1: L = 1 and the window is (1, -1): the
        # output is the one bias-only element after the full result. The deconvolution keeps its one
        # element, the slice crops it and extends by one.
        patch = plan_patch((AxisWindow(1, -1, 1),))
        assert patch == DeconvolutionPatch((0,), (0,), (-1,), (1,))

    def test_extension_after(self) -> None:
        patch = plan_patch((AxisWindow(0, -1, 11), AxisWindow(1, 0, 13)))
        assert patch == DeconvolutionPatch((0, 1), (0, 0), (0, 0), (1, 0))
        assert patch.describe() == "pre=[0, 1] post=[0, 0] explicit + fill-slice(before=[0, 0], after=[1, 0]) + bias add"

    def test_negative_no_extension(self) -> None:
        patch = plan_patch((AxisWindow(1, 0, 11),))
        assert not patch.needs_extension
        assert patch.describe() == "pre=[1] post=[0] explicit"


class TestDeconvolutionWindow:
    @PROPERTY
    @given(geometries())
    def test_basic(self, geometry: DeconvolutionGeometry) -> None:
        window = deconvolution_window(geometry)
        assert tuple(a.full for a in window) == fulls(geometry)
        for axis, size, stride, dk, pre, post in zip(window, geometry.input_sizes, geometry.strides,
                                                      geometry.dilated_kernel, geometry.pre_padding,
                                                      geometry.post_padding):
            if geometry.padding_mode.startswith("SAME"):
                # The padding mode wins over pre/post padding.
                padding = max(dk - stride, 0)
                small, large = padding // 2, padding - padding // 2
                assert axis.begin == (small if geometry.padding_mode == "SAME_UPPER" else large)
                assert axis.begin + axis.trim == padding
                if size is not None:
                    assert axis.length == min(size * stride, full_length(size, stride, dk))
            else:
                assert (axis.begin, axis.trim) == (pre, post)

    def test_same_upper(self) -> None:
        # k3 s2 from 5x6: P = 1, pre 0, post 1, O = I * S.
        geometry = DeconvolutionGeometry((5, 6), (2, 2), (3, 3), (1, 1), (7, 7), (7, 7), "SAME_UPPER")
        assert window_length(deconvolution_window(geometry)) == (10, 12)
        assert [a.begin for a in deconvolution_window(geometry)] == [0, 0]

    def test_negative_same_lower_differs_from_upper(self) -> None:
        upper = DeconvolutionGeometry((5,), (2,), (4,), (1,), (0,), (0,), "SAME_UPPER")
        lower = DeconvolutionGeometry((5,), (2,), (4,), (1,), (0,), (0,), "SAME_LOWER")
        assert deconvolution_window(upper)[0].begin == 1
        assert deconvolution_window(lower)[0].begin == 1
        odd_upper = DeconvolutionGeometry((5,), (2,), (5,), (1,), (0,), (0,), "SAME_UPPER")
        odd_lower = DeconvolutionGeometry((5,), (2,), (5,), (1,), (0,), (0,), "SAME_LOWER")
        assert deconvolution_window(odd_upper)[0].begin == 1
        assert deconvolution_window(odd_lower)[0].begin == 2
