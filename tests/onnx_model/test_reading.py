"""Reading ConvTranspose nodes from ONNX files: sizes, weights, bias kinds, declared shapes, bad input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from polygraphy_deconv.core.attributes import InvalidConvTranspose
from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.core.window import describe_window
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.analysis import analyse_model, analyse_proto
from polygraphy_deconv.onnx_model.graph import load_model
from tests.models import conv_transpose_model
from tests.onnx_model.dynamic_models import DYNAMIC_OUTPUT_SHAPE_BOUND, dynamic_output_shape

K3S2: dict[str, Any] = {"input_shape": [1, 2, 5, 6], "weight_shape": [2, 3, 3, 3], "strides": [2, 2]}


def save(model: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> str:
    path = str(folder / name)
    onnx.save(model, path)
    return path


def chain_model(*nodes: onnx.NodeProto, extra_inputs: tuple[onnx.ValueInfoProto, ...] = ()) -> onnx.ModelProto:
    """x [1, 2, 5, 6] -> nodes -> y, with W [2, 3, 3, 3] and B [3] as initializers."""
    rng = np.random.default_rng(0)
    graph = helper.make_graph(
        list(nodes),
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6]), *extra_inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), "W"),
            numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "B"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class TestAnalyseModel:
    def test_basic(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2, pads=[1, 1, 1, 1], output_padding=[1, 1]), tmp_path)
        analysis = analyse_model(path)
        assert analysis.path == os.path.abspath(path)
        assert analysis.notes == ()
        (node,) = analysis.nodes
        assert (node.name, node.index, node.output, node.bias) == ("deconv", 0, "y", "initializer")
        assert node.finding.input_sizes == (5, 6)
        assert node.finding.output_sizes == (10, 12)
        assert node.finding.verdict is Verdict.OK

    @pytest.mark.parametrize(
        "attributes, bias, verdict",
        [
            ({"output_shape": [10, 12]}, "initializer", Verdict.SHIFTED),
            ({"auto_pad": "SAME_UPPER", "output_shape": [11, 13]}, "initializer", Verdict.WRONG_SHAPE),
            ({"strides": [3, 3], "output_shape": [17, 19]}, "initializer", Verdict.PARSE_ERROR),
            ({"output_padding": [1, 1]}, "tensor", Verdict.TENSOR_BIAS),
            ({"output_padding": [1, 1]}, "initializer", Verdict.OK),
        ],
    )
    def test_verdicts(self, tmp_path: Path, attributes: dict[str, Any], bias: str, verdict: Verdict) -> None:
        kwargs: dict[str, Any] = {**K3S2, **attributes}
        analysis = analyse_model(save(conv_transpose_model(**kwargs, bias=bias), tmp_path))
        assert analysis.nodes[0].finding.verdict is verdict

    def test_declared_shape_disagreement(self, tmp_path: Path) -> None:
        # ONNX shape inference declares I * S + op for SAME_* with output_padding; onnxruntime runs I * S.
        model = conv_transpose_model(**K3S2, auto_pad="SAME_UPPER", output_padding=[1, 1])
        finding = analyse_model(save(model, tmp_path)).nodes[0].finding
        assert finding.declared_sizes == (11, 13)
        assert finding.output_sizes == (10, 12)
        assert any("declares [11, 13]" in note for note in finding.notes)

    def test_dynamic_batch_is_decided(self, tmp_path: Path) -> None:
        model = conv_transpose_model(["N", 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        finding = analyse_model(save(model, tmp_path)).nodes[0].finding
        assert finding.input_sizes == (5, 6)
        assert finding.verdict is Verdict.SHIFTED

    def test_dynamic_spatial_output_shape_then_bound(self, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], auto_pad="SAME_UPPER", output_shape=[11, 13])
        path = save(model, tmp_path)
        unbound = analyse_model(path).nodes[0].finding
        assert unbound.input_sizes == (None, None)
        assert unbound.verdict is Verdict.UNDECIDED
        assert "--input-shapes" in unbound.reason
        bound = analyse_model(path, {"x": (1, 2, 5, 6)}).nodes[0].finding
        assert bound.input_sizes == (5, 6)
        assert bound.verdict is Verdict.WRONG_SHAPE
        assert bound.output_sizes == (11, 13)

    def test_dynamic_spatial_pads_decided_for_every_size(self, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
        finding = analyse_model(save(model, tmp_path)).nodes[0].finding
        assert finding.verdict is Verdict.OK
        assert finding.output_sizes == (None, None)

    @pytest.mark.parametrize("rank", [1, 2, 3])
    def test_ranks(self, tmp_path: Path, rank: int) -> None:
        model = conv_transpose_model([1, 2, *([4] * rank)], [2, 3, *([3] * rank)], strides=[2] * rank, output_shape=[8] * rank)
        finding = analyse_model(save(model, tmp_path)).nodes[0].finding
        assert finding.attributes.rank == rank
        assert finding.input_sizes == (4,) * rank
        assert finding.output_sizes == (8,) * rank

    def test_unnamed_nodes_are_named_as_the_parser_names_them(self, tmp_path: Path) -> None:
        """node_of_<first output>: the name TensorRT's parser gives their layers (importerUtils.cpp@10.1-GA:1934),
        so the report and TensorRT's own log speak of the same node."""
        model = chain_model(
            helper.make_node("Identity", ["x"], ["x1"]),
            helper.make_node("ConvTranspose", ["x1", "W", "B"], ["y"], strides=[2, 2]),
        )
        (node,) = analyse_model(save(model, tmp_path)).nodes
        assert (node.name, node.index) == ("node_of_y", 1)
        assert node.finding.node == "node_of_y"

    @pytest.mark.parametrize(
        "bias_input, extra, bias",
        [
            ("", (), "none"),  # an empty third input means no bias
            ("B", (), "initializer"),
            ("Bg", ("graph-input",), "tensor"),
            ("Bn", ("node-output",), "tensor"),
            ("Bc", ("constant",), "initializer"),  # TensorRT's importer imports Constant nodes as weights
        ],
    )
    def test_bias_kinds(self, tmp_path: Path, bias_input: str, extra: tuple[str, ...], bias: str) -> None:
        nodes = []
        extra_inputs = []
        if "graph-input" in extra:
            extra_inputs.append(helper.make_tensor_value_info("Bg", TensorProto.FLOAT, [3]))
        if "node-output" in extra:
            nodes.append(helper.make_node("Identity", ["B"], ["Bn"]))
        if "constant" in extra:
            nodes.append(
                helper.make_node("Constant", [], ["Bc"], value=numpy_helper.from_array(np.ones(3, np.float32)))
            )
        nodes.append(helper.make_node("ConvTranspose", ["x", "W", bias_input], ["y"], name="d", strides=[2, 2], output_padding=[1, 1]))
        (node,) = analyse_model(save(chain_model(*nodes, extra_inputs=tuple(extra_inputs)), tmp_path)).nodes
        assert node.bias == bias
        assert node.finding.bias_is_tensor == (bias == "tensor")
        assert node.finding.verdict is (Verdict.TENSOR_BIAS if bias == "tensor" else Verdict.OK)

    def test_weight_shape_from_value_info(self, tmp_path: Path) -> None:
        # W is a graph input: its shape comes from the declared value info, not an initializer.
        model = conv_transpose_model(**K3S2, output_shape=[10, 12])
        weight = model.graph.initializer[0]
        model.graph.input.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, list(weight.dims)))
        model.graph.initializer.remove(weight)
        finding = analyse_model(save(model, tmp_path)).nodes[0].finding
        assert finding.attributes.kernel_shape == (3, 3)
        assert finding.verdict is Verdict.SHIFTED

    def test_subgraph_conv_transpose_is_noted_not_analysed(self, tmp_path: Path) -> None:
        inner = helper.make_graph(
            [helper.make_node("ConvTranspose", ["x", "W"], ["inner_y"], strides=[2, 2])],
            "then",
            [],
            [helper.make_tensor_value_info("inner_y", TensorProto.FLOAT, None)],
        )
        model = chain_model(
            helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=inner, else_branch=inner),
            extra_inputs=(helper.make_tensor_value_info("cond", TensorProto.BOOL, []),),
        )
        analysis = analyse_model(save(model, tmp_path))
        assert analysis.nodes == ()
        assert len(analysis.notes) == 1
        assert "2 ConvTranspose node(s) inside subgraphs of 'branch' are not analysed" in analysis.notes[0]

    def test_external_data_is_never_read(self, tmp_path: Path) -> None:
        model = conv_transpose_model(**K3S2, output_shape=[10, 12])
        path = str(tmp_path / "model.onnx")
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
        os.unlink(tmp_path / "weights.bin")  # reading it would fail now
        finding = analyse_model(path).nodes[0].finding
        assert finding.verdict is Verdict.SHIFTED
        assert finding.attributes.kernel_shape == (3, 3)

    @pytest.mark.parametrize("output_shape", [[1, 6], [6, 1], [1, 1]])
    def test_shape_inference_rank_slip_is_ignored(self, tmp_path: Path, output_shape: list[int]) -> None:
        # onnx 1.23's shape inference declares 't' with rank 2 or 3 when an output_shape entry is 1: that is
        # neither an error for 'b' nor a declared-shape disagreement for 'a'.
        rng = np.random.default_rng(0)
        graph = helper.make_graph(
            [
                helper.make_node("ConvTranspose", ["x", "W1"], ["t"], name="a", strides=[2, 2], output_shape=output_shape),
                helper.make_node("ConvTranspose", ["t", "W2"], ["y"], name="b", strides=[2, 2]),
            ],
            "chain",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [
                numpy_helper.from_array(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), "W1"),
                numpy_helper.from_array(rng.standard_normal((3, 3, 3, 3)).astype(np.float32), "W2"),
            ],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
        (t,) = [v for v in inferred.graph.value_info if v.name == "t"]
        assert len(t.type.tensor_type.shape.dim) != 4  # the slip this guards against (onnx 1.23)
        a, b = analyse_model(save(model, tmp_path)).nodes
        assert a.finding.output_sizes == tuple(output_shape)
        assert a.finding.declared_sizes is None
        assert b.finding.input_sizes == (None, None)
        assert any("declares input 't' with rank" in note and "ignored" in note for note in b.finding.notes)

    def test_external_data_outside_is_noted(self, tmp_path: Path) -> None:
        model = conv_transpose_model(**K3S2)
        weight = model.graph.initializer[0]
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        entry = weight.external_data.add()
        entry.key, entry.value = "location", "../elsewhere.bin"
        analysis = analyse_model(save(model, tmp_path))
        assert analysis.external_data == (str(tmp_path.parent / "elsewhere.bin"),)  # guarded against, never read
        assert any("outside the model's folder ('../elsewhere.bin')" in note for note in analysis.notes)

    def test_input_files(self, tmp_path: Path) -> None:
        path = str(tmp_path / "model.onnx")
        onnx.save(conv_transpose_model(**K3S2), path, save_as_external_data=True, location="w.bin", size_threshold=0)
        assert analyse_model(path).input_files == (path, str(tmp_path / "w.bin"))

    def test_analyse_proto_leaves_model_untouched(self) -> None:
        model = conv_transpose_model([1, 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2], output_shape=[10, 12])
        before = model.SerializeToString()
        analysis = analyse_proto(model, {"x": (1, 2, 5, 6)})
        assert analysis.nodes[0].finding.output_sizes == (10, 12)
        assert model.SerializeToString() == before

    def test_output_shape_on_bound_dynamic_sizes_is_a_parse_error(self) -> None:
        # The bound sizes give the ONNX window; TensorRT's parser reads the model's -1 sizes (issue 16).
        (node,) = analyse_proto(dynamic_output_shape(), DYNAMIC_OUTPUT_SHAPE_BOUND).nodes
        finding = node.finding
        assert finding.verdict is Verdict.PARSE_ERROR and finding.verdict.needs_patch
        assert "not the sizes --input-shapes binds" in finding.reason and "pre-padding -16" in finding.reason
        assert finding.input_sizes == (16, 16) and finding.model_input_sizes == (None, None)
        assert describe_window(finding.reference or ()) == "b=(1,1) e=(1,1) -> 31x31"
        assert finding.patch is not None and finding.patch.pre_padding == (1, 1)
        assert any("rewrite the node before the parse" in note for note in finding.notes)
        # A model whose sizes are static: the bound sizes are the parser's too.
        static = conv_transpose_model([2, 4, 16, 16], [4, 2, 3, 3], strides=[2, 2], output_shape=[31, 31])
        assert analyse_proto(static, {"x": (2, 4, 16, 16)}).nodes[0].finding.verdict is Verdict.OK

    def test_negative_missing_path(self, tmp_path: Path) -> None:
        with pytest.raises(DeconvError, match="model file not found"):
            analyse_model(str(tmp_path / "nope.onnx"))

    def test_negative_directory(self, tmp_path: Path) -> None:
        with pytest.raises(DeconvError, match="is a directory"):
            analyse_model(str(tmp_path))

    def test_negative_empty_file(self, tmp_path: Path) -> None:
        (tmp_path / "empty.onnx").write_bytes(b"")
        with pytest.raises(DeconvError, match="is empty"):
            analyse_model(str(tmp_path / "empty.onnx"))

    @pytest.mark.parametrize("seed", range(5))
    def test_negative_random_bytes(self, tmp_path: Path, seed: int) -> None:
        (tmp_path / "random.onnx").write_bytes(np.random.default_rng(seed).bytes(300))
        with pytest.raises(DeconvError, match="is not an ONNX model"):
            analyse_model(str(tmp_path / "random.onnx"))

    def test_negative_truncated(self, tmp_path: Path) -> None:
        data = conv_transpose_model(**K3S2).SerializeToString()
        (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
        with pytest.raises(DeconvError, match="is not an ONNX model"):
            analyse_model(str(tmp_path / "cut.onnx"))

    def test_negative_protobuf_without_graph(self, tmp_path: Path) -> None:
        model = onnx.ModelProto(ir_version=8)
        model.opset_import.append(helper.make_opsetid("", 17))
        (tmp_path / "nograph.onnx").write_bytes(model.SerializeToString())
        with pytest.raises(DeconvError, match="no graph"):
            analyse_model(str(tmp_path / "nograph.onnx"))

    def test_negative_unknown_input_shapes_name(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2), tmp_path)
        with pytest.raises(DeconvError, match="'image', which is not a model input \\(inputs: x\\)"):
            analyse_model(path, {"image": (1, 2, 5, 6)})

    def test_negative_input_shapes_wrong_rank(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2), tmp_path)
        with pytest.raises(DeconvError, match="3 dims .* rank 4"):
            analyse_model(path, {"x": (1, 2, 5)})

    def test_negative_input_shapes_contradict_fixed_dim(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2), tmp_path)
        with pytest.raises(DeconvError, match="size 7 on axis 2, but the model fixes it to 5"):
            analyse_model(path, {"x": (1, 2, 7, 6)})

    def test_negative_invalid_attributes(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model(**K3S2, output_padding=[2, 2]), tmp_path)
        with pytest.raises(InvalidConvTranspose, match="ConvTranspose node 'deconv': output_padding 2"):
            analyse_model(path)

    def test_negative_rank_mismatch_between_x_and_w(self, tmp_path: Path) -> None:
        path = save(conv_transpose_model([1, 2, 5, 6, 7], [2, 3, 3, 3], strides=[2, 2]), tmp_path)
        with pytest.raises(DeconvError, match="'deconv': input X has rank 5 but the weight W has rank 4"):
            analyse_model(path)


