"""The network-patch benchmark: a long TensorRT network built the way the ONNX parser builds a chain of
`output_shape` ConvTransposes with an odd total (shifted by one: every unit needs a patch), with a residual add
and a scale after each; on TensorRT-RTX's real network (NVIDIA's official tensorrt_rtx package, the headline) and
on the stand-in (tests/standin, TensorRT's documented shape rules in Python).

Four layers per unit: deconvolution, elementwise SUM (residual), constant, elementwise PROD.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from polygraphy_deconv.core import ConvTransposeAttributes, analyse_node
from polygraphy_deconv.core.model import ConvTransposeNode, NodeBias

CHANNELS, SIZE = 4, 6


def build_chain(units: int, trt: Any = None) -> tuple[Any, list[ConvTransposeNode], list[Any]]:
    """A network of `units` units on `trt` (the stand-in module by default), the ONNX nodes they come from, and what
    must stay alive as long as the network (the builder, the arrays behind the Weights)."""
    if trt is None:
        from tests.standin import network as trt
    rng = np.random.default_rng(0)
    keep: list[Any] = []
    if hasattr(trt, "OnnxParser"):
        builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
        keep.append(builder)
        network = builder.create_network(0)
    else:
        network = trt.INetworkDefinition()
    tensor = network.add_input("x", trt.DataType.FLOAT, [1, CHANNELS, SIZE, SIZE])
    nodes = []
    # k2 s1, output_shape = I: total = 1, the parser begins at 0, onnxruntime at 1.
    attributes = {"strides": [1, 1], "output_shape": [SIZE, SIZE]}
    scale = trt.Weights(np.full((1, CHANNELS, 1, 1), 0.5, dtype=np.float32))
    for index in range(units):
        name = f"up{index}"
        attrs = ConvTransposeAttributes.from_onnx(name, attributes, [CHANNELS, CHANNELS, 2, 2])
        nodes.append(ConvTransposeNode(name, index, f"{name}.out", NodeBias.INITIALIZER, analyse_node(attrs, [SIZE, SIZE])))
        weight = rng.standard_normal((CHANNELS, CHANNELS, 2, 2)).astype(np.float32)
        bias = rng.standard_normal(CHANNELS).astype(np.float32)
        keep += [weight, bias]
        layer = network.add_deconvolution_nd(tensor, CHANNELS, trt.Dims([2, 2]), trt.Weights(weight), trt.Weights(bias))
        layer.name = name
        layer.stride_nd = trt.Dims([1, 1])
        layer.pre_padding = trt.Dims([0, 0])
        layer.post_padding = trt.Dims([1, 1])
        layer.get_output(0).name = f"{name}.out"
        residual = network.add_elementwise(layer.get_output(0), tensor, trt.ElementWiseOperation.SUM)
        constant = network.add_constant(trt.Dims([1, CHANNELS, 1, 1]), scale)
        tensor = network.add_elementwise(
            residual.get_output(0), constant.get_output(0), trt.ElementWiseOperation.PROD
        ).get_output(0)
    tensor.name = "y"
    network.mark_output(tensor)
    keep.append(scale)
    return network, nodes, keep


@contextlib.contextmanager
def polygraphy_mode(rtx: bool) -> Iterator[None]:
    """The package takes TensorRT where Polygraphy does (lazy_import_trt): its TensorRT-RTX switch, for a while."""
    from polygraphy import config

    saved = config.USE_TENSORRT_RTX
    config.USE_TENSORRT_RTX = rtx
    try:
        yield
    finally:
        config.USE_TENSORRT_RTX = saved


@contextlib.contextmanager
def standin_installed(module: Any) -> Iterator[None]:
    """The stand-in as the `tensorrt` the package uses, for a while."""
    saved = sys.modules.get("tensorrt")
    sys.modules["tensorrt"] = module
    try:
        with polygraphy_mode(rtx=False):
            yield
    finally:
        if saved is None:
            del sys.modules["tensorrt"]
        else:
            sys.modules["tensorrt"] = saved


def rtx_patch_seconds(units: int) -> float | None:
    """Seconds `fix_network` takes on a chain of `units` units in TensorRT-RTX's real network, through NVIDIA's
    official bindings (None where tensorrt_rtx is not installed)."""
    import importlib.util

    if importlib.util.find_spec("tensorrt_rtx") is None:
        return None
    import tensorrt_rtx

    with polygraphy_mode(rtx=True):
        from polygraphy_deconv.trt_network.patching import Action, fix_network

        network, nodes, _keep = build_chain(units, tensorrt_rtx)
        assert network.num_layers == 4 * units
        start = time.perf_counter()
        fix = fix_network(network, nodes)
        seconds = time.perf_counter() - start
        assert [r.action for r in fix.results] == [Action.PATCHED] * units
        return seconds


def rtx_floor_seconds(units: int) -> float | None:
    """binding_floor_seconds on a fresh chain of `units` units in TensorRT-RTX's network (None without tensorrt_rtx):
    how the bindings' own calls scale with the network, next to rtx_patch_seconds."""
    import importlib.util

    if importlib.util.find_spec("tensorrt_rtx") is None:
        return None
    import tensorrt_rtx

    network, _nodes, _keep = build_chain(units, tensorrt_rtx)
    return binding_floor_seconds(network, tensorrt_rtx)


