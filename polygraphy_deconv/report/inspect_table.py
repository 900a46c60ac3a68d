"""The `inspect` table for people: one row per ConvTranspose, then a one-line summary and the notes.

Colour only on the verdict; plain text (no ANSI codes, ASCII rules, a fixed generous width) when the
output is not a terminal, so CI logs read well. Window and patch texts come from the core
(`describe_window`, `DeconvolutionPatch.describe`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import NodeFinding, Verdict
from polygraphy_deconv.core.window import describe_window
from polygraphy_deconv.report.schema import verdict_counts

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

PLAIN_WIDTH = 200  # columns when the output is not a terminal (CI logs, files, pipes)
OK_ROWS_SHOWN = 50  # beyond this many ok nodes, the table lists only the nodes that are not ok

VERDICT_STYLE = {
    Verdict.OK: "green",
    Verdict.SHIFTED: "bold red",
    Verdict.WRONG_SHAPE: "bold red",
    Verdict.PARSE_ERROR: "bold red",
    Verdict.TENSOR_BIAS: "yellow",
    Verdict.UNDECIDED: "magenta",
}


def make_console(file: TextIO | None = None) -> Console:
    """A console that colours on a terminal and writes plain, wide text anywhere else."""
    import sys

    from rich.console import Console

    stream = file if file is not None else sys.stdout
    terminal = hasattr(stream, "isatty") and stream.isatty()
    if terminal:
        return Console(file=stream, highlight=False)
    return Console(file=stream, width=PLAIN_WIDTH, no_color=True, color_system=None, highlight=False, emoji=False)


def sizes_text(sizes: Iterable[int | None] | None) -> str:
    if sizes is None:
        return "?"
    return "x".join("?" if s is None else str(s) for s in sizes)


def _axes_text(values: Sequence[int]) -> str:
    """One number when every axis agrees, else one per axis."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def attributes_text(attrs: ConvTransposeAttributes) -> str:
    """Compact key attributes: k, s always; d, p, op, os, auto_pad, g where not the default."""
    parts = [f"k={_axes_text(attrs.kernel_shape)}", f"s={_axes_text(attrs.strides)}"]
    if any(d != 1 for d in attrs.dilations):
        parts.append(f"d={_axes_text(attrs.dilations)}")
    if any(attrs.pads):
        begin, end = attrs.pads_begin, attrs.pads_end
        parts.append(f"p={_axes_text(begin)}" if begin == end else f"p={','.join(map(str, begin))}/{','.join(map(str, end))}")
    if any(attrs.output_padding):
        parts.append(f"op={_axes_text(attrs.output_padding)}")
    if attrs.output_shape is not None:
        parts.append(f"os={sizes_text(attrs.output_shape)}")
    if attrs.auto_pad != "NOTSET":
        parts.append(attrs.auto_pad)
    if attrs.group != 1:
        parts.append(f"g={attrs.group}")
    return " ".join(parts)


def tensorrt_text(finding: NodeFinding) -> str:
    if finding.parser.parse_error is not None:
        return "parse error"
    if finding.parser.window is None:
        return "unpredictable"
    return describe_window(finding.parser.window)


def inspect_table(findings: Sequence[NodeFinding], biases: Sequence[str] | None = None, *, plain: bool = False) -> Table:
    """One row per node; `biases` ("none" | "initializer" | "tensor" per node) adds a bias mark;
    `plain` draws the rules in ASCII."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    show_declared = any(f.declared_sizes is not None for f in findings)
    table = Table(box=box.ASCII2 if plain else box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("node", overflow="fold")
    table.add_column("rank", justify="right")
    table.add_column("attributes")
    table.add_column("input", justify="right")
    table.add_column("output", justify="right")
    table.add_column("reference window")
    if show_declared:
        table.add_column("declared")
    table.add_column("TensorRT window")
    table.add_column("verdict")
    table.add_column("patch")
    for index, finding in enumerate(findings):
        attributes = attributes_text(finding.attributes)
        if biases is not None and biases[index] == "tensor":
            attributes += " bias=tensor"
        row: list[str | Text] = [
            finding.node,
            str(finding.attributes.rank),
            attributes,
            sizes_text(finding.input_sizes),
            sizes_text(finding.output_sizes),
            "undecidable" if finding.reference is None else describe_window(finding.reference),
        ]
        if show_declared:
            row.append("" if finding.declared_sizes is None else sizes_text(finding.declared_sizes))
        row += [
            tensorrt_text(finding),
            Text(finding.verdict.value, style=VERDICT_STYLE[finding.verdict]),
            "-" if finding.patch is None else finding.patch.describe(),
        ]
        table.add_row(*row)
    return table


def summary_line(findings: Sequence[NodeFinding]) -> str:
    """'5 ConvTranspose: 2 ok, 1 shifted, ...' (verdicts that occur, in the Verdict order)."""
    if not findings:
        return "0 ConvTranspose nodes"
    counts = verdict_counts(f.verdict for f in findings)
    return f"{len(findings)} ConvTranspose: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)


def finding_notes(findings: Sequence[NodeFinding], model_notes: Sequence[str] = ()) -> list[str]:
    """Lines for under the table: why each node is not ok, what onnxruntime or shape inference say."""
    lines = []
    for finding in findings:
        if finding.verdict is not Verdict.OK and finding.reason:
            lines.append(f"{finding.node}: {finding.verdict.value}: {finding.reason}")
        elif finding.reason:
            lines.append(f"{finding.node}: {finding.reason}")
        lines.extend(f"{finding.node}: {note}" for note in finding.notes)
    lines.extend(model_notes)
    return lines


def print_inspect_report(
    findings: Sequence[NodeFinding],
    *,
    model: str,
    biases: Sequence[str] | None = None,
    model_notes: Sequence[str] = (),
    console: Console | None = None,
    all_rows: bool = False,
) -> None:
    """The whole `inspect` report: heading, table (when there are nodes), summary, notes.

    A model with more than OK_ROWS_SHOWN ok nodes gets a table of the other nodes only (a decoder with
    thousands of correct deconvolutions should not bury the one that is wrong), unless `all_rows`.
    """
    console = console or make_console()
    console.print(f"{model}", markup=False)
    rows, row_biases = list(findings), None if biases is None else list(biases)
    ok = [i for i, f in enumerate(findings) if f.verdict is Verdict.OK]
    hidden = 0
    if not all_rows and len(ok) > OK_ROWS_SHOWN:
        keep = [i for i, f in enumerate(findings) if f.verdict is not Verdict.OK]
        rows = [findings[i] for i in keep]
        row_biases = None if biases is None else [biases[i] for i in keep]
        hidden = len(ok)
    if rows:
        console.print(inspect_table(rows, row_biases, plain=not console.is_terminal))
    if hidden:
        console.print(f"({hidden} ok nodes not listed; --all lists every node)", markup=False)
    console.print(summary_line(findings), markup=False)
    notes = finding_notes(findings, model_notes)
    if notes:
        console.print("notes:", markup=False)
        for line in notes:
            console.print(f"  - {line}", markup=False, soft_wrap=True)
