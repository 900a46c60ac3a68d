"""The plugin's report: a block per deconvolution unit for people, a summary line through Polygraphy's
logger (so --log-file keeps it), and the JSON findings document (schema.py, source "network").

The blocks go to standard output: colours on a terminal, plain text otherwise, at the terminal's width
(COLUMNS or 80 when piped). They say in words what was wrong with a unit and what was done, with a
picture of the ONNX window, TensorRT's and the one after the patch on the full result (windows.py).
Units that differ in names only share a block; ok units beyond OK_ROWS_SHOWN and other configurations
beyond NOT_OK_GROUPS_SHOWN are counted, not listed (the JSON report has every unit). Shown only when
Polygraphy's logger shows INFO messages (not with -q), the summary down to -qq. Every name from the model
or the network is shown escaped (text.shown) and reaches rich as Text, never as markup.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

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
)
from polygraphy_deconv.report.schema import (
    document_text,
    findings_document,
    node_finding_record,
    record_rests,
    verdict_counts,
    window_record,
)
from polygraphy_deconv.report.windows import bar_legend, difference_words, picture_groups, window_words
from polygraphy_deconv.text import shown
from polygraphy_deconv.trt_network.patching import Action, Mode

if TYPE_CHECKING:
    from polygraphy_deconv.core.model import ModelAnalysis
    from polygraphy_deconv.trt_network.patching import NetworkFix, UnitResult

ACTION_STYLES = {
    Action.OK: "green",
    Action.PATCHED: "yellow",
    Action.NEEDS_PATCH: "bold red",
    Action.UNPATCHABLE: "bold red",
    Action.UNMATCHED: "magenta",
    Action.UNDECIDED: "cyan",
}
OK_ROWS_SHOWN = 50  # ok units listed (beyond, they are counted)
NOT_OK_GROUPS_SHOWN = 20  # configurations of units that are not ok listed
NAMES_SHOWN = 5
LABEL_WIDTH = 8  # 'TensorRT'


def _dims(dims: tuple[int | None, ...] | None) -> str:
    if dims is None:
        return "-"
    return "x".join("?" if d is None else str(d) for d in dims)


def summary_line(fix: NetworkFix, mode: Mode | None = None, rewritten: Sequence[str] = ()) -> str:
    """One line; `rewritten`: the ConvTranspose nodes rewritten before the parse (the plugin's RewriteForParser)."""
    parts = [f"{fix.counts[action]} {action.value}" for action in Action if fix.counts[action]]
    verb = "fixed" if mode is None or mode.patches else "checked"
    library = f" on {shown(fix.library)}" if fix.library else ""
    line = f"Deconvolution {verb}{library}: {len(fix.results)} deconvolution unit(s)" + (f": {', '.join(parts)}" if parts else "")
    if rewritten:
        line += f"; rewritten before the parse: {', '.join(shown(name) for name in rewritten)}"
    return line


def what_differs(result: UnitResult) -> str:
    """What is wrong with the unit as the network had it, in words ('' when nothing is)."""
    reference = result.comparison.reference
    unit = result.unit
    problems = []
    if reference is not None and result.comparison.needs_patch:
        actual = unit.window()
        difference = difference_words(reference, actual)
        if difference != "the same window":
            problems.append(difference)
        if not unit.added_axis_is_identity():
            problems.append("the axis added for 1D does not pass its one element through")
        if not problems and unit.extension_loses_bias:
            problems.append(
                "the same window, but the bias stays on the deconvolution: the extension holds 0 instead of the bias"
            )
    return "; ".join(problems)


def _result_key(result: UnitResult) -> Hashable:
    """Everything shown of a unit but its names."""
    node = result.comparison.node
    finding = node.finding if node is not None else None
    after = result.after
    return (
        result.action,
        result.comparison.status,
        result.unit.input_dims,
        result.unit.window(),
        result.unit.bias,
        result.unit.slice,
        None if after is None else after.window(),
        result.patch,
        None if finding is None else (finding.reference, finding.attributes.rank),
        len(result.unit.layers),
        None if node is None else node.bias,
        result.detail if result.action in (Action.UNPATCHABLE, Action.UNMATCHED, Action.UNDECIDED) else None,
    )


def _who(result: UnitResult) -> str:
    """The unit's ONNX node, shown escaped; an unmatched unit by its deconvolution layer."""
    node = result.comparison.node
    return f"(layer {shown(result.unit.deconvolution)})" if node is None else shown(node.name)


def _also(names: Sequence[str]) -> list[str]:
    listed = names[:NAMES_SHOWN]
    atoms = [f"{name}," for name in listed[:-1]] + [listed[-1]]
    if len(listed) < len(names):
        atoms[-1] += ","
        atoms += words(f"and {len(names) - len(listed):,} more (the JSON report lists every unit)")
    return atoms


def _unit_lines(group: Sequence[UnitResult], widths: tuple[int, int, int], width: int, used: set[str]) -> list[Line]:
    result = group[0]
    comparison = result.comparison
    name_width, input_width, action_width = widths  # input_width 0: the input under the row
    name = _who(result)
    short = shortened(name, name_width)
    cells = [(short, name_width, False, "")]
    if input_width:
        cells.append((_dims(result.unit.input_dims), input_width, True, ""))
    cells.append((result.action.value, action_width, False, ACTION_STYLES.get(result.action, "")))
    lines: list[Line] = [columns_line(cells)]
    if short != name:
        lines += field("node", [name], width, LABEL_WIDTH)
    if not input_width:
        lines += field("input", [_dims(result.unit.input_dims)], width, LABEL_WIDTH)
    if len(group) > 1:
        lines += field(
            "also",
            _also([_who(r) for r in group[1:]]),
            width,
            LABEL_WIDTH,
        )
    unit = result.after if result.after is not None else result.unit
    layers = [shown(layer) for layer in unit.layers]
    lines += field("layers", [f"{layer}," for layer in layers[:-1]] + layers[-1:], width, LABEL_WIDTH)
    reference = comparison.reference
    actual = result.unit.window()
    if result.action == Action.OK:
        lines += field("window", [describe_window(actual), *words("as ONNX")], width, LABEL_WIDTH)
        return lines
    if reference is not None:
        lines += field("ONNX", [*words(window_words(reference)), f"({describe_window(reference)})"], width, LABEL_WIDTH)
    wrong = what_differs(result)
    lines += field(
        "TensorRT",
        [*words(wrong), f"({describe_window(actual)})"] if wrong else [describe_window(actual)],
        width,
        LABEL_WIDTH,
    )
    after = result.after.window() if result.after is not None else None
    if after is not None and reference is not None:
        agrees = difference_words(reference, after)
        said = "as ONNX" if agrees == "the same window" else f"still {agrees}"
        lines += field("patched", [*words(said), f"({describe_window(after)})"], width, LABEL_WIDTH)
    if result.patch is not None:
        lines += field("patch", patch_atoms(result.patch.describe()), width, LABEL_WIDTH)
    if result.action == Action.NEEDS_PATCH:
        lines += field("detail", words("needs a patch; --deconv-fix patches it"), width, LABEL_WIDTH)
    elif result.action in (Action.UNPATCHABLE, Action.UNMATCHED, Action.UNDECIDED):
        lines += field("detail", words(shown(result.detail)), width, LABEL_WIDTH)
    if reference is not None:
        windows = [reference, actual] + ([after] if after is not None else [])
        labels = ["ONNX", "TensorRT", "patched"][: len(windows)]
        zero = [False, result.unit.extension_loses_bias, False][: len(windows)]
        pictures = picture_groups(windows, labels, zero_extension=zero, used=used,
                                  fits=lambda axes, picture: block_width(axes, picture, LABEL_WIDTH) <= width)
        for axes, picture in pictures:
            lines += block_lines(axes, picture, LABEL_WIDTH)
    return lines


def report_lines(fix: NetworkFix, model: str, width: int) -> list[Line]:
    """The report for people as laid-out lines."""
    groups: dict[Hashable, list[UnitResult]] = {}
    keys: dict[int, Hashable] = {}  # _result_key of each UnitResult.alike: results alike show alike
    for result in fix.results:
        if result.alike is None:
            key = _result_key(result)
        else:
            key = keys.get(result.alike)
            if key is None:
                key = keys[result.alike] = _result_key(result)
        groups.setdefault(key, []).append(result)
    ordered = list(groups.values())
    ok_units = sum(len(g) for g in ordered if g[0].action == Action.OK)
    hide_ok = ok_units > OK_ROWS_SHOWN
    listed = [g for g in ordered if not (hide_ok and g[0].action == Action.OK)]
    not_ok = [g for g in listed if g[0].action != Action.OK]
    hidden = not_ok[NOT_OK_GROUPS_SHOWN:]
    if hidden:
        dropped = {id(g) for g in hidden}
        listed = [g for g in listed if id(g) not in dropped]
    lines: list[Line] = [
        text_line(text, "bold") for text in wrapped(words(f"Deconvolutions of {shown(os.path.basename(model))}" + (f" on {shown(fix.library)}" if fix.library else "")), width)
    ]
    used: set[str] = set()  # characters of the bars drawn, for their legend
    if listed:
        names = [_who(g[0]) for g in listed]
        input_width = max(5, *(cell_width(_dims(g[0].unit.input_dims)) for g in listed))
        action_width = max(6, *(len(g[0].action.value) for g in listed))
        longest = max(9, *(cell_width(n) for n in names))
        if input_width + action_width + 4 + 12 > width:  # the input leaves a name no room: it goes under the row
            input_width = 0
        name_width = min(longest, max(width - input_width - action_width - (4 if input_width else 2), 12))
        widths = (name_width, input_width, action_width)
        titles = [("ONNX node", name_width, False, "bold")]
        if input_width:
            titles.append(("input", input_width, True, "bold"))
        titles.append(("action", action_width, False, "bold"))
        lines.append(columns_line(titles))
        for group in listed:
            lines += _unit_lines(group, widths, width, used)
        if used:
            lines += [text_line(text) for text in wrapped(words(bar_legend(used)), width)]
    if hide_ok:
        lines += [
            text_line(t)
            for t in wrapped(words(f"({ok_units:,} ok units not listed; the JSON report lists every unit)"), width)
        ]
    if hidden:
        count = sum(len(g) for g in hidden)
        lines += [
            text_line(t)
            for t in wrapped(
                words(
                    f"({count:,} more units in {len(hidden):,} more configurations not listed; "
                    "the JSON report lists every unit)"
                ),
                width,
            )
        ]
    return lines


def _logger_shows(severity_name: str) -> bool:
    from polygraphy.logger import G_LOGGER

    severity = getattr(G_LOGGER, severity_name)
    try:
        current = G_LOGGER.module_severity.get()
    except AttributeError:  # very old Polygraphy: a plain number
        current = getattr(G_LOGGER, "severity", G_LOGGER.INFO)
    return bool(current <= severity)


def render_table(fix: NetworkFix, model: str, terminal: bool | None = None, width: int | None = None) -> str:
    """The report as text (ANSI colours only when `terminal`), at `width` columns (default: the
    terminal's, else COLUMNS, else 80)."""
    from rich.console import Console
    from rich.text import Text

    terminal = sys.stdout.isatty() if terminal is None else terminal
    console = Console(file=sys.stdout, force_terminal=terminal, no_color=not terminal, highlight=False, width=width)
    lines = report_lines(fix, model, max(console.width, 40))
    if not terminal:
        return "".join("".join(text for text, _ in line).rstrip() + "\n" for line in lines)
    text = Text()
    for line in lines:
        for segment, style in line:
            text.append(segment, style or None)
        text.append("\n")
    with console.capture() as capture:
        console.print(text, end="", soft_wrap=True)
    return capture.get()


def show_network_report(fix: NetworkFix, model: str, mode: Mode | None = None, rewritten: Sequence[str] = ()) -> None:
    """The blocks (when INFO messages show) and the summary line (through G_LOGGER)."""
    from polygraphy.logger import G_LOGGER

    if fix.results and _logger_shows("INFO"):
        sys.stdout.write(render_table(fix, model))
        sys.stdout.flush()
    log_finish = getattr(G_LOGGER, "finish", G_LOGGER.info)
    log_finish(summary_line(fix, mode, rewritten))
    for result in fix.with_action(Action.UNPATCHABLE, Action.NEEDS_PATCH, Action.UNMATCHED, Action.UNDECIDED):
        G_LOGGER.verbose(f"{shown(result.unit.deconvolution)}: {result.action.value}: {shown(result.detail)}")


def _node_results(fix: NetworkFix, analysis: ModelAnalysis) -> tuple[list[UnitResult | None], list[str]]:
    """Each node's unit result (None where no unit maps to it), in the order of `analysis.nodes`, and the layers
    mapped to no node."""
    by_node: dict[int, UnitResult] = {}  # by position in the graph: node names may repeat
    unmatched_layers = []
    for result in fix.results:
        if result.comparison.node is None:
            unmatched_layers.append(result.unit.deconvolution)
        else:
            by_node[result.comparison.node.index] = result
    return [by_node.get(node.index) for node in analysis.nodes], unmatched_layers


def _network_part(found: UnitResult | None, rewritten: bool) -> dict[str, Any]:
    """A node's "network" part."""
    if found is None:
        part: dict[str, Any] = {
            "layers": [],
            "actual": None,
            "action": Action.UNMATCHED.value,
            "detail": "no deconvolution layer of the network maps to this node",
        }
    else:
        after = found.after.window() if found.after is not None else None
        part = {
            "layers": list((found.after or found.unit).layers),
            "actual": window_record(found.unit.window()),
            "patched": window_record(after),
            "action": found.action.value,
            "detail": found.detail,
        }
    part["rewritten_before_parse"] = rewritten
    return part


def _network_parts(fix: NetworkFix, analysis: ModelAnalysis, rewritten: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each node's "network" part (in the order of `analysis.nodes`), and the layers mapped to no node."""
    found, unmatched_layers = _node_results(fix, analysis)
    rewritten_names = set(rewritten)
    parts = [_network_part(result, node.name in rewritten_names) for node, result in zip(analysis.nodes, found)]
    return parts, unmatched_layers


def _network_part_texts(fix: NetworkFix, analysis: ModelAnalysis, rewritten: Sequence[str]
                        ) -> tuple[list[tuple[Sequence[str], str]], list[str], Counter[str]]:
    """Each node's "network" part as JSON, in two pieces: its layer names ("layers", the part's first key) and the
    text after them; the layers mapped to no node; the count of each action. Results alike (UnitResult.alike) differ
    in their names only: the text after the layers is encoded once for them."""
    import json

    found, unmatched_layers = _node_results(fix, analysis)
    rewritten_names = set(rewritten)
    rests: dict[Hashable, str] = {}
    pieces: list[tuple[Sequence[str], str]] = []
    for node, result in zip(analysis.nodes, found):
        flag = node.name in rewritten_names
        if result is None:
            key: Hashable = flag
        elif result.alike is not None:
            key = (result.alike, flag)
        else:
            after = result.after.window() if result.after is not None else None
            key = (result.unit.window(), after, result.action, result.detail, flag)
        rest = rests.get(key)
        if rest is None:
            part = _network_part(result, flag)
            rest = rests[key] = json.dumps(part)[len('{"layers": ' + json.dumps(part["layers"])) :]
        pieces.append(((), rest) if result is None else ((result.after or result.unit).layers, rest))
    actions = Counter(Action.UNMATCHED if result is None else result.action for result in found)
    return pieces, unmatched_layers, Counter({action.value: count for action, count in actions.items()})


def _network_summary(fix: NetworkFix, analysis: ModelAnalysis, rewritten: Sequence[str], actions: Counter[str],
                     unmatched_layers: list[str]) -> dict[str, Any]:
    return {
        "nodes": len(analysis.nodes),
        "verdicts": verdict_counts(node.finding.verdict for node in analysis.nodes),
        "actions": dict(sorted(actions.items())),
        "unmatched_layers": unmatched_layers,
        "rewritten_before_parse": list(rewritten),
        "library": fix.library,
    }


def network_document(fix: NetworkFix, analysis: ModelAnalysis, rewritten: Sequence[str] = ()) -> dict[str, Any]:
    """The findings document: one record per ConvTranspose node, each with its "network" part. `rewritten`: the
    nodes rewritten before the parse (`analysis` is then of the model the parser got, where they are ordinary)."""
    parts, unmatched_layers = _network_parts(fix, analysis, rewritten)
    records = []
    for node, part in zip(analysis.nodes, parts):
        record = node_finding_record(node.finding, node.bias)
        record["network"] = part
        records.append(record)
    actions = Counter(part["action"] for part in parts)
    summary = _network_summary(fix, analysis, rewritten, actions, unmatched_layers)
    return findings_document("network", analysis.path, records, summary)


def network_document_text(fix: NetworkFix, analysis: ModelAnalysis, rewritten: Sequence[str] = ()) -> str:
    """document_text(network_document(...)), the same text in one pass: each node's finding from record_rests
    (the nodes of one configuration encoded once, as `inspect --json` does), its "network" part encoded alone and
    put in as the record's last key. A deep network's thousands of record dicts would cost more to build, encode
    one by one and collect than the patch itself; each record's line is put together once, from shared pieces."""
    from json.encoder import encode_basestring_ascii as quoted  # what json.dumps writes for a str

    parts, unmatched_layers, actions = _network_part_texts(fix, analysis, rewritten)
    nodes = analysis.nodes
    rests = record_rests([node.finding for node in nodes], [node.bias for node in nodes], analysis.same_configuration)
    opened: dict[str, str] = {}  # each finding rest without its closing brace: one per configuration
    texts = []
    for node, rest, (layers, part) in zip(nodes, rests, parts):
        head = opened.get(rest)
        if head is None:
            head = opened[rest] = rest[:-1]
        # json.dumps(record) with "network" as its last key.
        texts.append(f'{{"node": {quoted(node.finding.node)}{head}, "network": {{"layers": '
                     f'[{", ".join(map(quoted, layers))}]{part}}}')
    summary = _network_summary(fix, analysis, rewritten, actions, unmatched_layers)
    return document_text(findings_document("network", analysis.path, [], summary), texts)


def write_network_report(fix: NetworkFix, analysis: ModelAnalysis, path: str, rewritten: Sequence[str] = ()) -> None:
    """Write the JSON document atomically (a temporary file in the target folder, then os.replace), with the
    model's permissions (as every output of this package)."""
    from polygraphy_deconv.output_files import check_output_path, write_atomically

    check_output_path(path, "--deconv-report", analysis.input_files)
    text = network_document_text(fix, analysis, rewritten)
    write_atomically(path, lambda handle: handle.write(text.encode()), like=analysis.path)
