"""Text layout of the reports (polygraphy_deconv/report/layout.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from polygraphy_deconv.report.layout import cell_width, columns_line, field, patch_atoms, plain, shortened, wrapped


class TestShortened:
    def test_middle_goes(self) -> None:
        text = shortened("decoder.block3.upsample.conv_transpose", 20)
        assert text == "decoder.b...ranspose"

    def test_short_names_stay(self) -> None:
        assert shortened("up", 20) == "up"

    def test_wide_characters_count_twice(self) -> None:
        text = shortened("大" * 30, 21)
        assert cell_width(text) <= 21 and text.startswith("大") and text.endswith("大")

    @given(st.text(min_size=1), st.integers(4, 60))
    def test_fits(self, text: str, width: int) -> None:
        result = shortened(text, width)
        assert cell_width(result) <= width
        if cell_width(text) <= width:
            assert result == text


class TestWrapped:
    def test_atoms_stay_whole(self) -> None:
        atoms = [
            "pre=[0, 0, 0] post=[0, 0, 0] explicit",
            "+ fill-slice(before=[0, 0, 0], after=[1, 1, 1])",
            "+ bias add",
        ]
        lines = wrapped(atoms, 60, "    patch  ")
        assert lines == [
            "    patch  pre=[0, 0, 0] post=[0, 0, 0] explicit",
            "           + fill-slice(before=[0, 0, 0], after=[1, 1, 1])",
            "           + bias add",
        ]

    def test_a_word_wider_than_a_line_is_split_not_lost(self) -> None:
        name = "n" * 100
        lines = wrapped([name], 40, "  node  ")
        assert all(cell_width(line) <= 40 for line in lines)
        assert "".join(line.strip().removeprefix("node").strip() for line in lines) == name

    def test_a_name_too_wide_under_the_label_gets_a_line_of_its_own(self) -> None:
        # At 40 columns "up_same_upper_output_shape" was cut as "..._sha|pe" (issue 16).
        name = "up_same_upper_output_shape"
        assert field("node", [name], 40, 10) == [(("    node", ""),), ((f"    {name}", ""),)]
        assert wrapped([name, "next"], 40, "    node        ", outdent="    ") == [
            "    node", f"    {name}", "                next",
        ]

    def test_an_atom_wider_than_a_line_wraps_at_its_spaces(self) -> None:
        # At 40 columns these broke as "10x1|2" and "e|xplicit" (issue 16): words stay whole.
        lines = wrapped(["pre=[1, 1] post=[0, 0] explicit", "(b=(1,1) e=(0,0) -> 10x12)"], 30, "    patch   ")
        assert lines == [
            "    patch   pre=[1, 1]", "            post=[0, 0]", "            explicit (b=(1,1)", "            e=(0,0) -> 10x12)",
        ]

    @given(
        st.lists(st.text(alphabet="ab(),=[]- ", min_size=1, max_size=30), min_size=1, max_size=12), st.integers(20, 120)
    )
    def test_no_line_too_wide_no_trailing_space_nothing_lost(self, atoms: list[str], width: int) -> None:
        lines = wrapped(atoms, width, "    label  ")
        assert all(cell_width(line) <= width and line == line.rstrip() for line in lines)
        assert "".join("".join(lines).split()).replace("label", "", 1) == "".join("".join(atoms).split())

    @given(st.lists(st.text(alphabet="ab(),=[]-", min_size=1, max_size=8), min_size=1, max_size=20), st.integers(20, 120))
    def test_words_that_fit_a_line_are_never_split(self, words: list[str], width: int) -> None:
        atoms = [" ".join(words[i : i + 3]) for i in range(0, len(words), 3)]  # atoms of several words
        lines = wrapped(atoms, width, "    label  ")
        assert [word for line in lines for word in line.split()][1:] == words


def test_columns_line_has_no_trailing_space() -> None:
    line = columns_line([("up", 10, False, ""), ("2D", 4, True, ""), ("ok", 7, False, "green")])
    assert plain(line) == "up            2D  ok"


def test_patch_atoms() -> None:
    assert patch_atoms("pre=[1] post=[0] explicit + fill-slice(before=[0], after=[1]) + bias add") == [
        "pre=[1] post=[0] explicit",
        "+ fill-slice(before=[0], after=[1])",
        "+ bias add",
    ]
