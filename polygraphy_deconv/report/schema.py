"""The JSON findings document, shared by `polygraphy-deconv inspect --json` and the plugin's
`--deconv-report`. Pure: builds plain dicts from core values; no rich, no onnx.

Schema `polygraphy-deconv/findings`, version 1 (docs/json-schema.md documents every field):

    {
      "schema": "polygraphy-deconv/findings",
      "version": 1,
      "tool": "polygraphy-deconv 0.1.0",
      "source": "inspect" | "network",
      "model": "/abs/path/model.onnx",
      "tensorrt_rules": "8.6" | "10" | "11" | "rtx"   (whose ONNX parser rules the "tensorrt" predictions follow)
      "findings": [ <node finding>, ... ],
      "summary": {"nodes": N, "verdicts": {"ok": n, ...},
                  "actions": {...}, "unmatched_layers": [...], "rewritten_before_parse": [...],
                  "library": "TensorRT-RTX 1.7.1.116" (network only)}
    }

A node finding:

    {
      "node": "name", "rank": 2,
      "attributes": {"kernel_shape": [...], "strides": [...], "dilations": [...], "pads": [...],
                     "output_padding": [...], "output_shape": [...] | null, "auto_pad": "NOTSET", "group": 1},
      "bias": "none" | "initializer" | "tensor",
      "input_spatial": [5, 6] (null for a dynamic size),
      "output_spatial": [10, 12] | null,
      "reference": <window> | null,
      "declared_spatial": [..] | null     (only where ONNX shape inference disagrees with what runs)
      "tensorrt": {"window": <window> | null, "parse_error": str | null, "extension": bool},
      "verdict": "ok" | "shifted" | "wrong-shape" | "parse-error" | "tensor-bias" | "negative-pads" | "undecided",
      "reason": str,
      "producer": "tf2onnx" | null        (the producer whose pattern the attributes follow; negative-pads only)
      "patch": <patch> | null,
      "notes": [str, ...]
    }

A window is a list with one entry per spatial axis: {"begin": b, "trim": e, "length": O | null}.
A patch: {"pre_padding": [..], "post_padding": [..], "padding_mode": "EXPLICIT_ROUND_DOWN",
"extension_before": [..], "extension_after": [..], "bias_add": bool}.
The plugin adds to each finding "network": {"layers": [...], "actual": <window> | null,
"patched": <window> | null, "action": "ok" | "patched" | "needs-patch" | "unpatchable" | "undecided" | "unmatched",
"detail": str}.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from polygraphy_deconv import __version__
from polygraphy_deconv.core.deconvolution import DeconvolutionPatch
from polygraphy_deconv.core.finding import NodeFinding, Verdict
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, ParserRules
from polygraphy_deconv.core.window import Window

SCHEMA = "polygraphy-deconv/findings"
SCHEMA_VERSION = 1


def window_record(window: Window | None) -> list[dict[str, int | None]] | None:
    if window is None:
        return None
    return [{"begin": a.begin, "trim": a.trim, "length": a.length} for a in window]


def patch_record(patch: DeconvolutionPatch | None) -> dict[str, Any] | None:
    if patch is None:
        return None
    return {
        "pre_padding": list(patch.pre_padding),
        "post_padding": list(patch.post_padding),
        "padding_mode": "EXPLICIT_ROUND_DOWN",
        "extension_before": list(patch.extension_before),
        "extension_after": list(patch.extension_after),
        "bias_add": patch.needs_extension,
    }


def node_finding_record(finding: NodeFinding, bias: str) -> dict[str, Any]:
    """One finding as a JSON-ready dict; `bias` is "none", "initializer" or "tensor"."""
    attrs = finding.attributes
    return {
        "node": finding.node,
        "rank": attrs.rank,
        "attributes": {
            "kernel_shape": list(attrs.kernel_shape),
            "strides": list(attrs.strides),
            "dilations": list(attrs.dilations),
            "pads": list(attrs.pads),
            "output_padding": list(attrs.output_padding),
            "output_shape": None if attrs.output_shape is None else list(attrs.output_shape),
            "auto_pad": attrs.auto_pad,
            "group": attrs.group,
        },
        "bias": bias,
        "input_spatial": list(finding.input_sizes),
        "output_spatial": None if finding.output_sizes is None else list(finding.output_sizes),
        "reference": window_record(finding.reference),
        "declared_spatial": None if finding.declared_sizes is None else list(finding.declared_sizes),
        "tensorrt": {
            "window": window_record(finding.parser.window),
            "parse_error": finding.parser.parse_error,
            "extension": finding.parser.extension,
        },
        "verdict": finding.verdict.value,
        "reason": finding.reason,
        "producer": finding.producer or None,
        "patch": patch_record(finding.patch),
        "notes": list(finding.notes),
    }


def verdict_counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    counts = Counter(verdicts)
    return {v.value: counts.get(v, 0) for v in Verdict}


def findings_document(
    source: str,
    model: str,
    records: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    tensorrt_rules: ParserRules = NEWEST_RULES,
) -> dict[str, Any]:
    """The top-level document; `source` is "inspect" or "network"; `tensorrt_rules` the TensorRT version
    whose parser rules made the predictions (added in version 1: readers of older documents see none)."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": f"polygraphy-deconv {__version__}",
        "source": source,
        "model": model,
        "tensorrt_rules": tensorrt_rules,
        "findings": list(records),
        "summary": dict(summary),
    }


