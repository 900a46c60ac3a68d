"""ConvTransposeAttributes.from_onnx: defaults made explicit, invalid nodes rejected with one message that
names the node."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygraphy_deconv.core import ConvTransposeAttributes, InvalidConvTranspose
from polygraphy_deconv.errors import DeconvError


def read(attributes: dict[str, Any], weight_shape: tuple[int | None, ...] = (2, 3, 3, 3)) -> ConvTransposeAttributes:
    return ConvTransposeAttributes.from_onnx("up1", attributes, weight_shape)


class TestConvTransposeAttributes:
    def test_basic(self) -> None:
        attrs = read({"strides": [2, 3], "pads": [1, 0, 2, 1], "output_padding": [1, 2], "dilations": [1, 2]})
        assert attrs.rank == 2
        assert attrs.kernel_shape == (3, 3)
        assert attrs.pads_begin == (1, 0) and attrs.pads_end == (2, 1)
        assert attrs.dilated_kernel == (3, 5)
        assert attrs.auto_pad == "NOTSET" and attrs.group == 1 and attrs.output_shape is None

    def test_defaults(self) -> None:
        missing = read({})
        explicit = read({
            "kernel_shape": [3, 3], "strides": [1, 1], "dilations": [1, 1], "pads": [0, 0, 0, 0],
            "output_padding": [0, 0], "auto_pad": "NOTSET", "group": 1,
        })
        assert missing == explicit
        assert missing.strides == (1, 1) and missing.pads == (0, 0, 0, 0) and missing.output_padding == (0, 0)

    @settings(derandomize=True, max_examples=100)
    @given(st.integers(1, 3), st.data())
    def test_missing_equals_explicit_default(self, rank: int, data: st.DataObject) -> None:
        defaults: dict[str, Any] = {
            "strides": [1] * rank, "dilations": [1] * rank, "pads": [0] * (2 * rank),
            "output_padding": [0] * rank, "auto_pad": "NOTSET", "group": 1, "kernel_shape": [2] * rank,
        }
        written = data.draw(st.sets(st.sampled_from(sorted(defaults))))
        weight = (2, 2, *([2] * rank))
        assert read({k: defaults[k] for k in written}, weight) == read({}, weight)

    def test_auto_pad_bytes(self) -> None:
        # onnx.helper.get_attribute_value returns STRING attributes as bytes.
        assert read({"auto_pad": b"SAME_UPPER"}).auto_pad == "SAME_UPPER"

    def test_output_shape_forms(self) -> None:
        spatial = read({"output_shape": [10, 12]})
        with_nc = read({"output_shape": [1, 6, 10, 12]})
        assert spatial.output_shape == with_nc.output_shape == (10, 12)
        assert not spatial.output_shape_has_batch_channel and with_nc.output_shape_has_batch_channel

    def test_ranks(self) -> None:
        assert read({}, (1, 1, 4)).rank == 1
        assert read({}, (1, 1, 2, 3, 4)).kernel_shape == (2, 3, 4)

    def test_kernel_shape_with_dynamic_weight(self) -> None:
        assert read({"kernel_shape": [3, 5]}, (2, 3, None, None)).kernel_shape == (3, 5)

    def test_output_padding_below_dilation(self) -> None:
        # The spec (and PyTorch) allow output_padding >= stride while it is below the dilation.
        assert read({"strides": [1, 1], "dilations": [3, 3], "output_padding": [2, 2]}).output_padding == (2, 2)

    def test_negative_pads_are_read(self) -> None:
        # tf2onnx writes them; the verdict negative-pads handles them (issue 16), they are not invalid input.
        attrs = read({"strides": [3, 3], "pads": [0, 0, -1, -1]})
        assert attrs.pads_end == (-1, -1) and attrs.negative_pads
        assert not read({"pads": [1, 1, 0, 0]}).negative_pads
        with pytest.raises(InvalidConvTranspose, match="cannot be combined with auto_pad"):
            read({"auto_pad": "SAME_UPPER", "pads": [0, 0, -1, 0]})

    def test_zero_pads_with_auto_pad(self) -> None:
        assert read({"auto_pad": "SAME_UPPER", "pads": [0, 0, 0, 0]}).auto_pad == "SAME_UPPER"

    @pytest.mark.parametrize(
        ("attributes", "weight_shape", "problem"),
        [
            ({"strides": [2, 2], "output_padding": [2, 0]}, (2, 3, 3, 3), "output_padding 2 on H"),
            ({"strides": [2, 2], "dilations": [2, 2], "output_padding": [0, 2]}, (2, 3, 3, 3), "output_padding 2"),
            ({"output_padding": [1, 1]}, (2, 3, 3, 3), "output_padding 1 on H"),
            ({"strides": [2, 2, 2]}, (2, 3, 3, 3), "strides has 3 entries"),
            ({"dilations": [1]}, (2, 3, 3, 3), "dilations has 1 entries"),
            ({"pads": [1, 1]}, (2, 3, 3, 3), "pads has 2 entries"),
            ({"output_padding": [0, 0, 0]}, (2, 3, 3, 3), "output_padding has 3 entries"),
            ({"kernel_shape": [3]}, (2, 3, 3, 3), "kernel_shape has 1 entries"),
            ({"strides": [0, 1]}, (2, 3, 3, 3), "strides [0, 1] has an entry below 1"),
            ({"dilations": [1, 0]}, (2, 3, 3, 3), "dilations [1, 0] has an entry below 1"),
            ({"output_padding": [-1, 0]}, (2, 3, 3, 3), "output_padding [-1, 0] has an entry below 0"),
            ({"output_shape": [10, 12, 1]}, (2, 3, 3, 3), "output_shape [10, 12, 1] has 3 entries"),
            ({"output_shape": [10]}, (2, 3, 3, 3), "output_shape [10] has 1 entries"),
            ({"output_shape": [0, 12]}, (2, 3, 3, 3), "has a size below 1"),
            ({"auto_pad": "SAME"}, (2, 3, 3, 3), "auto_pad 'SAME' is not one of"),
            ({"auto_pad": "SAME_UPPER", "pads": [1, 1, 1, 1]}, (2, 3, 3, 3), "cannot be combined with auto_pad"),
            ({"auto_pad": "VALID", "pads": [0, 1, 0, 0]}, (2, 3, 3, 3), "cannot be combined with auto_pad VALID"),
            ({"kernel_shape": [3, 5]}, (2, 3, 3, 3), "contradicts the weight's spatial shape [3, 3]"),
            ({"group": 0}, (2, 3, 3, 3), "group 0 is below 1"),
            ({"group": 3}, (2, 3, 3, 3), "group 3 does not divide the weight's 2 input channels"),
            ({}, (2, 3), "weight W has rank 2"),
            ({}, (2, 3, 1, 1, 1, 1), "weight W has rank 6"),
            ({}, (2, 3, None, 3), "no kernel_shape attribute"),
            ({"padding": [1, 1]}, (2, 3, 3, 3), "unknown attribute(s) padding"),
        ],
    )
    def test_negative_invalid(self, attributes: dict[str, Any], weight_shape: tuple[int | None, ...],
                              problem: str) -> None:
        with pytest.raises(InvalidConvTranspose) as raised:
            ConvTransposeAttributes.from_onnx("decoder/up1", attributes, weight_shape)
        message = str(raised.value)
        assert message.startswith("ConvTranspose node 'decoder/up1': ")
        assert problem in message
        assert "\n" not in message
        assert raised.value.node == "decoder/up1"
        assert isinstance(raised.value, DeconvError)
