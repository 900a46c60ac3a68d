"""The inspect report for people: rows, the summary, and the collapsing of many ok rows."""

from __future__ import annotations

import io

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.core.finding import NodeFinding
from polygraphy_deconv.report.inspect_table import OK_ROWS_SHOWN, make_console, print_inspect_report


def finding(name: str, **attributes: object) -> NodeFinding:
    attrs = ConvTransposeAttributes.from_onnx(name, {"strides": [2, 2], **attributes}, [2, 2, 3, 3])
    return analyse_node(attrs, [5, 6])


def report(findings: list[NodeFinding], **kwargs: object) -> str:
    stream = io.StringIO()
    print_inspect_report(findings, model="m.onnx", console=make_console(stream), **kwargs)  # type: ignore[arg-type]
    return stream.getvalue()


class TestPrintInspectReport:
    def test_basic(self) -> None:
        text = report([finding("up", pads=[1, 1, 1, 1], output_padding=[1, 1]), finding("odd", output_shape=[10, 12])])
        lines = text.splitlines()
        assert lines[0] == "m.onnx"
        assert "\x1b[" not in text
        up = next(line for line in lines if line.startswith("up "))
        assert "k=3 s=2 p=1 op=1" in up and "5x6" in up and "10x12" in up and " ok " in up
        odd = next(line for line in lines if line.startswith("odd "))
        assert "shifted" in odd and "b=(1,1) e=(0,0) -> 10x12" in odd and "b=(0,0) e=(1,1) -> 10x12" in odd
        assert "pre=[1, 1] post=[0, 0] explicit" in odd
        assert "2 ConvTranspose: 1 ok, 1 shifted" in text

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
        findings = [finding(f"ok{i}", pads=[1, 1, 1, 1], output_padding=[1, 1]) for i in range(OK_ROWS_SHOWN)]
        text = report(findings)
        assert "not listed" not in text
        assert sum(line.startswith("ok") for line in text.splitlines()) == OK_ROWS_SHOWN