def record_texts(findings: Sequence[NodeFinding], biases: Sequence[str], same_configuration: Sequence[int] = ()) -> list[str]:
    """The JSON text of node_finding_record for each finding (with its bias). `same_configuration[i]` is
    the position of an earlier finding that differs from finding i in the node name only (i itself where
    there is none; empty: none anywhere): its text is reused with the name replaced, so a decoder's
    5,000 equal nodes are encoded once."""
    from json.encoder import encode_basestring_ascii as quoted  # what json.dumps writes for a str

    return [f'{{"node": {quoted(finding.node)}{rest}' for finding, rest in
            zip(findings, record_rests(findings, biases, same_configuration))]


def record_rests(findings: Sequence[NodeFinding], biases: Sequence[str], same_configuration: Sequence[int] = ()
                 ) -> list[str]:
    """For each finding, its record's JSON text after the node name: the record is '{"node": ' + the name as JSON +
    this ("node" is every record's first key). One string per configuration (see record_texts), shared by its
    findings."""
    import json
    from json.encoder import encode_basestring_ascii as quoted

    rests: list[str] = []
    for position, (finding, bias) in enumerate(zip(findings, biases)):
        first = same_configuration[position] if same_configuration else position
        if first != position:
            rests.append(rests[first])
            continue
        text, head = json.dumps(node_finding_record(finding, bias)), '{"node": ' + quoted(finding.node)
        assert text.startswith(head), "node_finding_record's first key is the node"
        rests.append(text[len(head):])
    return rests


def document_text(document: Mapping[str, Any], finding_texts: Sequence[str] | None = None) -> str:
    """The document as JSON text: one finding per line (readable in a diff, and written with json's C
    encoder: an indented dump of 5,000 findings takes seconds). `finding_texts` (from record_texts)
    stand for the document's findings when given."""
    import json

    head = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in document.items() if key != "findings"]
    if finding_texts is None:
        finding_texts = [json.dumps(record) for record in document.get("findings", [])]
    if not finding_texts:
        return "{\n" + ",\n".join([*head, '  "findings": []']) + "\n}\n"
    # One join of every piece: a deep network's document is megabytes, each concatenation a copy of it.
    return "".join(["{\n", *(line + ",\n" for line in head), '  "findings": [\n    ', ",\n    ".join(finding_texts),
                    "\n  ]\n}\n"])
