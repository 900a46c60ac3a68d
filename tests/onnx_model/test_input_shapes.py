"""Polygraphy's --input-shapes syntax."""

from __future__ import annotations

import pytest

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes


class TestParseInputShapes:
    def test_basic(self) -> None:
        assert parse_input_shapes(["x:[1,3,224,224]"]) == {"x": (1, 3, 224, 224)}

    def test_several_names_symbolic_and_dynamic_dims(self) -> None:
        shapes = parse_input_shapes(["x:[1,3,224,224]", "mask:[batch,8]", "y:[-1, 4]", "ns:scope:[2]"])
        assert shapes == {"x": (1, 3, 224, 224), "mask": ("batch", 8), "y": (None, 4), "ns:scope": (2,)}

    def test_none_is_empty(self) -> None:
        assert parse_input_shapes(None) == {}
        assert parse_input_shapes([]) == {}

    @pytest.mark.parametrize("argument", ["x", "x:1,2", "x:[1,2", ":[1,2]", "[1,2]"])
    def test_negative_syntax(self, argument: str) -> None:
        with pytest.raises(DeconvError, match="cannot parse"):
            parse_input_shapes([argument])

    def test_negative_twice(self) -> None:
        with pytest.raises(DeconvError, match="'x' is given twice"):
            parse_input_shapes(["x:[1]", "x:[2]"])

    @pytest.mark.parametrize("argument, problem", [("x:[1,0]", "below 1"), ("x:[1,-2]", "below 1"), ("x:[1.5]", "not an integer")])
    def test_negative_dims(self, argument: str, problem: str) -> None:
        with pytest.raises(DeconvError, match=problem):
            parse_input_shapes([argument])
