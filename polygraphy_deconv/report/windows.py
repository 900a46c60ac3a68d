"""Windows for people: in words, and as a picture on the full transposed-convolution result.

A window (core/window.py) keeps `[begin, L - trim)` of the full result of length L per axis. The
report says what that means instead of showing (begin, trim) pairs alone:

- `window_words(reference)`: what the reference keeps of the full result ("drops 1 element at the
  start on H and W", "extends 1 element past the full result on W");
- `difference_words(reference, actual)`: how another window (TensorRT's) differs from it ("starts 1
  element early on H and W", "1 element short on W");
- `axis_bars(full, spans)`: one bar per window over the full result, so a shift or a missing element
  is seen at a glance.

Pure (no rich, no onnx): the plugin's network report and `inspect` share it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from polygraphy_deconv.core.attributes import axis_names
from polygraphy_deconv.core.window import AxisWindow, Window

# Characters of a bar: one per element of the full result (or past it).
FULL = "="  # an element of the full transposed-convolution result
KEPT = "#"  # an element of the full result inside the window
CUT = "."  # an element of the full result the window leaves out
EXTENDED = "+"  # inside the window but past the full result: bias only
ZERO_EXTENDED = "0"  # past the full result, but holding 0 instead of the bias (TensorRT with a tensor bias)
ELIDED = "~"  # a run of identical elements left out of a long bar
MARK_MEANINGS = {
    FULL: "the full result",
    KEPT: "kept",
    CUT: "cut off",
    EXTENDED: "past the full result (bias only)",
    ZERO_EXTENDED: "past it, holding 0 instead of the bias",
    ELIDED: "a run of the same left out",
}


def bar_legend(used: set[str]) -> str:
    """What the characters of the bars drawn mean: '(bars: one character per element; = the full
    result, # kept, . cut off)', only for the characters in `used`."""
    meanings = [f"{mark} {meaning}" for mark, meaning in MARK_MEANINGS.items() if mark in used]
    return "(bars: one character per element; " + ", ".join(meanings) + ")"


MAX_PLAIN_BAR = 40  # a bar up to this many elements is drawn whole
RUN_EDGE = 2  # a longer bar keeps this many elements on each side of an elided run


def elements(count: int) -> str:
    return f"{count} element" if count == 1 else f"{count} elements"


def joined(names: Sequence[str]) -> str:
    """'H', 'H and W', 'D, H and W'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _grouped(phrases: Sequence[Sequence[str]], rank: int) -> list[str]:
    """Each phrase once, with the axes it applies to ('starts 1 element early on H and W'); a rank-1 node
    needs no axis name."""
    names = axis_names(rank)
    axes_of: dict[str, list[str]] = {}
    for axis, axis_phrases in enumerate(phrases):
        for phrase in axis_phrases:
            axes_of.setdefault(phrase, []).append(names[axis])
    if rank == 1:
        return list(axes_of)
    return [f"{phrase} on {joined(axes)}" for phrase, axes in axes_of.items()]


def _window_phrases(axis: AxisWindow) -> list[str]:
    phrases = []
    if axis.begin > 0:
        phrases.append(f"drops {elements(axis.begin)} at the start")
    elif axis.begin < 0:
        phrases.append(f"starts {elements(-axis.begin)} before the full result")
    if axis.trim > 0:
        phrases.append(f"drops {elements(axis.trim)} at the end")
    elif axis.trim < 0:
        phrases.append(f"extends {elements(-axis.trim)} past the full result")
    return phrases


def sizes_text(sizes: Sequence[int | None]) -> str:
    return "x".join("?" if size is None else str(size) for size in sizes)


def window_words(window: Window) -> str:
    """What the window keeps of the full result, e.g. '10x12 of the full 11x13: drops 1 element at the
    start on H and W'; sizes only where they are known."""
    phrases = "; ".join(_grouped([_window_phrases(axis) for axis in window], len(window)))
    lengths = [axis.length for axis in window]
    fulls = [axis.full for axis in window]
    if all(full is not None for full in fulls):
        if not phrases:
            return f"{sizes_text(lengths)}, the whole full result"
        return f"{sizes_text(lengths)} of the full {sizes_text(fulls)}: {phrases}"
    return phrases or "the whole full result"


def _difference_phrases(reference: AxisWindow, actual: AxisWindow) -> list[str]:
    phrases = []
    start = actual.begin - reference.begin
    if start < 0:
        phrases.append(f"starts {elements(-start)} early")
    elif start > 0:
        phrases.append(f"starts {elements(start)} late")
    # length = L - begin - trim, so the difference in length does not need L.
    longer = (reference.begin + reference.trim) - (actual.begin + actual.trim)
    if longer < 0:
        phrases.append(f"{elements(-longer)} short")
    elif longer > 0:
        phrases.append(f"{elements(longer)} long")
    return phrases


def difference_words(reference: Window, actual: Window) -> str:
    """How `actual` differs from `reference`: 'starts 1 element early on H and W', '1 element short on
    W', ...; 'the same window' when they agree."""
    phrases = _grouped([_difference_phrases(r, a) for r, a in zip(reference, actual)], len(reference))
    return "; ".join(phrases) if phrases else "the same window"


def _segment_cells(length: int, cell: str, elide: bool) -> str:
    if not elide or length <= 2 * RUN_EDGE + 1:
        return cell * length
    edge = cell * RUN_EDGE
    return edge + (ELIDED if cell != " " else " ") + edge


