"""Windows in words and as bars (polygraphy_deconv/report/windows.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from polygraphy_deconv.core.window import AxisWindow
from polygraphy_deconv.report.windows import (
    CUT,
    ELIDED,
    EXTENDED,
    FULL,
    KEPT,
    MAX_PLAIN_BAR,
    ZERO_EXTENDED,
    axis_bars,
    axis_picture,
    bar_legend,
    difference_words,
    picture_groups,
    span_text,
    window_words,
)


def window(*axes: tuple[int, int, int | None]) -> tuple[AxisWindow, ...]:
    return tuple(AxisWindow(begin, trim, full) for begin, trim, full in axes)


class TestWords:
    def test_shifted_starts_early(self) -> None:
        reference = window((1, 0, 11), (1, 0, 13))
        tensorrt = window((0, 1, 11), (0, 1, 13))
        assert difference_words(reference, tensorrt) == "starts 1 element early on H and W"
        assert window_words(reference) == "10x12 of the full 11x13: drops 1 element at the start on H and W"

    def test_short_on_one_axis(self) -> None:
        reference = window((0, 0, 11), (0, 0, 13))
        tensorrt = window((0, 0, 11), (0, 1, 13))
        assert difference_words(reference, tensorrt) == "1 element short on W"

    def test_extension_past_the_end(self) -> None:
        reference = window((0, -2, 30), (0, -1, 36))
        assert window_words(reference) == (
            "32x37 of the full 30x36: extends 2 elements past the full result on H; "
            "extends 1 element past the full result on W"
        )

    def test_3d_and_several_differences(self) -> None:
        reference = window((1, 0, 9), (1, 0, 9), (0, 0, 9))
        tensorrt = window((0, 0, 9), (0, 1, 9), (0, 0, 9))
        assert difference_words(reference, tensorrt) == "starts 1 element early on D and H; 1 element long on D"

    def test_1d_names_no_axis(self) -> None:
        assert difference_words(window((1, 0, 11)), window((0, 1, 11))) == "starts 1 element early"
        assert difference_words(window((0, 0, 11)), window((2, 0, 11))) == "starts 2 elements late; 2 elements short"

    def test_same_and_whole(self) -> None:
        reference = window((0, 0, 11), (0, 0, 13))
        assert difference_words(reference, reference) == "the same window"
        assert window_words(reference) == "11x13, the whole full result"

    def test_dynamic_full_length(self) -> None:
        assert window_words(window((1, 0, None), (1, 0, None))) == "drops 1 element at the start on H and W"


class TestBars:
    def test_shifted_by_one(self) -> None:
        full, (onnx, tensorrt) = axis_bars(11, [(1, 0), (0, 1)])
        assert full == FULL * 11
        assert onnx == CUT + KEPT * 10
        assert tensorrt == KEPT * 10 + CUT

    def test_one_element_short(self) -> None:
        full, (onnx, tensorrt) = axis_bars(5, [(0, 0), (0, 1)])
        assert (full, onnx, tensorrt) == ("=====", "#####", "####.")

    def test_extension_past_the_end_widens_every_bar(self) -> None:
        full, (onnx, tensorrt) = axis_bars(
            4,
            [(0, -2), None],
        )
        assert full == FULL * 4 + "  "
        assert onnx == KEPT * 4 + EXTENDED * 2
        assert tensorrt == " " * 6

    def test_extension_holding_zero(self) -> None:
        _, (onnx, tensorrt) = axis_bars(3, [(0, -1), (0, -1)], [EXTENDED, ZERO_EXTENDED])
        assert onnx == "###+" and tensorrt == "###0"

    def test_starts_before_the_full_result(self) -> None:
        full, (bar,) = axis_bars(3, [(-1, 0)])
        assert full == " ===" and bar == "+###"

    def test_long_bar_keeps_every_edge(self) -> None:
        full, (onnx, tensorrt) = axis_bars(300, [(3, -1), (0, 1)])
        assert full == "=====~===" + " "
        assert onnx == "...##~###+"
        assert tensorrt == "#####~##. "
        assert ELIDED in full and len(full) == len(onnx) == len(tensorrt)

    @given(
        st.integers(1, 500),
        st.lists(st.tuples(st.integers(-5, 20), st.integers(-5, 20)), min_size=1, max_size=3),
    )
    def test_bars_have_one_width_and_one_scale(self, full: int, spans: list[tuple[int, int]]) -> None:
        full_bar, bars = axis_bars(full, spans)
        assert all(len(bar) == len(full_bar) for bar in bars)
        if len(full_bar) <= MAX_PLAIN_BAR and ELIDED not in full_bar:
            # Drawn whole: one character per element, every window's kept count exact.
            for (begin, trim), bar in zip(spans, bars):
                kept = max(0, min(full, full - trim) - max(0, begin))
                assert bar.count(KEPT) == kept


class TestPicture:
    def test_lines(self) -> None:
        lines = axis_picture([11, 13], [("ONNX", AxisWindow(1, 0, 11), ""), ("TensorRT", AxisWindow(0, 1, 11), "")])
        assert lines == [
            "full      ===========  L = 11 and 13",
            "ONNX      .##########  [1, L)",
            "TensorRT  ##########.  [0, L-1)",
        ]

    def test_missing_window_and_no_trailing_space(self) -> None:
        lines = axis_picture([30], [("ONNX", AxisWindow(0, -2, 30), ""), ("TensorRT", None, "parse error")])
        assert lines[-1] == "TensorRT  parse error"
        assert lines[1].endswith("[0, L+2)")
        assert all(line == line.rstrip() for line in lines)

    def test_groups_axes_with_the_same_windows(self) -> None:
        reference = window((1, 0, 11), (1, 0, 13), (0, 0, 7))
        tensorrt = window((0, 1, 11), (0, 1, 13), (0, 0, 7))
        groups = picture_groups([reference, tensorrt], ["ONNX", "TensorRT"])
        assert [axes for axes, _ in groups] == ["D and H", "W"]

    def test_no_picture_without_full_lengths(self) -> None:
        assert picture_groups([window((1, 0, None)), window((0, 1, None))], ["ONNX", "TensorRT"]) == []
        assert picture_groups([None, window((0, 1, 5))], ["ONNX", "TensorRT"]) == []

    def test_span_text(self) -> None:
        assert [span_text(s) for s in [(1, 0), (0, 1), (0, -2)]] == ["[1, L)", "[0, L-1)", "[0, L+2)"]


def test_legend_names_only_the_characters_drawn() -> None:
    used: set[str] = set()
    reference = window((0, -1, 11), (0, -1, 13))
    picture_groups([reference, reference], ["ONNX", "TensorRT"], zero_extension=[False, True], used=used)
    assert used == {FULL, KEPT, EXTENDED, ZERO_EXTENDED}
    assert bar_legend(used) == (
        "(bars: one character per element; = the full result, # kept, + past the full result (bias only), "
        "0 past it, holding 0 instead of the bias)"
    )
