"""The inspect report for people: blocks at every width from 80 up, pictures, grouping and the caps."""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.core.finding import NodeFinding, Verdict
from polygraphy_deconv.core.window import describe_window
from polygraphy_deconv.report.inspect_table import (
    NOT_OK_GROUPS_SHOWN,
    OK_ROWS_SHOWN,
    group_findings,
    make_console,
    print_inspect_report,
    print_notes,
    print_rewrites,
    print_wrapped,
)
from polygraphy_deconv.report.layout import cell_width, patch_atoms
from polygraphy_deconv.text import shown
from tests.strategies import Draw, conv_transposes

WIDTHS = (80, 81, 97, 120, 160, 200)


def finding(
    name: str,
    sizes: Sequence[int | None] = (5, 6),
    weight: Sequence[int] = (2, 2, 3, 3),
    bias_is_tensor: bool = False,
    **attributes: object,
) -> NodeFinding:
    rank = len(sizes)
    attrs = ConvTransposeAttributes.from_onnx(name, {"strides": [2] * rank, **attributes}, list(weight))
    return analyse_node(attrs, list(sizes), bias_is_tensor=bias_is_tensor)


def every_verdict() -> list[NodeFinding]:
    """One node of each verdict (mixed.onnx's), a 3D one with the longest patch, and a dynamic one."""
    return [
        finding("up_pads", pads=[1, 1, 1, 1], output_padding=[1, 1]),
        finding("up_output_shape_odd", output_shape=[10, 12]),
        finding("up_output_shape_past_end", (10, 12), strides=[3, 3], output_shape=[32, 38]),
        finding("up_same_upper_output_shape", auto_pad="SAME_UPPER", output_shape=[11, 13]),
        finding("up_bias_from_x", output_padding=[1, 1], bias_is_tensor=True),
        finding("up_3d_bias", (4, 5, 6), (2, 2, 3, 3, 3), output_padding=[1, 1, 1], bias_is_tensor=True),
        finding("up_dynamic", (None, 6), output_shape=[10, 12]),
    ]


def report(findings: Sequence[NodeFinding], width: int = 80, **kwargs: object) -> str:
    stream = io.StringIO()
    os.environ["COLUMNS"] = str(width)  # rich reads the width of a console that is not a terminal from COLUMNS
    try:
        print_inspect_report(findings, model="m.onnx", console=make_console(stream), **kwargs)  # type: ignore[arg-type]
    finally:
        del os.environ["COLUMNS"]
    return stream.getvalue()


