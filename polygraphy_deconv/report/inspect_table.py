"""The `inspect` report for people: one block per ConvTranspose configuration (a row of short columns
with the long fields stacked under it), a picture of the windows of every node that is not ok, then a
one-line summary and the notes.

Laid out at the console's width (the terminal's; COLUMNS or 80 when piped), never cut: names are
shortened in the middle where the row needs it and then given whole under it; windows, verdicts and
patches are whole words on whole lines. Colour only on the verdict, and only on a terminal. Every string
that comes from the model goes through `text.shown` (control characters visible) and reaches rich as
Text, never as markup. Nodes whose findings differ in the name only share one block, and the blocks
are capped (ok nodes beyond OK_ROWS_SHOWN, not-ok configurations beyond NOT_OK_GROUPS_SHOWN) unless
`all_rows`, so a model with 20,000 alike nodes costs what one node costs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from polygraphy_deconv.core.finding import NodeFinding, Verdict
from polygraphy_deconv.core.producers import pattern_text
from polygraphy_deconv.core.window import describe_window
from polygraphy_deconv.report.layout import (
    Line,
    block_lines,
    block_width,
    cell_width,
    columns_line,
    field,
    patch_atoms,
    shortened,
    text_line,
    words,
    wrapped,
    write_lines,
)
from polygraphy_deconv.report.schema import verdict_counts
from polygraphy_deconv.report.windows import bar_legend, difference_words, picture_groups, window_words
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    from rich.console import Console

    from polygraphy_deconv.onnx_model.rewrite import Rewrite

OK_ROWS_SHOWN = 50  # beyond this many ok nodes, the report lists only the nodes that are not ok
NOT_OK_GROUPS_SHOWN = 20  # configurations that are not ok listed without --all
NAMES_SHOWN = 5  # names of the other nodes of a configuration listed without --all
NOTE_GROUPS_SHOWN = 20  # configurations whose notes are listed without --all
LABEL_WIDTH = 10  # the widest field label ('attributes')
WINDOW_TITLE = "window (ok nodes)"  # the column of an ok node's one window, where the width has room for it

VERDICT_STYLE = {
    Verdict.OK: "green",
    Verdict.SHIFTED: "bold red",
    Verdict.WRONG_SHAPE: "bold red",
    Verdict.PARSE_ERROR: "bold red",
    Verdict.TENSOR_BIAS: "yellow",
    Verdict.NEGATIVE_PADS: "bold red",
    Verdict.UNDECIDED: "magenta",
}


class _NoTrailingSpaces:
    """A text stream that drops the spaces at the end of every line before passing text on (rich pads
    and wraps with spaces; a pipe or a log should not keep them). Spaces are held back until the next
    character shows whether they end a line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        last = lines[-1].rstrip(" ")
        self._pending = lines[-1][len(last) :]
        self._stream.write("\n".join([line.rstrip(" ") for line in lines[:-1]] + [last]))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


def make_console(file: TextIO | None = None) -> Console:
    """A console that colours on a terminal and writes plain text anywhere else, without trailing
    spaces, at the terminal's width, else COLUMNS, else 80 (rich's rule): no wide rules in pipes and logs."""
    import sys
    from typing import cast

    from rich.console import Console

    stream = file if file is not None else sys.stdout
    terminal = hasattr(stream, "isatty") and stream.isatty()
    if terminal:
        return Console(file=stream, highlight=False)
    plain = cast("TextIO", _NoTrailingSpaces(stream))
    return Console(file=plain, no_color=True, color_system=None, highlight=False, emoji=False)


def report_width(console: Console) -> int:
    return max(console.width, 40)


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
        parts.append(
            f"p={_axes_text(begin)}" if begin == end else f"p={','.join(map(str, begin))}/{','.join(map(str, end))}"
        )
    if any(attrs.output_padding):
        parts.append(f"op={_axes_text(attrs.output_padding)}")
    if attrs.output_shape is not None:
        parts.append(f"os={sizes_text(attrs.output_shape)}")
    if attrs.auto_pad != "NOTSET":
        parts.append(shown(attrs.auto_pad))
    if attrs.group != 1:
        parts.append(f"g={attrs.group}")
    return " ".join(parts)


