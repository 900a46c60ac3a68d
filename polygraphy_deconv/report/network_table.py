"""The plugin's report: a table per deconvolution unit for people, a summary line through Polygraphy's
logger (so --log-file keeps it), and the JSON findings document (schema.py, source "network").

The table goes to standard output with rich: colours on a terminal, plain ASCII otherwise; it is shown
only when Polygraphy's logger shows INFO messages (not with -q), the summary down to -qq.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from polygraphy_deconv.core.window import Window, describe_window
from polygraphy_deconv.report.schema import (
    document_text,
    findings_document,
    node_finding_record,
    verdict_counts,
    window_record,
)

if TYPE_CHECKING:
    from polygraphy_deconv.onnx_model.reading import ModelAnalysis
    from polygraphy_deconv.trt_network.patching import NetworkFix, UnitResult

ACTION_STYLES = {
    "ok": "green", "patched": "yellow", "needs-patch": "bold red", "unpatchable": "bold red",
    "unmatched": "magenta", "undecided": "cyan",
}


def _dims(dims: tuple[int | None, ...] | None) -> str:
    if dims is None:
        return "-"
    return "x".join("?" if d is None else str(d) for d in dims)


def _window(window: Window | None) -> str:
    return "-" if window is None else describe_window(window)


def summary_line(fix: NetworkFix, check_only: bool = False) -> str:
    counts = Counter(result.action for result in fix.results)
    order = ["ok", "patched", "needs-patch", "unpatchable", "undecided", "unmatched"]
    parts = [f"{counts[action]} {action}" for action in order if counts[action]]
    verb = "checked" if check_only else "fixed"
    return f"Deconvolution {verb}: {len(fix.results)} deconvolution unit(s)" + (f": {', '.join(parts)}" if parts else "")


def unit_row(result: UnitResult) -> tuple[str, str, str, str, str, str, str]:
    """(node, layers, input, expected, actual, action, detail) as text."""
    comparison = result.comparison
    unit = result.after if result.after is not None else result.unit
    node = comparison.node
    expected = node.finding.reference if node is not None else None
    expected_text = _window(expected)
    actual_text = _window(result.unit.window())
    if result.after is not None:
        actual_text += f"\n-> {_window(result.after.window())}"
    return (
        "-" if node is None else node.name,
        "\n".join(unit.layers),
        _dims(result.unit.input_dims),
        expected_text,
        actual_text,
        result.action,
        result.detail,
    )


def _logger_shows(severity_name: str) -> bool:
    from polygraphy.logger import G_LOGGER

    severity = getattr(G_LOGGER, severity_name)
    try:
        current = G_LOGGER.module_severity.get()
    except AttributeError:  # very old Polygraphy: a plain number
        current = getattr(G_LOGGER, "severity", G_LOGGER.INFO)
    return bool(current <= severity)


def render_table(fix: NetworkFix, model: str, terminal: bool | None = None, width: int | None = None) -> str:
    """The table as text (ANSI colours only when `terminal`)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    terminal = sys.stdout.isatty() if terminal is None else terminal
    table = Table(
        title=f"Deconvolutions of {os.path.basename(model)}",
        box=box.ROUNDED if terminal else box.ASCII,
        show_lines=True,
    )
    for header in ("ONNX node", "TensorRT layers", "input", "expected window", "actual window", "action", "detail"):
        table.add_column(header, overflow="fold")
    for result in fix.results:
        row = list(unit_row(result))
        style = ACTION_STYLES.get(result.action, "")
        row[5] = f"[{style}]{row[5]}[/]" if style and terminal else row[5]
        table.add_row(*row)
    console = Console(
        file=None, force_terminal=terminal, no_color=not terminal, width=width or (None if terminal else 160),
        record=True, highlight=False,
    )
    with console.capture() as capture:
        console.print(table)
    return capture.get()


def show_network_report(fix: NetworkFix, model: str, check_only: bool = False) -> None:
    """The table (when INFO messages show) and the summary line (through G_LOGGER)."""
    from polygraphy.logger import G_LOGGER

    if fix.results and _logger_shows("INFO"):
        sys.stdout.write(render_table(fix, model))
        sys.stdout.flush()
    log_finish = getattr(G_LOGGER, "finish", G_LOGGER.info)
    log_finish(summary_line(fix, check_only))
    for result in fix.results:
        if result.action in ("unpatchable", "needs-patch", "unmatched", "undecided"):
            G_LOGGER.verbose(f"{result.unit.deconvolution}: {result.action}: {result.detail}")


def network_document(fix: NetworkFix, analysis: ModelAnalysis) -> dict[str, Any]:
    """The findings document: one record per ConvTranspose node, each with its "network" part."""
    by_node: dict[str, UnitResult] = {}
    unmatched_layers = []
    for result in fix.results:
        if result.comparison.node is None:
            unmatched_layers.append(result.unit.deconvolution)
        else:
            by_node[result.comparison.node.name] = result
    records = []
    for node in analysis.nodes:
        record = node_finding_record(node.finding, node.bias)
        found = by_node.get(node.name)
        if found is None:
            record["network"] = {
                "layers": [], "actual": None, "action": "unmatched",
                "detail": "no deconvolution layer of the network maps to this node",
            }
        else:
            after = found.after.window() if found.after is not None else None
            record["network"] = {
                "layers": list((found.after or found.unit).layers),
                "actual": window_record(found.unit.window()),
                "patched": window_record(after),
                "action": found.action,
                "detail": found.detail,
            }
        records.append(record)
    actions = Counter(record["network"]["action"] for record in records)
    summary = {
        "nodes": len(analysis.nodes),
        "verdicts": verdict_counts(node.finding.verdict for node in analysis.nodes),
        "actions": dict(sorted(actions.items())),
        "unmatched_layers": unmatched_layers,
    }
    return findings_document("network", analysis.path, records, summary)


def write_network_report(fix: NetworkFix, analysis: ModelAnalysis, path: str) -> None:
    """Write the JSON document atomically (a temporary file in the target folder, then os.replace)."""
    from polygraphy_deconv.output_files import check_output_path, write_atomically

    check_output_path(path, "--deconv-report", analysis.input_files)
    text = document_text(network_document(fix, analysis))
    write_atomically(path, lambda handle: handle.write(text.encode()))