def rtx_compare_seconds(units: int) -> float | None:
    """Seconds compare_units takes on the units of a fresh chain of `units` units in TensorRT-RTX's network (read
    first, not timed): the step's Python alone, next to the bindings' calls (None without tensorrt_rtx)."""
    import importlib.util

    if importlib.util.find_spec("tensorrt_rtx") is None:
        return None
    import tensorrt_rtx

    with polygraphy_mode(rtx=True):
        from polygraphy_deconv.trt_network.comparison import compare_units
        from polygraphy_deconv.trt_network.units import find_units

        network, nodes, _keep = build_chain(units, tensorrt_rtx)
        found = find_units(network, ends=frozenset(node.output for node in nodes))
        start = time.perf_counter()
        comparisons = compare_units(found, nodes)
        seconds = time.perf_counter() - start
        assert len(comparisons) == units
        return seconds


def patch_seconds(units: int) -> float:
    """Seconds `fix_network` takes on a fresh chain of `units` units (4 layers each); asserts it patched all."""
    from tests.standin.network import tensorrt_module

    with standin_installed(tensorrt_module()):
        from polygraphy_deconv.trt_network.patching import Action, fix_network

        network, nodes, _keep = build_chain(units)
        assert network.num_layers == 4 * units  # type: ignore[attr-defined]
        start = time.perf_counter()
        fix = fix_network(network, nodes)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        assert [r.action for r in fix.results] == [Action.PATCHED] * units
        return seconds


def standin_shape_seconds(units: int) -> float:
    """Seconds the stand-in takes to compute every tensor shape of the patched chain once, in Python.

    fix_network makes it do that once (reading each deconvolution's input dims); TensorRT computes shapes in C++.
    This shows how much of patch_seconds is the stand-in rather than the patch.
    """
    from tests.standin.network import tensorrt_module

    with standin_installed(tensorrt_module()):
        from polygraphy_deconv.trt_network.patching import fix_network

        network, nodes, _keep = build_chain(units)
        fix_network(network, nodes)  # type: ignore[arg-type]
        network._revision += 1  # type: ignore[attr-defined]  # forget every cached shape
        start = time.perf_counter()
        for index in range(network.num_layers):  # type: ignore[attr-defined]
            layer = network.get_layer(index)  # type: ignore[attr-defined]
            for out in range(layer.num_outputs):
                layer.get_output(out).shape  # noqa: B018
        return time.perf_counter() - start


def chain_model_file(units: int, folder: str) -> str:
    """The same chain as an ONNX model (ConvTranspose with output_shape, Add, Mul per unit), written to `folder`:
    what `polygraphy run --trt --deconv-fix` parses and patches."""
    import os

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, initializers = [], [numpy_helper.from_array(np.full((1, CHANNELS, 1, 1), 0.5, np.float32), "scale")]
    tensor = "x"
    for index in range(units):
        name = f"up{index}"
        initializers += [
            numpy_helper.from_array(rng.standard_normal((CHANNELS, CHANNELS, 2, 2)).astype(np.float32), f"{name}.W"),
            numpy_helper.from_array(rng.standard_normal(CHANNELS).astype(np.float32), f"{name}.B"),
        ]
        nodes += [
            helper.make_node("ConvTranspose", [tensor, f"{name}.W", f"{name}.B"], [f"{name}.out"], name=name,
                             strides=[1, 1], output_shape=[SIZE, SIZE]),
            helper.make_node("Add", [f"{name}.out", tensor], [f"{name}.sum"], name=f"{name}.add"),
            helper.make_node("Mul", [f"{name}.sum", "scale"], [f"{name}.scaled"], name=f"{name}.mul"),
        ]
        tensor = f"{name}.scaled"
    nodes[-1].output[0] = "y"
    shape = [1, CHANNELS, SIZE, SIZE]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(folder, f"chain_{units}.onnx")
    onnx.save(model, path)
    return path


@dataclass(frozen=True)
class PluginStepSeconds:
    """Seconds of one model through the plugin as `polygraphy run --deconv-fix` runs it, each the best of the
    repeats."""

    preparse: float  # RewriteForParser: read and analyse the model (before the parse)
    parse: float  # Polygraphy's NetworkFromOnnxPath: the baseline
    step: float  # PatchDeconvolutions: compare, patch, read the patched units back, report (table and JSON)
    floor: float  # binding_floor_seconds on a network of the same parse: the TensorRT calls the step cannot skip