def summary_line(findings: Sequence[NodeFinding]) -> str:
    """'5 ConvTranspose: 2 ok, 1 shifted, ...' (verdicts that occur, in the Verdict order)."""
    if not findings:
        return "0 ConvTranspose nodes"
    counts = verdict_counts(f.verdict for f in findings)
    return f"{len(findings)} ConvTranspose: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)


def _configuration_key(finding: NodeFinding, bias: str | None) -> Hashable:
    """Everything of a finding but the node name."""
    a = finding.attributes
    return (
        a.kernel_shape,
        a.strides,
        a.dilations,
        a.pads,
        a.output_padding,
        a.output_shape,
        a.auto_pad,
        a.group,
        a.output_shape_has_batch_channel,
        a.pads_beside_auto_pad,
        finding.input_sizes,
        finding.reference,
        finding.parser,
        finding.verdict,
        finding.reason,
        finding.patch,
        finding.declared_sizes,
        finding.bias_is_tensor,
        finding.notes,
        bias,
    )


def group_findings(
    findings: Sequence[NodeFinding], biases: Sequence[str] | None = None, same_configuration: Sequence[int] = ()
) -> list[list[int]]:
    """Positions of the findings, grouped by everything but the node name, in the order of each group's
    first node. `same_configuration` (ModelAnalysis.same_configuration: per node the position of the
    first node with its configuration) saves comparing the findings where the analysis already knows: the
    findings are compared once per configuration (two configurations can still give equal findings)."""
    def key(position: int) -> Hashable:
        return _configuration_key(findings[position], None if biases is None else biases[position])

    groups: dict[Hashable, list[int]] = {}
    if len(same_configuration) == len(findings):
        by_first: dict[int, list[int]] = {}
        for position, first in enumerate(same_configuration):
            by_first.setdefault(first, []).append(position)
        for first, positions in by_first.items():
            group = groups.setdefault(key(first), [])
            interleaved = bool(group) and group[-1] > positions[0]  # two configurations, equal findings
            group += positions
            if interleaved:
                group.sort()
    else:
        for position in range(len(findings)):
            groups.setdefault(key(position), []).append(position)
    return list(groups.values())


def _named(names: Sequence[str], all_names: bool) -> str:
    """'a' or 'a and 3 more' (every name with `all_names`)."""
    if len(names) == 1:
        return names[0]
    if all_names:
        return ", ".join(names)
    return f"{names[0]} and {len(names) - 1:,} more"


def _also_atoms(names: Sequence[str], all_names: bool) -> list[str]:
    """The other nodes of a configuration: each name an atom, the first few unless `all_names`."""
    shown_names = names if all_names else names[:NAMES_SHOWN]
    atoms = [f"{name}," for name in shown_names[:-1]] + [shown_names[-1]]
    if len(shown_names) < len(names):
        atoms[-1] += ","
        atoms += words(f"and {len(names) - len(shown_names):,} more (--all lists them)")
    return atoms


def _windows_fields(finding: NodeFinding, width: int, used: set[str]) -> list[Line]:
    """ONNX, declared, TensorRT, patch and the picture of a node that is not ok (`used` collects the bar
    characters drawn)."""
    lines: list[Line] = []
    reference, build = finding.reference, finding.parser
    if finding.verdict is Verdict.NEGATIVE_PADS:
        pattern = pattern_text(finding.producer) if finding.producer else "no producer pattern known"
        lines += field("pads", words(f"{list(finding.attributes.pads)} below 0: {pattern}"), width, LABEL_WIDTH)
    if reference is None:
        undecided = "the window depends on a dynamic input size; bind it with --input-shapes"
        lines += field("ONNX", words(f"undecidable: {undecided}"), width, LABEL_WIDTH)
    else:
        lines += field("ONNX", [*words(window_words(reference)), f"({describe_window(reference)})"], width, LABEL_WIDTH)
    if finding.declared_sizes is not None:
        lines += field(
            "declared", [sizes_text(finding.declared_sizes), *words("(ONNX shape inference)")], width, LABEL_WIDTH
        )
    remark = ""
    if build.parse_error is not None:
        remark = "parse error"
        tensorrt = words(f"parse error: {shown(build.parse_error)}")
    elif build.window is None:
        remark = "unpredictable"
        tensorrt = words(f"unpredictable: {shown(finding.reason)}")
    elif reference is None:
        tensorrt = [describe_window(build.window)]
    else:
        difference = difference_words(reference, build.window)
        if difference == "the same window" and finding.verdict is Verdict.NEGATIVE_PADS:
            difference += " (its extension takes the negative end)"
        elif difference == "the same window" and finding.reason:
            difference += f"; {shown(finding.reason)}"
        tensorrt = [*words(difference), f"({describe_window(build.window)})"]
    lines += field("TensorRT", tensorrt, width, LABEL_WIDTH)
    lines += field(
        "patch", ["-"] if finding.patch is None else patch_atoms(finding.patch.describe()), width, LABEL_WIDTH
    )
    zero = build.extension and not build.extension_has_bias
    for axes, picture in picture_groups(
        [reference, build.window], ["ONNX", "TensorRT"], ["", remark], [False, zero], used=used,
        fits=lambda axes, picture: block_width(axes, picture, LABEL_WIDTH) <= width,
    ):
        lines += block_lines(axes, picture, LABEL_WIDTH)
    return lines


