"""polygraphy_deconv.text.shown: model strings made safe to print (control characters visible, nothing else changed)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from polygraphy_deconv.text import shown


def test_control_characters_are_escaped_like_repr() -> None:
    assert shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert shown("x\ny") == "x\\ny"
    assert shown("t\tr\r") == "t\\tr\\r"
    assert shown("\x07\x00\x7f") == "\\x07\\x00\\x7f"
    assert shown("\u200b\u2028") == "\\u200b\\u2028"
    assert shown("bad\udcff") == "bad\\udcff"


def test_printable_text_is_unchanged() -> None:
    for text in ("up_pads", "Conv/ConvTranspose:0", "größe 大", "a\\b 'q' \"d\" [bold]x[/]", ""):
        assert shown(text) == text


@given(st.text())
def test_result_is_printable_and_keeps_printables(text: str) -> None:
    result = shown(text)
    assert result.isprintable()
    if text.isprintable():
        assert result == text
    assert "\n" not in result and "\x1b" not in result
