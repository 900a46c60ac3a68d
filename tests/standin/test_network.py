"""The stand-in's own rules, each as the source cited in tests/standin/network.py states it."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.standin import network as standin


def deconvolution(trt: types.ModuleType, channels: int = 2, maps: int = 3) -> tuple[Any, Any]:
    network = trt.INetworkDefinition()
    x = network.add_input("x", trt.DataType.FLOAT, (1, channels, 4, 5))
    kernel = trt.Weights(np.ones(channels * maps * 9, np.float32))
    return network, network.add_deconvolution_nd(x, maps, (3, 3), kernel)


class TestDeconvolutionSetters:
    @pytest.mark.parametrize("setter", ["pre_padding", "post_padding", "padding_nd"])
    def test_negative_padding_is_logged_and_left_unapplied(self, standin_version: types.ModuleType,
                                                           setter: str) -> None:
        trt = standin_version
        logger = trt.Logger()
        network = trt.Builder(logger).create_network()
        x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 4, 5))
        layer = network.add_deconvolution_nd(x, 3, (3, 3), trt.Weights(np.ones(54, np.float32)))
        layer.pre_padding = (1, 1)
        layer.post_padding = (1, 1)
        setattr(layer, setter, (2, -1))  # no exception: the bindings call a noexcept C++ setter
        assert tuple(layer.pre_padding) == (1, 1) and tuple(layer.post_padding) == (1, 1)
        ((severity, message),) = logger._records
        assert severity == trt.Logger.ERROR
        assert "Error Code 3: API Usage Error" in message and "allDimsGtEq" in message
        assert standin.api_errors(network) == [message]

    def test_negative_error_recorder_takes_the_report(self) -> None:
        trt = standin.tensorrt_module()

        class Recorder(trt.IErrorRecorder):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                self.errors: list[tuple[object, str]] = []

            def report_error(self, val: object, desc: str) -> bool:
                self.errors.append((val, desc))
                return False

        logger = trt.Logger()
        network, layer = deconvolution(trt)
        network._logger = logger
        network.error_recorder = recorder = Recorder()
        layer.post_padding = (-1, 0)
        ((code, desc),) = recorder.errors
        assert code == trt.ErrorCodeTRT.INVALID_ARGUMENT and "setPostPadding" in desc
        assert logger._records == []  # NvInfer.h@release/10.8:7714: the logger only without a recorder
        assert tuple(layer.post_padding) == (0, 0)

    def test_negative_padding_rank_is_checked(self) -> None:
        network, layer = deconvolution(standin.tensorrt_module())
        layer.pre_padding = (1, 1, 1, 1)  # condition nbDims == 2 || nbDims == 3 (NVIDIA/TensorRT issue 2910)
        assert tuple(layer.pre_padding) == (0, 0) and len(standin.api_errors(network)) == 1

    def test_padding_nd_sets_both_and_reads_pre(self) -> None:
        _, layer = deconvolution(standin.tensorrt_module())
        layer.padding_nd = (1, 2)
        assert tuple(layer.pre_padding) == (1, 2) and tuple(layer.post_padding) == (1, 2)
        layer.post_padding = (0, 0)
        assert tuple(layer.padding_nd) == (1, 2)  # NvInfer.h@release/10.8:2354: the pre-padding
        assert layer.get_output(0).shape == (1, 3, 5, 5)  # (4 - 1) + 3 - 1 - 0, (5 - 1) + 3 - 2 - 0

    def test_negative_kernel_count_is_refused(self) -> None:
        trt = standin.tensorrt_module()
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 4, 5))
        layer = network.add_deconvolution_nd(x, 3, (3, 3), trt.Weights(np.ones(2 * 2 * 9, np.float32)))
        with pytest.raises(standin.NetworkError, match="kernel weights has count 36 but 54 was expected"):
            network.check()
        assert layer.kernel.size == 36

    def test_kernel_and_bias_tensors(self) -> None:
        """Inputs 1 and 2 replace empty weights (NvInfer.h@release/10.8:2370-2371) and are what runs."""
        trt = standin.tensorrt_module()
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.FLOAT, (1, 1, 2, 2))
        kernel = network.add_constant((1, 1, 1, 1), np.full(1, 2.0, np.float32)).get_output(0)
        bias = network.add_constant((1,), np.full(1, 0.5, np.float32)).get_output(0)
        layer = network.add_deconvolution_nd(x, 1, (1, 1), trt.Weights(), trt.Weights())
        layer.set_input(1, kernel)
        layer.set_input(2, bias)
        network.mark_output(layer.get_output(0))
        out = network.execute({"x": np.arange(4.0).reshape(1, 1, 2, 2)})
        np.testing.assert_array_equal(next(iter(out.values())), 2 * np.arange(4.0).reshape(1, 1, 2, 2) + 0.5)
        assert layer.kernel.size == 0 and layer.bias.size == 0


class TestShapeRules:
    def test_unsqueeze_negative_axis_counts_from_the_output(self) -> None:
        trt = standin.tensorrt_module()
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 5))
        axes = network.add_constant((1,), np.array([-1], np.int32)).get_output(0)
        assert network.add_unsqueeze(x, axes).get_output(0).shape == (1, 2, 5, 1)  # NvInfer.h@10.8:8063-8066
        squeezed = network.add_squeeze(network.add_unsqueeze(x, axes).get_output(0), axes)
        assert squeezed.get_output(0).shape == (1, 2, 5)

    def test_shuffle_transposes(self) -> None:
        trt = standin.tensorrt_module()
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 5, 1))
        layer = network.add_shuffle(x)
        layer.first_transpose = (0, 2, 1, 3)
        layer.reshape_dims = (0, 0, 0)
        assert layer.get_output(0).shape == (1, 5, 2)
        network.mark_output(layer.get_output(0))
        value = np.arange(10.0).reshape(1, 2, 5, 1)
        np.testing.assert_array_equal(network.execute({"x": value})[layer.get_output(0).name],
                                      value.transpose(0, 2, 1, 3).reshape(1, 5, 2))

    @pytest.mark.parametrize("version, shape_type", [("8.6", "INT32"), ("10.8", "INT64")])
    def test_negative_elementwise_needs_one_type(self, standin_trt: Callable[..., types.ModuleType], version: str,
                                                 shape_type: str) -> None:
        """NvInfer.h@release/10.8:7120-7121: the same type (or FLOAT/HALF); a shape is INT32 on 8.6, INT64 on 10."""
        trt = standin_trt(version)
        network = trt.INetworkDefinition()
        shape = network.add_shape(network.add_input("x", trt.DataType.FLOAT, (1, 2))).get_output(0)
        assert shape.dtype == getattr(trt.DataType, shape_type)
        same = network.add_constant((2,), np.zeros(2, np.int32 if version == "8.6" else np.int64)).get_output(0)
        assert network.add_elementwise(shape, same, trt.ElementWiseOperation.SUM).get_output(0).shape == (2,)
        other = network.add_constant((2,), np.zeros(2, np.float32)).get_output(0)
        layer = network.add_elementwise(shape, other, trt.ElementWiseOperation.SUM)
        with pytest.raises(standin.NetworkError, match="incompatible input types"):
            _ = layer.get_output(0).shape


class TestTypes:
    @pytest.mark.parametrize("version, expected", [("8.6", "FLOAT"), ("10.8", "FLOAT"), ("11.4", "HALF")])
    def test_a_set_type_stays_on_its_tensor(self, standin_trt: Callable[..., types.ModuleType], version: str,
                                            expected: str) -> None:
        """Weakly typed, an output's set type is that tensor's only: a layer added after it reads FLOAT
        ("Without this, output type is always float32", ModelImporter.cpp@10.1-GA:793); strongly typed
        (11), types flow from the inputs."""
        trt = standin_trt(version)
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.HALF, (1, 1, 2, 2))
        y = network.add_deconvolution_nd(x, 1, (1, 1), trt.Weights(np.ones(1, np.float16))).get_output(0)
        network.mark_output(y)
        if version != "11.4":
            y.dtype = trt.DataType.HALF
        assert y.dtype == trt.DataType.HALF
        after = network.add_slice(y, (0, 0, 0, 0), (1, 1, 3, 3), (1, 1, 1, 1)).get_output(0)
        assert after.dtype == getattr(trt.DataType, expected)
        shape = network.add_shape(after).get_output(0)
        assert network.add_shuffle(shape).get_output(0).dtype == shape.dtype  # integer types pass through
