"""Each producer builder does what its source line says (tests/standin/producers.py cites them)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from polygraphy_deconv.core.attributes import ConvTransposeAttributes
from tests.models import conv_transpose_model, run_onnxruntime
from tests.standin import network as standin
from tests.standin import producers


def attrs(attributes: dict[str, Any], weight_shape: list[int]) -> ConvTransposeAttributes:
    return ConvTransposeAttributes.from_onnx("deconv", attributes, weight_shape)


def weights(weight_shape: list[int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(weight_shape).astype(np.float32), rng.standard_normal(weight_shape[1]).astype(np.float32)


def layers(network: Any) -> list[Any]:
    return [network.get_layer(i) for i in range(network.num_layers)]


def deconvolution_of(network: Any) -> Any:
    (layer,) = [layer for layer in layers(network) if layer.type == standin.LayerType.DECONVOLUTION]
    return layer


class TestTorchTensorRT:
    def test_refused_post_stays_at_padding(self) -> None:
        """v2.7.0:130 sets padding_nd = p before post = p - op (:144-150); TensorRT refuses -1 and keeps p."""
        weight, bias = weights([2, 3, 3, 3])
        network = producers.torch_tensorrt(attrs({"strides": [3, 3], "pads": [1, 1, 1, 1], "output_padding": [0, 2]},
                                                 [2, 3, 3, 3]), [1, 2, 4, 4], weight, bias)
        layer = deconvolution_of(network)
        assert tuple(layer.pre_padding) == (1, 1)
        assert tuple(layer.post_padding) == (1, 1)  # not (1, -1), not (1, 0)
        (error,) = standin.api_errors(network)
        assert "setPostPadding" in error

    def test_guarded_post_is_applied(self) -> None:
        weight, bias = weights([2, 3, 3, 3])
        network = producers.torch_tensorrt(attrs({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
                                                 [2, 3, 3, 3]), [1, 2, 4, 4], weight, bias)
        layer = deconvolution_of(network)
        assert (tuple(layer.pre_padding), tuple(layer.post_padding)) == ((1, 1), (0, 0))
        assert standin.api_errors(network) == []

    def test_2_6_drops_output_padding(self) -> None:
        """v2.6.1:120-121: padding_nd only; output_padding (:39) is never read."""
        weight, bias = weights([2, 3, 3, 3])
        network = producers.torch_tensorrt(attrs({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
                                                 [2, 3, 3, 3]), [1, 2, 4, 4], weight, bias, version="2.6")
        assert network.get_output(0).shape == (1, 3, 7, 7)  # PyTorch: 8 x 8

    def test_weight_and_bias_are_constant_tensors(self) -> None:
        """v2.7.0:88-103: empty Weights, the weight on input 1 and the bias on input 2, from constant layers."""
        weight, bias = weights([2, 3, 3, 3])
        network = producers.torch_tensorrt(attrs({"strides": [2, 2]}, [2, 3, 3, 3]), [1, 2, 4, 4], weight, bias)
        layer = deconvolution_of(network)
        assert layer.kernel.size == 0 and layer.bias.size == 0
        assert layer.num_output_maps == 3  # weight.shape[1] * groups (:91)
        sources = [layer.get_input(i)._producer for i in (1, 2)]
        assert [(s.type, s.name) for s in sources] == [(standin.LayerType.CONSTANT, "deconv_weight"),
                                                       (standin.LayerType.CONSTANT, "deconv_bias")]

    @pytest.mark.parametrize("version", producers.TORCH_TENSORRT_VERSIONS)
    def test_1d_layers(self, version: str) -> None:
        """2.7: IUnsqueezeLayer with axes [-1], then a shuffle (first_transpose, reshape (0, 0, 0)); 2.6: a
        reshaping shuffle first (impl/unsqueeze.py@v2.6.1:54-63). Stride and dilation (s,) become (s, s)."""
        weight, bias = weights([2, 3, 2])
        attributes: dict[str, Any] = {"strides": [2], "dilations": [2], "pads": [1, 1]}
        network = producers.torch_tensorrt(attrs(attributes, [2, 3, 2]), [1, 2, 5], weight, bias, version=version)
        kinds = [layer.type for layer in layers(network) if layer.type != standin.LayerType.CONSTANT]
        first = standin.LayerType.UNSQUEEZE if version == "2.7" else standin.LayerType.SHUFFLE
        assert kinds == [first, standin.LayerType.DECONVOLUTION, standin.LayerType.SHUFFLE]
        layer = deconvolution_of(network)
        assert tuple(layer.stride_nd) == (2, 2) and tuple(layer.dilation_nd) == (2, 2)
        assert tuple(layer.kernel_size_nd) == (2, 1)
        model = conv_transpose_model([1, 2, 5], [2, 3, 2], bias="none", seed=0, **attributes)
        x = np.random.default_rng(1).standard_normal((1, 2, 5)).astype(np.float32)
        network_nobias = producers.torch_tensorrt(attrs(attributes, [2, 3, 2]), [1, 2, 5],
                                                  _model_weight(model), None, version=version)
        (expected,) = run_onnxruntime(model, {"x": x})
        np.testing.assert_allclose(network_nobias.execute({"x": x})["y"], expected, rtol=1e-4, atol=1e-4)

    def test_1d_2_7_needs_squeeze_layers(self, standin_trt: Callable[..., types.ModuleType]) -> None:
        """add_unsqueeze exists from TensorRT 10.7 (NvInfer.h@release/10.7:106-107)."""
        trt = standin_trt("10.3")
        weight, bias = weights([2, 3, 2])
        with pytest.raises(AttributeError, match="add_unsqueeze"):
            producers.torch_tensorrt(attrs({"strides": [2]}, [2, 3, 2]), [1, 2, 5], weight, bias, api=trt)


def _model_weight(model: Any) -> np.ndarray:
    from onnx import numpy_helper

    return next(numpy_helper.to_array(i) for i in model.graph.initializer if i.name == "W")


class TestTorch2trt:
    def test_num_output_maps_is_the_input_channels(self) -> None:
        """native_converters.py@4e820ae:439, 480: weight.shape[0]; the kernel count then does not fit."""
        weight, bias = weights([2, 3, 3, 3])
        network = producers.torch2trt(attrs({"strides": [2, 2]}, [2, 3, 3, 3]), [1, 2, 4, 4], weight, bias)
        assert deconvolution_of(network).num_output_maps == 2
        with pytest.raises(standin.NetworkError, match="kernel weights has count 54 but 36"):
            network.check()

    def test_dilation_is_never_set_and_padding_is_symmetric(self) -> None:
        """:478-488: no dilation_nd; :485 padding_nd = padding (pre = post), output_padding dropped."""
        weight, bias = weights([3, 3, 3, 3])
        attributes = {"strides": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}
        network = producers.torch2trt(attrs(attributes, [3, 3, 3, 3]), [1, 3, 4, 4], weight, bias)
        layer = deconvolution_of(network)
        assert tuple(layer.dilation_nd) == (1, 1)
        assert (tuple(layer.pre_padding), tuple(layer.post_padding)) == ((1, 1), (1, 1))
        assert network.get_output(0).shape == (1, 3, 7, 7)

    def test_1d_shuffles(self) -> None:
        weight, bias = weights([3, 3, 2])
        network = producers.torch2trt(attrs({"strides": [2]}, [3, 3, 2]), [1, 3, 5], weight, bias)
        shuffles = [layer for layer in layers(network) if layer.type == standin.LayerType.SHUFFLE]
        assert [tuple(s.reshape_dims) for s in shuffles] == [(0, 0, 0, 1), (0, 0, 0)]
        assert network.get_output(0).shape == (1, 3, 10)


class TestOnnxParser:
    @pytest.mark.parametrize("version, typed", [("8.6", True), ("10.3", True), ("10.8", True), ("11.4", False)])
    def test_output_type_set_after_mark_output(self, standin_trt: Callable[..., types.ModuleType], version: str,
                                               typed: bool) -> None:
        """ModelImporter.cpp@10.1-GA:783, 793-794 (8.6-GA:591, 600-601); TensorRT 11 has no setType."""
        trt = standin_trt(version)
        weight = np.ones((2, 3, 3, 3), np.float16)
        network = producers.onnx_parser(attrs({"strides": [2, 2]}, [2, 3, 3, 3]), [1, 2, 4, 4], weight,
                                        np.ones(3, np.float16), dtype="HALF")
        y = network.get_output(0)
        assert y.dtype == trt.DataType.HALF  # set on 8.6/10 (weakly typed), the input's type on 11
        if typed:
            network.unmark_output(y)
            assert y.dtype == trt.DataType.HALF  # the type set stays with the tensor

    def test_8_6_shape_constants_are_int32(self, standin_trt: Callable[..., types.ModuleType]) -> None:
        trt = standin_trt("8.6")
        weight, bias = weights([2, 3, 3, 3])
        network = producers.onnx_parser(attrs({"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]},
                                              [2, 3, 3, 3]), [-1, 2, 4, 4], weight, bias)
        network.check()
        types_of = {layer.get_output(0).dtype for layer in layers(network)
                    if layer.type in (standin.LayerType.SHAPE, standin.LayerType.ELEMENTWISE)
                    and layer.get_output(0).shape == (4,)}
        assert types_of == {trt.DataType.INT32}

    def test_negative_squeeze_layers_before_10_7(self, standin_trt: Callable[..., types.ModuleType]) -> None:
        standin_trt("10.0")
        weight, bias = weights([2, 3, 2])
        with pytest.raises(AttributeError, match="add_unsqueeze"):
            producers.onnx_parser(attrs({"strides": [2]}, [2, 3, 2]), [1, 2, 5], weight, bias, squeeze_layers=True)
