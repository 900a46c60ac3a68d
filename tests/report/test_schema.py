"""The findings JSON: record texts reused across equal configurations equal a fresh encoding."""

from __future__ import annotations

import json

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.report.schema import document_text, findings_document, node_finding_record, record_texts


def finding(name: str, **attributes: object):  # type: ignore[no-untyped-def]
    attrs = ConvTransposeAttributes.from_onnx(name, {"strides": [2, 2], **attributes}, [2, 2, 3, 3])
    return analyse_node(attrs, [5, 6])


class TestRecordTexts:
    def test_basic(self) -> None:
        findings = [
            finding("a", output_shape=[10, 12]),
            finding("b \"quoted\"", output_shape=[10, 12]),
            finding("c", pads=[1, 1, 1, 1], output_padding=[1, 1]),
            finding("d", output_shape=[10, 12]),
        ]
        biases = ["initializer", "initializer", "tensor", "initializer"]
        same = [0, 0, 2, 0]  # b and d repeat a's configuration
        texts = record_texts(findings, biases, same)
        assert texts == [json.dumps(node_finding_record(f, b)) for f, b in zip(findings, biases)]

    def test_document_text_is_the_document(self) -> None:
        findings = [finding("a", output_shape=[10, 12]), finding("b", output_shape=[10, 12])]
        records = [node_finding_record(f, "none") for f in findings]
        document = findings_document("inspect", "/m.onnx", records, {"nodes": 2})
        assert json.loads(document_text(document)) == document
        texts = record_texts(findings, ["none", "none"], [0, 0])
        assert json.loads(document_text(document, texts)) == document
        empty = findings_document("inspect", "/m.onnx", [], {"nodes": 0})
        assert json.loads(document_text(empty)) == empty