def _attributes(finding: NodeFinding, bias: str | None) -> str:
    return attributes_text(finding.attributes) + (" bias=tensor" if bias == "tensor" else "")


def _ok_window(finding: NodeFinding) -> str | None:
    """The one window of an ok node (ONNX and TensorRT agree), None for a node that is not ok."""
    if finding.verdict is Verdict.OK and finding.reference is not None:
        return describe_window(finding.reference)
    return None


def _group_lines(
    findings: Sequence[NodeFinding],
    group: Sequence[int],
    bias: str | None,
    widths: tuple[int, int, int, int, int, int],
    width: int,
    all_rows: bool,
    used: set[str],
) -> list[Line]:
    """The row of a configuration and its fields under it. `widths`: name, input, output, verdict, and the
    attributes and window columns (0: not in the row but under it; input and output go together)."""
    finding = findings[group[0]]
    name_width, input_width, output_width, verdict_width, attributes_width, window_width = widths
    name = shown(finding.node)
    short = shortened(name, name_width)
    attributes = _attributes(finding, bias)
    window = _ok_window(finding)
    sizes = [sizes_text(finding.input_sizes), sizes_text(finding.output_sizes)]
    cells = [(short, name_width, False, ""), (f"{finding.attributes.rank}D", 4, True, "")]
    if input_width:
        cells += [(sizes[0], input_width, True, ""), (sizes[1], output_width, True, "")]
    cells.append((finding.verdict.value, verdict_width, False, VERDICT_STYLE[finding.verdict]))
    if attributes_width:
        cells.append((attributes, attributes_width, False, ""))
        if window_width and window is not None:
            cells.append((window, window_width, False, ""))
    lines: list[Line] = [columns_line(cells)]
    if short != name:
        lines += field("node", [name], width, LABEL_WIDTH)
    if not input_width:
        lines += field("input", [sizes[0]], width, LABEL_WIDTH) + field("output", [sizes[1]], width, LABEL_WIDTH)
    if len(group) > 1:
        others = [shown(findings[i].node) for i in group[1:]]
        lines += field("also", _also_atoms(others, all_rows), width, LABEL_WIDTH)
    if not attributes_width:
        lines += field("attributes", words(attributes), width, LABEL_WIDTH)
    if window is not None:
        if not window_width:
            lines += field("window", [window, *words("in ONNX and TensorRT")], width, LABEL_WIDTH)
    else:
        lines += _windows_fields(finding, width, used)
    return lines


def _note_lines(
    findings: Sequence[NodeFinding],
    groups: Sequence[Sequence[int]],
    model_notes: Sequence[str],
    width: int,
    all_rows: bool,
) -> list[Line]:
    """Under the summary: per configuration, what onnxruntime or shape inference say (once for all its
    nodes), then the model's notes; each note wrapped, every model string shown escaped."""
    notes: list[str] = []
    with_notes = [
        g for g in groups if findings[g[0]].notes or (findings[g[0]].verdict is Verdict.OK and findings[g[0]].reason)
    ]
    listed = with_notes if all_rows else with_notes[:NOTE_GROUPS_SHOWN]
    for group in listed:
        finding = findings[group[0]]
        who = _named([shown(findings[i].node) for i in group], all_rows)
        if finding.verdict is Verdict.OK and finding.reason:
            notes.append(f"{who}: {shown(finding.reason)}")
        notes.extend(f"{who}: {shown(note)}" for note in finding.notes)
    hidden = sum(len(g) for g in with_notes[len(listed) :])
    if hidden:
        notes.append(f"notes on {hidden:,} more nodes not listed; --all lists every note")
    notes.extend(shown(note) for note in model_notes)
    return note_lines(notes, width)