def binding_floor_seconds(network: Any, trt: Any) -> float:
    """Seconds of the calls into TensorRT's bindings that any step finding, reading, padding and reading back every
    deconvolution of `network` makes, and nothing else: every layer and its type (which are deconvolutions); per
    deconvolution its input dims, kernel, strides, dilations, padding and mode, output name, bias, groups and name;
    the pre- and post-padding setters (and the mode's, where a layer's mode is not the patch's already: the chain's
    are); the padding read back. What the step takes beyond this is the package's Python."""
    start = time.perf_counter()
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    deconvolution = trt.LayerType.DECONVOLUTION
    found = [layer for layer in layers if layer.type == deconvolution]
    for layer in found:
        layer.__class__ = trt.IDeconvolutionLayer
    read = [
        (layer.get_input(0).shape[:], layer.kernel_size_nd[:], layer.stride_nd[:], layer.dilation_nd[:],
         layer.pre_padding[:], layer.post_padding[:], layer.padding_mode, layer.get_output(0).name, layer.bias,
         layer.num_groups, layer.name)
        for layer in found
    ]
    mode, pre, post = trt.PaddingMode.EXPLICIT_ROUND_DOWN, trt.Dims([1, 1]), trt.Dims([0, 0])
    for layer, values in zip(found, read):
        if values[6] != mode:
            layer.padding_mode = mode
        layer.pre_padding = pre
        layer.post_padding = post
    back = [(layer.pre_padding[:], layer.post_padding[:], layer.padding_mode) for layer in found]
    seconds = time.perf_counter() - start
    assert len(read) == len(back) == len(found)
    return seconds


@contextlib.contextmanager
def model_reads_refused() -> Iterator[None]:
    """Fail on any read or analysis of an ONNX model for a while: the step after the parse must use the analysis
    RewriteForParser handed on."""
    from polygraphy_deconv.onnx_model import analysis, graph, loaded

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the step after the parse read or analysed the model again")

    # Each module that reads or analyses a model, by the name it calls.
    targets = [(graph, "read_model"), (analysis, "read_model"), (analysis, "analyse_proto"), (loaded, "read_model"),
               (loaded, "analyse_proto")]
    saved = [getattr(module, name) for module, name in targets]
    for module, name in targets:
        setattr(module, name, refused)
    try:
        yield
    finally:
        for (module, name), value in zip(targets, saved):
            setattr(module, name, value)


def rtx_plugin_step_seconds(units: int, repeats: int) -> PluginStepSeconds | None:
    """The chain model through the plugin as `polygraphy run --deconv-fix` runs it, on TensorRT-RTX through NVIDIA's
    official bindings: `rewrite = RewriteForParser(path)` reads and analyses the model before the parse,
    `NetworkFromOnnxPath(rewrite)` parses it (the baseline), and `PatchDeconvolutions(network, rewrite, report_path)`
    is the step after the parse, timed alone (it takes the analysis from `rewrite` and must not read the model
    again: asserted). None where tensorrt_rtx is not installed."""
    import importlib.util
    import io
    import tempfile

    if importlib.util.find_spec("tensorrt_rtx") is None:
        return None
    with polygraphy_mode(rtx=True), tempfile.TemporaryDirectory() as folder:
        import tensorrt_rtx
        from polygraphy.backend.trt import NetworkFromOnnxPath
        from polygraphy.logger import G_LOGGER

        from polygraphy_deconv.plugin.loader import PatchDeconvolutions, RewriteForParser

        path = chain_model_file(units, folder)
        preparse, parse, step, floor = [], [], [], []
        severity = G_LOGGER.module_severity
        G_LOGGER.module_severity = G_LOGGER.WARNING  # the report's blocks are printed at INFO: time them, not show
        try:
            for _ in range(repeats):
                rewrite = RewriteForParser(path)
                start = time.perf_counter()
                parsed = rewrite()  # called once: NetworkFromOnnxPath's call below gets the same path, cached
                preparse.append(time.perf_counter() - start)
                assert parsed == path  # the chain parses as it is: nothing to rewrite
                start = time.perf_counter()
                network = NetworkFromOnnxPath(rewrite)()
                parse.append(time.perf_counter() - start)
                with contextlib.redirect_stdout(io.StringIO()), model_reads_refused():
                    G_LOGGER.module_severity = G_LOGGER.INFO
                    start = time.perf_counter()
                    PatchDeconvolutions(network, rewrite, report_path=f"{folder}/report.json")()
                    step.append(time.perf_counter() - start)
                    G_LOGGER.module_severity = G_LOGGER.WARNING
                del network
                builder, network, parser = NetworkFromOnnxPath(rewrite)()
                floor.append(binding_floor_seconds(network, tensorrt_rtx))
                del builder, network, parser
        finally:
            G_LOGGER.module_severity = severity
        return PluginStepSeconds(min(preparse), min(parse), min(step), min(floor))