class TestLoadModel:
    def test_basic(self, tmp_path: Path) -> None:
        model = conv_transpose_model(**K3S2)
        assert load_model(save(model, tmp_path)).graph.node[0].op_type == "ConvTranspose"

    def test_negative_not_a_model_proto(self, tmp_path: Path) -> None:
        # A GraphProto alone is a protobuf, but not a model.
        graph = conv_transpose_model(**K3S2).graph
        (tmp_path / "graph.pb").write_bytes(graph.SerializeToString())
        with pytest.raises(DeconvError, match="is not an ONNX model"):
            load_model(str(tmp_path / "graph.pb"))


class TestAnalysisShortcuts:
    """The speed-ups of analyse_proto must not change a finding."""

    def test_repeated_configuration_keeps_each_name(self) -> None:
        weight = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "W")
        nodes = [
            helper.make_node("ConvTranspose", ["x", "W"], ["a"], name="first", strides=[1, 1], output_shape=[5, 6]),
            helper.make_node("ConvTranspose", ["a", "W"], ["y"], name="second", strides=[1, 1], output_shape=[5, 6]),
        ]
        graph = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        analysis = analyse_proto(model)
        assert [(n.name, n.output, n.finding.node) for n in analysis.nodes] == [
            ("first", "a", "first"), ("second", "y", "second")
        ]
        # Same configuration, same verdict and window; nothing else of the first leaks into the second.
        first, second = (n.finding for n in analysis.nodes)
        assert first.verdict == second.verdict and first.reference == second.reference

    def test_sizes_from_shape_tensors(self) -> None:
        # x -> Shape -> Reshape(x, shape): only data propagation knows the Reshape's output sizes.
        weight = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "W")
        nodes = [
            helper.make_node("Shape", ["x"], ["shape"]),
            helper.make_node("Reshape", ["x", "shape"], ["r"]),
            helper.make_node("ConvTranspose", ["r", "W"], ["y"], name="up", strides=[2, 2], output_shape=[10, 12]),
        ]
        graph = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        # Without data propagation ONNX shape inference does not know them: the fallback is what finds them.
        plain = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=False)
        assert not any(v.name == "r" and v.type.tensor_type.shape.dim[2].HasField("dim_value") for v in plain.graph.value_info)
        (node,) = analyse_proto(model).nodes
        assert node.finding.input_sizes == (5, 6)
        assert node.finding.verdict.value == "shifted"