def note_lines(notes: Sequence[str], width: int, heading: str = "notes:") -> list[Line]:
    """`heading` (none when empty) and one wrapped '  - note' each (the notes already shown escaped)."""
    if not notes:
        return []
    lines: list[Line] = [text_line(heading)] if heading else []
    for note in notes:
        lines += [text_line(text) for text in wrapped(words(note), width, "  - ", "    ")]
    return lines


def print_wrapped(
    console: Console, texts: Sequence[str | Sequence[str]], first: str = "  ", rest: str = "    "
) -> None:
    """Lines of other commands (`check`), each wrapped at the console's width, its continuation lines
    indented under it: a text breaks at its spaces, a sequence of atoms between them (an atom moves to the
    next line whole where it fits there). The texts are already shown escaped."""
    width = report_width(console)
    lines: list[Line] = []
    for text in texts:
        atoms = words(text) if isinstance(text, str) else list(text)
        lines += [text_line(line) for line in wrapped(atoms, width, first, rest)]
    write_lines(console, lines)


def print_rule(console: Console, title: str) -> None:
    """A dim rule with `title` (check's sections); where the title does not fit the width, the rule alone and the
    title under it, whole, instead of rich cutting it with an ellipsis."""
    if cell_width(title) + 8 <= console.width:  # rich draws rules at the console's own width
        console.rule(title, style="dim")
    else:
        console.rule(style="dim")
        print_wrapped(console, [title], first="", rest="  ")


def print_notes(console: Console, notes: Sequence[str], heading: str = "notes:") -> None:
    """Notes from other commands (`fix`): escaped, wrapped at the console's width."""
    write_lines(console, note_lines([shown(note) for note in notes], report_width(console), heading))


def print_inspect_report(
    findings: Sequence[NodeFinding],
    *,
    model: str,
    biases: Sequence[str] | None = None,
    model_notes: Sequence[str] = (),
    console: Console | None = None,
    all_rows: bool = False,
    same_configuration: Sequence[int] = (),
) -> None:
    """The whole `inspect` report: the model, a block per configuration, the summary, the notes.

    A model with more than OK_ROWS_SHOWN ok nodes lists only the others (a decoder with thousands of
    correct deconvolutions should not bury the one that is wrong), and at most NOT_OK_GROUPS_SHOWN
    configurations that are not ok, unless `all_rows`.
    """
    console = console or make_console()
    width = report_width(console)
    lines: list[Line] = [text_line(text) for text in wrapped([shown(model)], width)]
    groups = group_findings(findings, biases, same_configuration)
    ok_nodes = sum(len(g) for g in groups if findings[g[0]].verdict is Verdict.OK)
    hide_ok = not all_rows and ok_nodes > OK_ROWS_SHOWN
    listed = [g for g in groups if not (hide_ok and findings[g[0]].verdict is Verdict.OK)]
    hidden_not_ok: list[list[int]] = []
    not_ok = [g for g in listed if findings[g[0]].verdict is not Verdict.OK]
    if not all_rows and len(not_ok) > NOT_OK_GROUPS_SHOWN:
        hidden_not_ok = not_ok[NOT_OK_GROUPS_SHOWN:]
        dropped = {id(g) for g in hidden_not_ok}
        listed = [g for g in listed if id(g) not in dropped]
    used: set[str] = set()  # characters of the bars drawn, for their legend
    if listed:
        firsts = [findings[g[0]] for g in listed]
        input_width = max(5, *(cell_width(sizes_text(f.input_sizes)) for f in firsts))
        output_width = max(6, *(cell_width(sizes_text(f.output_sizes)) for f in firsts))
        verdict_width = max(7, *(len(f.verdict.value) for f in firsts))
        rest = 4 + input_width + output_width + verdict_width + 4 * 2
        if rest + 6 > width:  # the sizes leave no room for a name: they go under the row
            input_width = output_width = 0
            rest = 4 + verdict_width + 2 * 2
        longest = max(4, *(cell_width(shown(f.node)) for f in firsts))
        name_width = min(longest, max(width - rest, 6))  # a shortened name is shown whole in a field below
        # Where the width allows, the attributes (and an ok node's one window) stand in the row itself.
        row_biases = [None if biases is None else biases[g[0]] for g in listed]
        attributes_width = max(10, *(cell_width(_attributes(f, b)) for f, b in zip(firsts, row_biases)))
        windows = [w for w in map(_ok_window, firsts) if w is not None]
        window_width = max([len(WINDOW_TITLE), *map(len, windows)]) if windows else 0
        in_row = name_width + rest + 2 + attributes_width
        if name_width < longest or in_row > width:
            attributes_width = window_width = 0
        elif in_row + 2 + window_width > width:
            window_width = 0
        widths = (name_width, input_width, output_width, verdict_width, attributes_width, window_width)
        titles = [("node", name_width, False, "bold"), ("rank", 4, True, "bold")]
        if input_width:
            titles += [("input", input_width, True, "bold"), ("output", output_width, True, "bold")]
        titles.append(("verdict", verdict_width, False, "bold"))
        if attributes_width:
            titles.append(("attributes", attributes_width, False, "bold"))
        if window_width:
            titles.append((WINDOW_TITLE, window_width, False, "bold"))
        lines.append(columns_line(titles))
        for group in listed:
            bias = None if biases is None else biases[group[0]]
            lines += _group_lines(findings, group, bias, widths, width, all_rows, used)
        if used:
            lines += [text_line(text) for text in wrapped(words(bar_legend(used)), width)]
    hidden_lines = []
    if hide_ok:
        hidden_lines.append(f"({ok_nodes:,} ok nodes not listed; --all lists every node)")
    if hidden_not_ok:
        count = sum(len(g) for g in hidden_not_ok)
        hidden_lines.append(
            f"({count:,} more nodes that are not ok, in {len(hidden_not_ok):,} more configurations, not listed; "
            "--all lists every node)"
        )
    for text in hidden_lines:
        lines += [text_line(part) for part in wrapped(words(text), width)]
    lines += [text_line(part) for part in wrapped(words(summary_line(findings)), width)]
    lines += _note_lines(findings, groups, model_notes, width, all_rows)
    write_lines(console, lines)