class TestEveryWidth:
    @pytest.mark.parametrize("width", WIDTHS)
    def test_verdicts_windows_and_patches_whole(self, width: int) -> None:
        findings = every_verdict()
        text = report(findings, width)
        lines = text.splitlines()
        assert lines[0] == "m.onnx"
        assert "\x1b[" not in text
        assert all(len(line) <= width for line in lines), max(lines, key=len)
        assert all(line == line.rstrip() for line in lines)
        for f in findings:
            header = next(line for line in lines if line.split() and line.split()[0] == f.node)
            assert header.split()[4] == f.verdict.value  # the verdict word whole, after name, rank and sizes
            for window in (f.reference, f.parser.window):
                if window is not None:
                    assert any(describe_window(window) in line for line in lines), describe_window(window)
            if f.patch is not None:
                for atom in patch_atoms(f.patch.describe()):
                    assert any(atom in line for line in lines), atom
        assert "7 ConvTranspose: 1 ok, 1 shifted, 1 wrong-shape, 2 parse-error, 2 tensor-bias" in text

    @pytest.mark.parametrize("width", WIDTHS)
    def test_long_names_shortened_in_the_middle_never_lost(self, width: int) -> None:
        name = "decoder/" + "very_long_block_name_" * 10 + "conv_transpose"
        text = report([finding(name, output_shape=[10, 12])], width)
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines)
        header = lines[2]
        assert header.startswith("decoder/") and "..." in header and header.split()[-1] == "shifted"
        start = next(i for i, line in enumerate(lines) if line.startswith("    node  "))
        pieces = [lines[start].split(None, 1)[1]]
        pieces += [
            line.strip() for line in lines[start + 1 :] if line.startswith(" " * 16) and not line[16:17].isspace()
        ][: len(name) // (width - 16) + 1]
        assert "".join(pieces).startswith(name)

    def test_picture_of_a_shifted_node(self) -> None:
        text = report([finding("odd", output_shape=[10, 12])])
        assert (
            "    H and W     full      ===========  L = 11 and 13\n"
            "                ONNX      .##########  [1, L)\n"
            "                TensorRT  ##########.  [0, L-1)\n"
        ) in text
        assert "    TensorRT    starts 1 element early on H and W (b=(0,0) e=(1,1) -> 10x12)" in text
        assert "(bars: one character per element; = the full result, # kept, . cut off)" in text

    def test_pictures_of_short_past_the_end_and_zero_extension(self) -> None:
        text = report(
            [
                finding("same", auto_pad="SAME_UPPER", output_shape=[11, 13]),
                finding("past", (10, 12), strides=[3, 3], output_shape=[32, 38]),
                finding("tensor", output_padding=[1, 1], bias_is_tensor=True),
            ],
            120,
        )
        assert "TensorRT    1 element short on H and W" in text
        assert "                TensorRT  ##########.  [0, L-1)" in text
        assert (
            "                ONNX      ##############################++  [0, L+2)\n"
            "                TensorRT  parse error" in text
        )
        assert "ONNX        32x38 of the full 30x36: extends 2 elements past the full result on H and W" in text
        assert "                TensorRT  ###########0  [0, L+1)" in text

    def test_wide_rows_hold_the_attributes_and_an_ok_window(self) -> None:
        findings = [finding("up", pads=[1, 1, 1, 1], output_padding=[1, 1]), finding("odd", output_shape=[10, 12])]
        lines = report(findings, 120).splitlines()
        assert lines[1].split() == [
            "node",
            "rank",
            "input",
            "output",
            "verdict",
            "attributes",
            "window",
            "(ok",
            "nodes)",
        ]
        assert lines[2].split() == [
            "up",
            "2D",
            "5x6",
            "10x12",
            "ok",
            *["k=3", "s=2", "p=1", "op=1", "b=(1,1)", "e=(0,0)", "->", "10x12"],
        ]
        assert lines[3].split() == ["odd", "2D", "5x6", "10x12", "shifted", "k=3", "s=2", "os=10x12"]
        assert lines[4].startswith("    ONNX        10x12 of the full 11x13")
        assert not any(line.startswith(("    attributes", "    window")) for line in lines)
        long_names = [
            finding("decoder.stage3.upsample.conv_transpose_1", pads=[1, 1, 1, 1], output_padding=[1, 1]),
            findings[1],
        ]
        narrow = report(long_names, 80).splitlines()
        assert narrow[1].split() == ["node", "rank", "input", "output", "verdict"]
        assert "    attributes  k=3 s=2 p=1 op=1" in narrow and "    attributes  k=3 s=2 os=10x12" in narrow
        assert "    window      b=(1,1) e=(0,0) -> 10x12 in ONNX and TensorRT" in narrow

    def test_ok_node_has_no_picture(self) -> None:
        text = report([finding("up", pads=[1, 1, 1, 1], output_padding=[1, 1])])
        assert text.splitlines()[2].split()[-4:] == ["b=(1,1)", "e=(0,0)", "->", "10x12"]
        assert "full" not in text and "bars:" not in text


class TestGroupsAndCaps:
    def test_nodes_alike_share_a_block(self) -> None:
        findings = [finding(f"up{i}", output_shape=[10, 12]) for i in range(8)] + [finding("ok", pads=[1, 1, 1, 1])]
        assert group_findings(findings) == [list(range(8)), [8]]
        assert group_findings(findings, same_configuration=[0] * 8 + [8]) == [list(range(8)), [8]]
        # Two configurations of the analysis (say, attributes in another order) with equal findings: one block.
        assert group_findings(findings, same_configuration=[0, 1, 0, 1, 0, 1, 0, 1, 8]) == [list(range(8)), [8]]
        text = report(findings)
        assert sum(line.startswith("up") and " shifted " in line for line in text.splitlines()) == 1
        assert "    also        up1, up2, up3, up4, up5, and 2 more (--all lists them)" in text
        every = report(findings, all_rows=True)
        assert "up1, up2, up3, up4, up5, up6, up7" in every and "more" not in every
        assert "9 ConvTranspose: 1 ok, 8 shifted" in text

    def test_many_ok_rows_collapse(self) -> None:
        findings = [finding(f"ok{i}", pads=[1, 1, 1, 1], output_padding=[1, 1]) for i in range(OK_ROWS_SHOWN + 1)]
        findings.append(finding("odd", output_shape=[10, 12]))
        text = report(findings)
        assert not any(line.startswith("ok0 ") for line in text.splitlines())
        assert any(line.startswith("odd ") for line in text.splitlines())
        assert f"({OK_ROWS_SHOWN + 1} ok nodes not listed; --all lists every node)" in text
        assert f"{OK_ROWS_SHOWN + 2} ConvTranspose: {OK_ROWS_SHOWN + 1} ok, 1 shifted" in text
        every = report(findings, all_rows=True)
        assert any(line.startswith("ok0 ") for line in every.splitlines()) and "not listed" not in every

    def test_negative_few_ok_rows_are_all_listed(self) -> None:
        findings = [finding(f"ok{i}", (5 + i, 6), pads=[1, 1, 1, 1]) for i in range(OK_ROWS_SHOWN)]
        text = report(findings)
        assert "not listed" not in text
        assert sum(line.startswith("ok") for line in text.splitlines()) == OK_ROWS_SHOWN

    def test_not_ok_configurations_are_capped(self) -> None:
        # Each input height is its own configuration: output_shape 2I leaves an odd total of 1 (shifted).
        count = NOT_OK_GROUPS_SHOWN + 3
        findings = [finding(f"up{i}", (5 + i, 6), output_shape=[2 * (5 + i), 12]) for i in range(count)]
        last = findings[-1]
        findings.append(dataclasses.replace(last, attributes=dataclasses.replace(last.attributes, node="up_twin")))
        text = report(findings)
        headers = [line for line in text.splitlines() if line.startswith("up") and " shifted " in line]
        assert len(headers) == NOT_OK_GROUPS_SHOWN
        assert (
            "(4 more nodes that are not ok, in 3 more configurations, not listed; --all lists every node)"
            in " ".join(text.split())
        )
        every = report(findings, all_rows=True)
        assert sum(line.startswith("up") and " shifted " in line for line in every.splitlines()) == count
        assert "not listed" not in every

    def test_notes_are_grouped_and_wrapped(self) -> None:
        # The spec allows output_padding below the stride or the dilation; onnxruntime rejects it >= the stride.
        findings = [finding(f"n{i}", output_padding=[2, 2], dilations=[3, 3]) for i in range(3)]
        text = report(findings)
        notes = text[text.index("notes:") :].splitlines()
        assert notes[1].startswith("  - n0 and 2 more: H: onnxruntime rejects output_padding 2 >= stride 2")
        assert all(len(line) <= 80 for line in notes)
        assert notes[2].startswith("    ") and not notes[2].startswith("    -")
        assert sum(line.startswith("  - ") for line in notes) == 2  # one per axis, for all three nodes


def test_notes_and_rewrites_of_fix() -> None:
    from polygraphy_deconv.onnx_model.rewrite import Rewrite

    stream = io.StringIO()
    os.environ["COLUMNS"] = "80"
    try:
        console = make_console(stream)
        rewrites = [
            Rewrite("x" * 120, Verdict.SHIFTED, "output_shape=[10, 12]", "pads=[1, 1, 0, 0]"),
            Rewrite(
                "b",
                Verdict.TENSOR_BIAS,
                "pads=[0, 0, 0, 0, 0, 0] output_padding=[1, 1, 1]",
                "pads=[0, 0, 0, 0, 0, 0] + Pad(after=[1, 1, 1]) + bias Add",
            ),
        ]
        print_rewrites(console, rewrites)
        print_notes(console, ["cannot rewrite 'n' (shifted): " + "a long reason " * 10], heading="")
    finally:
        del os.environ["COLUMNS"]
    lines = stream.getvalue().splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)
    assert lines[0].split() == ["node", "verdict"]
    assert lines[1].endswith("shifted") and "..." in lines[1]
    assert "".join(line[12:] for line in lines[2:4]) == "x" * 120
    assert "    after   pads=[0, 0, 0, 0, 0, 0] + Pad(after=[1, 1, 1]) + bias Add" in lines
    note = next(i for i, line in enumerate(lines) if line.startswith("  - "))
    assert lines[note].startswith("  - cannot rewrite 'n' (shifted): a long reason")
    assert all(line.startswith("    ") for line in lines[note + 1 :]) and len(lines) > note + 1