class TestScanGraph:
    def test_basic(self) -> None:
        # A main graph with a Constant, an attribute tensor, a sparse initializer and an If whose branches hold a
        # ConvTranspose and a Constant: one pass finds what the separate walks find.
        from polygraphy_deconv.onnx_model.graph import model_tensors, scan_graph

        weight = numpy_helper.from_array(np.ones((1, 1, 2), np.float32), "W")
        branch_deconv = helper.make_node("ConvTranspose", ["x", "W"], ["b"], name="inner", strides=[2])
        branch_constant = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones(2, np.float32), "cv"))
        then_branch = helper.make_graph(
            [branch_deconv], "then", [], [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)]
        )
        else_branch = helper.make_graph(
            [branch_constant], "else", [], [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)]
        )
        nodes = [
            helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.zeros(1, np.float32), "kv")),
            helper.make_node("ConvTranspose", ["x", "W"], ["y"], name="outer", strides=[2]),
            helper.make_node("If", ["cond"], ["z"], name="branch", then_branch=then_branch, else_branch=else_branch),
        ]
        sparse = helper.make_sparse_tensor(
            numpy_helper.from_array(np.ones(1, np.float32), "sv"), numpy_helper.from_array(np.zeros(1, np.int64), "si"), [4]
        )
        graph = helper.make_graph(
            nodes, "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 3]),
             helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight], sparse_initializer=[sparse],
        )
        scan = scan_graph(graph)
        assert [(index, node.name) for index, node in scan.conv_transposes] == [(1, "outer")]
        assert scan.constant_outputs == frozenset({"k"})
        assert scan.subgraph_conv_transposes == (("branch", 1),)
        # Initializers and sparse tensors come from the graph itself; everything else scan_graph collects.
        expected = [t.name for t in model_tensors(graph)][len(graph.initializer) + 2 * len(graph.sparse_initializer):]
        assert [t.name for t in scan.attribute_tensors] == expected == ["kv", "cv"]


class TestReadModel:
    @pytest.mark.filterwarnings("ignore:The onnxtxt format is experimental")
    @pytest.mark.parametrize("suffix", [".onnxtxt", ".textproto"])
    def test_negative_text_format_that_does_not_parse(self, tmp_path: Path, suffix: str) -> None:
        path = tmp_path / f"m{suffix}"
        path.write_text("this is { not an onnx text model")
        with pytest.raises(DeconvError, match="is not an ONNX model"):
            load_model(str(path))
