"""analyse_node: the finding's reference window, verdict, patch and notes."""

from __future__ import annotations

from typing import Any

from polygraphy_deconv.core import ConvTransposeAttributes, Verdict, analyse_node, window_length


def attrs(**attributes: Any) -> ConvTransposeAttributes:
    return ConvTransposeAttributes.from_onnx("up", attributes, (4, 2, 3, 3))


class TestAnalyseNode:
    def test_basic(self) -> None:
        f = analyse_node(attrs(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]), [5, 6])
        assert f.node == "up"
        assert f.verdict is Verdict.OK and f.reason == "" and f.patch is None
        assert f.output_sizes == (10, 12)
        assert f.notes == () and f.declared_sizes is None

    def test_declared_shape_disagrees(self) -> None:
        # ONNX shape inference declares I * S + op (11x13) for SAME_UPPER with output_padding; 10x12 runs.
        f = analyse_node(attrs(strides=[2, 2], auto_pad="SAME_UPPER", output_padding=[1, 1]), [5, 6],
                         declared_sizes=[11, 13])
        assert f.declared_sizes == (11, 13)
        assert window_length(f.reference or ()) == (10, 12)
        assert any("declares [11, 13]" in note for note in f.notes)

    def test_negative_declared_shape_agrees(self) -> None:
        f = analyse_node(attrs(strides=[2, 2], auto_pad="SAME_UPPER"), [5, 6], declared_sizes=[10, 12])
        assert f.declared_sizes is None and f.notes == ()

    def test_undecided(self) -> None:
        # A large kernel keeps the parser's pre-padding non-negative with the dynamic size read as -1.
        f = ConvTransposeAttributes.from_onnx("up", {"output_shape": [2, 2]}, (4, 2, 7, 7))
        finding = analyse_node(f, [None, None])
        assert finding.verdict is Verdict.UNDECIDED
        assert "--input-shapes" in finding.reason
        assert finding.reference is None and finding.patch is None

    def test_dynamic_sizes_decided(self) -> None:
        f = analyse_node(attrs(strides=[2, 2], output_padding=[1, 1]), [None, 6])
        assert f.verdict is Verdict.OK
        assert f.output_sizes == (None, 14)
        assert "decided for every input size" in f.reason

    def test_onnxruntime_rejection_noted(self) -> None:
        a = ConvTransposeAttributes.from_onnx("up", {"dilations": [2, 2], "output_padding": [1, 1]}, (4, 2, 3, 3))
        f = analyse_node(a, [4, 4])
        assert any("onnxruntime rejects output_padding 1 >= stride 1" in note for note in f.notes)

    def test_patch_for_every_needing_verdict(self) -> None:
        f = analyse_node(attrs(strides=[2, 2], output_shape=[10, 12]), [5, 6])
        assert f.verdict is Verdict.SHIFTED and f.verdict.needs_patch
        assert f.patch is not None and f.patch.pre_padding == (1, 1) and f.patch.post_padding == (0, 0)

    def test_negative_undecided_needs_no_patch(self) -> None:
        assert not Verdict.UNDECIDED.needs_patch and not Verdict.OK.needs_patch


def test_renamed_is_replace_of_the_node_name() -> None:
    # What the analysis gives each further node of one configuration: equal to replacing the name in the attributes,
    # and leaving the original alone.
    import dataclasses

    attrs = ConvTransposeAttributes.from_onnx(
        "first", {"strides": [2, 2], "pads": [1, 0, 0, 1], "output_padding": [1, 1], "group": 2}, [4, 2, 3, 3]
    )
    finding = dataclasses.replace(analyse_node(attrs, [5, 6], bias_is_tensor=True), notes=("a note",), producer="p")
    renamed = finding.renamed("second")
    assert renamed == dataclasses.replace(finding, attributes=dataclasses.replace(finding.attributes, node="second"))
    assert renamed.node == "second" and finding.node == "first"
    assert hash(renamed) == hash(dataclasses.replace(finding, attributes=dataclasses.replace(attrs, node="second")))