def test_rewrites_on_one_line_where_they_fit() -> None:
    from polygraphy_deconv.onnx_model.rewrite import Rewrite

    stream = io.StringIO()
    os.environ["COLUMNS"] = "160"
    try:
        print_rewrites(
            make_console(stream),
            [Rewrite(f"up{i}", Verdict.SHIFTED, "output_shape=[10, 12]", "pads=[1, 1, 0, 0]") for i in range(3)],
        )
    finally:
        del os.environ["COLUMNS"]
    assert stream.getvalue().splitlines() == [
        "node            verdict  before                 after",
        "up0 and 2 more  shifted  output_shape=[10, 12]  pads=[1, 1, 0, 0]",
    ]


def test_wrapped_lines_of_check() -> None:
    stream = io.StringIO()
    os.environ["COLUMNS"] = "80"
    try:
        print_wrapped(
            make_console(stream),
            [
                ["rewrote", "up_odd", "(shifted):", "output_shape=[10, 12]", "->", "pads=[1, 1, 0, 0]"],
                "TensorRT is not importable here " + "(a long reason) " * 6,
            ],
        )
    finally:
        del os.environ["COLUMNS"]
    lines = stream.getvalue().splitlines()
    assert lines[0] == "  rewrote up_odd (shifted): output_shape=[10, 12] -> pads=[1, 1, 0, 0]"
    assert lines[1].startswith("  TensorRT is not importable here") and lines[2].startswith("    reason) (a long")
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)