def axis_bars(
    full: int, spans: Sequence[tuple[int, int] | None], extensions: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """The bar of the full result and one bar per window, all of one width, on one scale.

    `spans` are windows as (begin, trim) (None: no window, an empty bar); `extensions` the character of
    each span's elements past the full result (default EXTENDED). Position x of the bars is
    element x of the full result (0 <= x < full); windows that start before it or extend past it widen
    every bar. A bar longer than MAX_PLAIN_BAR keeps RUN_EDGE elements on each side of every run in which
    no bar changes, and one ELIDED mark for the rest of the run, so every edge of every window stays.
    """
    windows = [(begin, full - trim) for begin, trim in (span for span in spans if span is not None)]
    low = min([0, *(start for start, end in windows if start < end)])
    high = max([full, *(end for start, end in windows if start < end)])
    edges = sorted({low, 0, full, high, *(x for window in windows for x in window if low <= x <= high)})
    elide = high - low > MAX_PLAIN_BAR
    marks = list(extensions) + [EXTENDED] * (len(spans) - len(extensions))
    full_bar: list[str] = []
    bars: list[list[str]] = [[] for _ in spans]
    for start, end in itertools.pairwise(edges):
        inside_full = 0 <= start < full
        full_bar.append(_segment_cells(end - start, FULL if inside_full else " ", elide))
        for bar, span, mark in zip(bars, spans, marks):
            if span is None:
                cell = " "
            else:
                begin, stop = span[0], full - span[1]
                inside = begin <= start < stop
                cell = (KEPT if inside_full else mark) if inside else (CUT if inside_full else " ")
            bar.append(_segment_cells(end - start, cell, elide))
    return "".join(full_bar), ["".join(bar) for bar in bars]


def span_text(span: tuple[int, int]) -> str:
    """'[1, L)', '[0, L-1)', '[0, L+2)': the part of the full result (length L) a window (begin, trim)
    keeps, half-open; the same text for every axis that has this window, whatever its L."""
    begin, trim = span
    end = "L" if trim == 0 else f"L{-trim:+d}"
    return f"[{begin}, {end})"


def axis_picture(
    fulls: Sequence[int], rows: Sequence[tuple[str, AxisWindow | None, str]], extensions: Sequence[str] = ()
) -> list[str]:
    """Lines of a picture of one or more axes with the same windows: the full result, then one bar per
    (label, window, remark) row, drawn on the first axis's full length `fulls[0]` (`extensions`: as
    for axis_bars).

    A row without a window shows its remark alone (e.g. 'parse error'). Labels are padded to one width;
    no line ends in a space.
    """
    spans = [None if window is None else (window.begin, window.trim) for _, window, _ in rows]
    full_bar, bars = axis_bars(fulls[0], spans, extensions)
    labels = ["full", *(label for label, _, _ in rows)]
    label_width = max(len(label) for label in labels)
    width = len(full_bar)
    lengths = joined(list(dict.fromkeys(str(full) for full in fulls)))
    lines = [f"{'full':<{label_width}}  {full_bar:<{width}}  L = {lengths}"]
    for (label, window, remark), bar, span in zip(rows, bars, spans):
        if span is None:
            text = f"{label:<{label_width}}  {remark}"
        else:
            text = f"{label:<{label_width}}  {bar:<{width}}  {span_text(span)}" + (f" {remark}" if remark else "")
        lines.append(text.rstrip())
    return lines


def picture_groups(
    windows: Sequence[Window | None],
    labels: Sequence[str],
    remarks: Sequence[str] = (),
    zero_extension: Sequence[bool] = (),
    used: set[str] | None = None,
    fits: Callable[[str, list[str]], bool] | None = None,
) -> list[tuple[str, list[str]]]:
    """Pictures of the windows of one node (the first is the reference, which must know every full
    length; one label per window; a remark shown where a window is None; `zero_extension` marks the
    windows whose elements past the full result hold 0 instead of the bias; `used` collects the bar
    characters drawn, for bar_legend). Axes whose windows have the same (begin, trim) share one picture,
    named 'H and W'. Returns (axes, lines) pairs; nothing when a full length is unknown. A picture that `fits(axes,
    lines)` refuses is left out (the words beside it say the same): pictures are drawn, never wrapped."""
    reference = windows[0]
    if reference is None or any(axis.full is None for axis in reference):
        return []
    names = axis_names(len(reference))
    remarks = list(remarks) + [""] * (len(labels) - len(remarks))
    groups: dict[tuple[object, ...], list[int]] = {}
    for axis in range(len(reference)):
        key = tuple(None if w is None else (w[axis].begin, w[axis].trim) for w in windows)
        groups.setdefault(key, []).append(axis)
    pictures = []
    for axes in groups.values():
        fulls = [reference[a].full or 0 for a in axes]
        rows = [
            (label, None if w is None else w[axes[0]], remark) for label, w, remark in zip(labels, windows, remarks)
        ]
        marks = [ZERO_EXTENDED if zero else EXTENDED for zero in zero_extension]
        picture = axis_picture(fulls, rows, marks)
        axes_label = joined([names[a] for a in axes])
        if fits is not None and not fits(axes_label, picture):
            continue
        if used is not None:
            spans = [None if window is None else (window.begin, window.trim) for _, window, _ in rows]
            full_bar, bars = axis_bars(fulls[0], spans, marks)
            used.update(full_bar, *bars)
            used.discard(" ")
        pictures.append((axes_label, picture))
    return pictures