def print_rewrites(console: Console, rewrites: Sequence[Rewrite]) -> None:
    """`fix`'s rewritten nodes: one line each (node, verdict, before, after) where that fits the width,
    else the node and verdict with `before` and `after` stacked under them. Rewrites that differ in the
    node name only share one entry."""
    if not rewrites:
        return
    width = report_width(console)
    groups: dict[tuple[str, str, str], list[str]] = {}
    for rewrite in rewrites:
        groups.setdefault((rewrite.verdict.value, rewrite.before, rewrite.after), []).append(shown(rewrite.node))
    titles = ("node", "verdict", "before", "after")
    rows = [
        ((_named(names, False), verdict, before, after), names) for (verdict, before, after), names in groups.items()
    ]
    widths = [max(len(title), *(cell_width(cells[i]) for cells, _ in rows)) for i, title in enumerate(titles)]
    lines: list[Line] = []
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        lines.append(columns_line([(title, w, False, "bold") for title, w in zip(titles, widths)]))
        for cells, _ in rows:
            styles = ("", VERDICT_STYLE[Verdict(cells[1])], "", "")
            lines.append(columns_line([(c, w, False, style) for c, w, style in zip(cells, widths, styles)]))
        write_lines(console, lines)
        return
    verdict_width = widths[1]
    name_width = min(widths[0], max(width - verdict_width - 2, 12))
    lines.append(columns_line([("node", name_width, False, "bold"), ("verdict", verdict_width, False, "bold")]))
    for (who, verdict, before, after), names in rows:
        short = shortened(names[0], name_width)
        lines.append(
            columns_line(
                [(short, name_width, False, ""), (verdict, verdict_width, False, VERDICT_STYLE[Verdict(verdict)])]
            )
        )
        if short != names[0]:
            lines += field("node", [names[0]], width, 6)
        if len(names) > 1:
            lines += field("also", _also_atoms(names[1:], False), width, 6)
        lines += field("before", patch_atoms(before), width, 6)
        lines += field("after", patch_atoms(after), width, 6)
    write_lines(console, lines)
