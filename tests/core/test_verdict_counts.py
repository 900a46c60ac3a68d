"""Verdict counts per test family of onnx's ConvTranspose tests (tests/onnx_cases.py), for the closing note.

Print the table:

    .venv/bin/python -m tests.core.test_verdict_counts

The test pins the counts, so a change in the core's prediction shows up here.
"""

from __future__ import annotations

from collections import Counter

import onnx

from polygraphy_deconv.core import ConvTransposeAttributes, NodeFinding, Verdict, analyse_node
from tests.onnx_cases import FAMILIES, OnnxCase, onnx_cases

EXPECTED = {
    "onnx-node": {Verdict.OK: 11},
    "pytorch-converted": {Verdict.OK: 2},
    "pytorch-operator": {Verdict.OK: 1},
}
# Cases whose window extends past the full result, where the parser adds its fill-slice (and a bias add).
EXPECTED_EXTENSIONS = {
    "onnx-node/test_convtranspose_output_shape",
    "onnx-node/test_convtranspose_pad",
    "onnx-node/test_convtranspose_kernel_shape",
    "pytorch-operator/test_operator_convtranspose",
}


def analyse_case(case: OnnxCase) -> NodeFinding:
    node = case.node
    x, weight = case.array(node.input[0]), case.array(node.input[1])
    assert x is not None and weight is not None
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    attrs = ConvTransposeAttributes.from_onnx(node.name or case.name, attributes, weight.shape)
    bias_is_tensor = len(node.input) > 2 and bool(node.input[2]) and node.input[2] in case.inputs
    return analyse_node(attrs, x.shape[2:], bias_is_tensor=bias_is_tensor)


def verdict_counts() -> dict[str, Counter[Verdict]]:
    counts: dict[str, Counter[Verdict]] = {family: Counter() for family in FAMILIES}
    for case in onnx_cases():
        counts[case.family][analyse_case(case).verdict] += 1
    return counts


def verdict_table() -> str:
    counts = verdict_counts()
    columns = list(Verdict)
    lines = [" | ".join(["family", "cases", *(v.value for v in columns)])]
    for family, counter in counts.items():
        lines.append(" | ".join([family, str(sum(counter.values())), *(str(counter[v]) for v in columns)]))
    return "\n".join(lines)


class TestVerdictCounts:
    def test_basic(self) -> None:
        counts = verdict_counts()
        assert {family: dict(counter) for family, counter in counts.items()} == EXPECTED

    def test_extensions(self) -> None:
        extended = {case.id for case in onnx_cases() if analyse_case(case).parser.extension}
        assert extended == EXPECTED_EXTENSIONS

    def test_table(self) -> None:
        table = verdict_table()
        assert all(family in table for family in FAMILIES)
        assert "| 11 | 11 |" in table  # onnx-node: 11 cases, 11 ok


if __name__ == "__main__":
    print(verdict_table())
