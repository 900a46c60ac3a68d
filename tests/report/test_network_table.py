"""The plugin's network report for people: what was wrong in words, what was done, the picture with the
window after the patch (on the stand-in of TensorRT's network API)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polygraphy_deconv.report.network_table import OK_ROWS_SHOWN, render_table
from polygraphy_deconv.trt_network.patching import Mode, NetworkFix, UnitResult, fix_network
from tests.standin import producers
from tests.standin.network import install as standin_install
from tests.standin.network import tensorrt_module
from tests.trt_network.nodes import conv_transpose_node
from tests.trt_network.test_patching import build, combinations, model_weights

SHIFTED = {"strides": [2, 2], "output_shape": [10, 12]}
EXTENSION = {"strides": [2, 2], "output_padding": [1, 1]}


@pytest.fixture(autouse=True)
def standin_tensorrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    standin_install(monkeypatch, tensorrt_module())
    yield


def fixed(
    attributes: dict[str, Any], bias: str = "initializer", check_only: bool = False, name: str = "deconv"
) -> NetworkFix:
    shape, weight_shape = [1, 2, 5, 6], [2, 3, 3, 3]
    node = conv_transpose_node(attributes, shape, weight_shape, bias=bias, name=name)
    weight, bias_values = model_weights(shape, weight_shape, bias, 0, attributes)
    network = producers.onnx_parser(
        node.finding.attributes, shape, weight, bias_values if bias == "initializer" else None, bias_kind=bias
    )
    return fix_network(network, [node], Mode.CHECK if check_only else None)


def lines_of(text: str, width: int) -> list[str]:
    lines = text.splitlines()
    assert all(len(line) <= width and line == line.rstrip() for line in lines), text
    assert "\x1b[" not in text
    return lines


class TestNetworkReport:
    @pytest.mark.parametrize("width", [80, 120, 160])
    def test_shifted_patched(self, width: int) -> None:
        text = render_table(fixed(SHIFTED), "/models/m.onnx", terminal=False, width=width)
        lines = lines_of(text, width)
        assert lines[0] == "Deconvolutions of m.onnx on TensorRT 10.8.0.43+standin"
        assert lines[2].split() == ["deconv", "1x2x5x6", "patched"]
        assert "    TensorRT  starts 1 element early on H and W (b=(0,0) e=(1,1) -> 10x12)" in lines
        assert "    patched   as ONNX (b=(1,1) e=(0,0) -> 10x12)" in lines
        assert "    patch     pre=[1, 1] post=[0, 0] explicit" in lines
        assert (
            "    H and W   full      ===========  L = 11 and 13\n"
            "              ONNX      .##########  [1, L)\n"
            "              TensorRT  ##########.  [0, L-1)\n"
            "              patched   .##########  [1, L)\n"
        ) in text
        assert "begin 0 trim 1" not in text  # no window notation spelt out in place of words

    def test_tensor_bias_extension(self) -> None:
        text = render_table(fixed(EXTENSION, bias="tensor"), "m.onnx", terminal=False, width=80)
        lines = lines_of(text, 80)
        assert "the extension holds 0 instead of the bias" in " ".join(text.split())
        assert "              TensorRT  ###########0  [0, L+1)" in lines
        assert "              patched   ###########+  [0, L+1)" in lines
        assert any(
            line.startswith("              + fill-slice(before=[0, 0], after=[1, 1]) + bias add") for line in lines
        )

    def test_check_only_says_what_is_needed(self) -> None:
        text = render_table(fixed(SHIFTED, check_only=True), "m.onnx", terminal=False, width=80)
        lines = lines_of(text, 80)
        assert lines[2].split() == ["deconv", "1x2x5x6", "needs-patch"]
        assert "    detail    needs a patch; --deconv-fix patches it" in lines
        assert "patched" not in text

    def test_ok_unit_is_one_window(self) -> None:
        text = render_table(
            fixed({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
            "m.onnx",
            terminal=False,
            width=80,
        )
        assert "    window    b=(1,1) e=(0,0) -> 10x12 as ONNX" in lines_of(text, 80)
        assert "full" not in text

    def test_long_names_whole_under_the_row(self) -> None:
        name = "decoder/" + "block_" * 30 + "up"
        text = render_table(fixed(SHIFTED, name=name), "m.onnx", terminal=False, width=80)
        lines = lines_of(text, 80)
        assert "..." in lines[2] and lines[2].endswith("patched")
        assert name in "".join(line.strip().removeprefix("node").strip() for line in lines[3:6])

    def test_detail_in_words(self) -> None:
        # What was wrong in words, and the patch (unit_row said the same; it had no caller left but this test).
        text = " ".join(render_table(fixed(SHIFTED), "m.onnx", terminal=False, width=200).split())
        assert "starts 1 element early on H and W" in text
        assert "patch pre=[1, 1] post=[0, 0] explicit" in text

    def test_terminal_colours_the_action(self) -> None:
        text = render_table(fixed(SHIFTED), "m.onnx", terminal=True, width=80)
        assert "\x1b[" in text and "patched" in text
        assert all(line == line.rstrip() for line in text.splitlines())


def test_input_too_wide_for_the_row_goes_under_it() -> None:
    result = fixed(SHIFTED).results[0]
    wide = result._replace(comparison=result.comparison._replace(
        unit=result.unit._replace(input_dims=(1, 1024, 1000, 1000, 1000))))
    fix = NetworkFix((wide._replace(alike=None),), library="")
    lines = lines_of(render_table(fix, "m.onnx", terminal=False, width=40), 40)
    assert lines[1].split() == ["ONNX", "node", "action"] and lines[2].split() == ["deconv", "patched"]
    assert "    input     1x1024x1000x1000x1000" in lines
    assert lines_of(render_table(fix, "m.onnx", terminal=False, width=80), 80)[2].split() == [
        "deconv", "1x1024x1000x1000x1000", "patched"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.sampled_from(["shifted", "extension", "check"]), st.text(min_size=1, max_size=80),
                       st.lists(st.integers(1, 10**6), min_size=3, max_size=5)), min_size=1, max_size=4),
    st.integers(40, 220),  # 40: the report's minimum width
)
def test_any_units_at_any_width(drawn: list[tuple[str, str, list[int]]], width: int) -> None:
    made = {"shifted": lambda: fixed(SHIFTED), "extension": lambda: fixed(EXTENSION, bias="tensor"),
            "check": lambda: fixed(SHIFTED, check_only=True)}
    results = []
    for kind, name, dims in drawn:
        result = renamed(made[kind]().results[0], name)
        unit = result.unit._replace(input_dims=tuple(dims))
        results.append(result._replace(comparison=result.comparison._replace(unit=unit), alike=None))
    text = render_table(NetworkFix(tuple(results), library="TensorRT 10.8.0.43+standin"), "m.onnx", terminal=False,
                        width=width)
    lines_of(text, width)
    assert all(c.isprintable() for line in text.splitlines() for c in line)


def renamed(result: UnitResult, name: str) -> UnitResult:
    """The same unit result for another node (as a network of repeated blocks gives)."""
    node = result.comparison.node
    assert node is not None
    comparison = result.comparison._replace(node=dataclasses.replace(node, name=name))
    return result._replace(comparison=comparison)


class TestGroupsAndCaps:
    def test_units_alike_share_a_block(self) -> None:
        (result,) = fixed(SHIFTED).results
        many = NetworkFix(tuple(renamed(result, f"up{i}") for i in range(8)))
        lines = lines_of(render_table(many, "m.onnx", terminal=False, width=80), 80)
        assert sum(line.endswith("patched") for line in lines) == 1
        assert "    also      up1, up2, up3, up4, up5, and 2 more (the JSON report lists every" in lines

    def test_ok_units_beyond_the_cap_are_counted(self) -> None:
        (ok,) = fixed({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}).results
        (shifted,) = fixed(SHIFTED).results
        results = [renamed(ok, f"ok{i}") for i in range(OK_ROWS_SHOWN + 1)] + [shifted]
        text = render_table(NetworkFix(tuple(results)), "m.onnx", terminal=False, width=80)
        assert f"({OK_ROWS_SHOWN + 1} ok units not listed; the JSON report lists every unit)" in text
        assert not any(line.startswith("ok0") for line in text.splitlines())
        assert any(line.startswith("deconv ") and line.endswith("patched") for line in text.splitlines())


def test_unmatched_unit_named_by_its_layer() -> None:
    shape, weight_shape = [1, 2, 5, 6], [2, 3, 3, 3]
    node = conv_transpose_node(SHIFTED, shape, weight_shape, name="up\x1b[2J")
    weight, bias = model_weights(shape, weight_shape, "initializer", 0, SHIFTED)
    network = producers.onnx_parser(node.finding.attributes, shape, weight, bias)
    text = render_table(fix_network(network, []), "m.onnx", terminal=False, width=80)
    lines = lines_of(text, 80)
    assert lines[2].split() == ["(layer", "up\\x1b[2J)", "1x2x5x6", "unmatched"]
    assert any(line.startswith("    detail    no ConvTranspose node") for line in lines)


@pytest.mark.parametrize(
    "producer, bias, attributes, input_shape, weight_shape", combinations(("initializer", "tensor"))
)
def test_every_producer_and_case_fits_80_columns(
    producer: str, bias: str, attributes: dict[str, Any], input_shape: list[int], weight_shape: list[int]
) -> None:
    node = conv_transpose_node(attributes, input_shape, weight_shape, bias=bias, name="decoder/" + "block_" * 12)
    weight, bias_values = model_weights(input_shape, weight_shape, bias, 0, attributes)
    network = build(producer, node, input_shape, weight, bias_values if bias == "initializer" else None)
    fix = fix_network(network, [node])
    lines = lines_of(render_table(fix, "m.onnx", terminal=False, width=80), 80)
    (result,) = fix.results
    assert any(line.split()[-1:] == [result.action] for line in lines[2:3])
    if result.action == "patched":
        assert any(line.startswith("    patched   as ONNX") for line in lines)


def named(finding: Any, name: str) -> Any:
    """The finding under another node name (the record's "node")."""
    return dataclasses.replace(finding, attributes=dataclasses.replace(finding.attributes, node=name))


def test_json_text_in_one_pass_is_the_documents_text() -> None:
    """network_document_text (what --deconv-report writes) is document_text(network_document(...)), byte for byte:
    patched, ok, needs-patch and unmatched units, a node no unit maps to, nodes of one configuration (their texts
    reused), names that need escaping, and nodes rewritten before the parse."""
    from polygraphy_deconv.core.model import ModelAnalysis
    from polygraphy_deconv.report.network_table import network_document, network_document_text
    from polygraphy_deconv.report.schema import document_text

    (shifted,) = fixed(SHIFTED).results
    (extension,) = fixed(EXTENSION, bias="tensor").results
    (ok,) = fixed({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}).results
    (needs,) = fixed(SHIFTED, check_only=True).results
    names = ["up0", 'up "1"', "up\x1b[2J", "ok", "ext", "needs"]
    results = [renamed(shifted, name) for name in names[:3]] + [renamed(ok, "ok"), renamed(extension, "ext"),
                                                                 renamed(needs, "needs")]
    nodes = []
    for position, result in enumerate(results):
        node = result.comparison.node
        assert node is not None
        nodes.append(dataclasses.replace(node, index=position, finding=named(node.finding, node.name)))
    results = [r._replace(comparison=r.comparison._replace(node=n)) for r, n in zip(results, nodes)]
    unmatched_layer = results[0]._replace(  # shown otherwise: alike with no other result
        comparison=results[0].comparison._replace(node=None, matched_by=""), alike=None
    )
    lonely = dataclasses.replace(nodes[0], name="lonely", index=len(nodes), output="lonely.out",
                                 finding=named(nodes[0].finding, "lonely"))
    fix = NetworkFix((*results[:-1], unmatched_layer, results[-1]), library="TensorRT 10.8.0.43+standin")
    for same in ((), (0, 0, 0, 3, 4, 0, 0)):
        analysis = ModelAnalysis("/models/m.onnx", (*nodes, lonely), same_configuration=same)
        for rewritten in ((), ("up0", "ext")):
            expected = document_text(network_document(fix, analysis, rewritten))
            assert network_document_text(fix, analysis, rewritten) == expected