def test_sizes_too_wide_for_the_row_go_under_it() -> None:
    # Found by test_any_nodes_at_any_width: a 3D node's sizes and the verdict parse-error left a 6-column name no room
    # in 40 columns (the row took 41).
    attributes = {"strides": [1, 3, 3], "auto_pad": "SAME_UPPER", "pads": [0, 0, 0, 0, 0, 0]}
    attrs = ConvTransposeAttributes.from_onnx("up", attributes, [1, 1, 1, 1, 1])
    text = report([analyse_node(attrs, [1, 4, 4])], 40)
    lines = text.splitlines()
    assert all(cell_width(line) <= 40 for line in lines), text
    assert lines[1].split() == ["node", "rank", "verdict"] and lines[2].split() == ["up", "3D", "parse-error"]
    assert "    input       1x4x4" in lines and "    output      1x10x10" in lines
    wide = report([analyse_node(attrs, [1, 4, 4])], 80).splitlines()
    assert wide[1].split()[:5] == ["node", "rank", "input", "output", "verdict"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(conv_transposes(), st.text(min_size=1, max_size=120)), min_size=1, max_size=4),
    st.integers(40, 220),  # 40: the report's minimum width
)
def test_any_nodes_at_any_width(drawn: list[tuple[Draw, str]], width: int) -> None:
    findings = []
    for node, name in drawn:
        attrs = ConvTransposeAttributes.from_onnx(name, dict(node.attributes), list(node.weight_shape))
        findings.append(analyse_node(attrs, list(node.spatial), bias_is_tensor=node.bias == "tensor"))
    text = report(findings, width)
    lines = text.splitlines()
    assert all(cell_width(line) <= width and line == line.rstrip() for line in lines), text
    assert all(c.isprintable() for line in lines for c in line)
    squeezed = "".join(text.split())
    # From 80 columns a window or patch atom stands whole on one line; narrower, it may wrap between its words.
    shown_lines = lines if width >= 80 else [" ".join(text.split())]
    for f in findings:
        assert re.search(rf"(^|\s){re.escape(f.verdict.value)}(\s|$)", text, re.MULTILINE)
        assert "".join(shown(f.node).split()) in squeezed  # shortened in a row, whole under it
        for window in (f.reference, f.parser.window):
            if window is not None:
                assert any(describe_window(window) in line for line in shown_lines)
        if f.patch is not None:
            assert all(any(atom in line for line in shown_lines) for atom in patch_atoms(f.patch.describe()))
