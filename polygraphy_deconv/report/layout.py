"""Text layout shared by the reports: a row of short columns with the long fields stacked under it,
names shortened in the middle, values wrapped at whole words, no trailing spaces.

The reports lay out every line themselves (at the console's width: the terminal's, or COLUMNS, or 80
when piped) and hand finished lines to rich, so nothing is cut or folded mid-word behind their back.
A line is a sequence of (text, style) segments; the style is used on a terminal only. Pure apart from
`write_lines` (lazy rich import).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

Segment = tuple[str, str]  # (text, rich style or "")
Line = tuple[Segment, ...]

ELLIPSIS = "..."
INDENT = "    "  # fields under a row
FIELD_GAP = "  "


def cell_width(text: str) -> int:
    """Terminal columns of `text` (East Asian wide characters take two, combining marks none)."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _prefix_within(text: str, width: int) -> str:
    used, end = 0, 0
    for end, char in enumerate(text):
        used += cell_width(char)
        if used > width:
            return text[:end]
    return text


def shortened(text: str, width: int) -> str:
    """`text` in at most `width` columns: the start and the end kept, the middle replaced by '...'."""
    if cell_width(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return _prefix_within(text, width)
    room = width - len(ELLIPSIS)
    head = _prefix_within(text, room - room // 2)
    tail = _prefix_within(text[::-1], room // 2)[::-1]
    return head + ELLIPSIS + tail


def _chunks(atom: str, width: int) -> list[str]:
    """A word wider than a whole line (a long node name), cut into pieces that fit: the only place a word is
    split."""
    pieces = []
    while atom:
        piece = _prefix_within(atom, max(width, 1)) or atom[0]
        pieces.append(piece)
        atom = atom[len(piece) :]
    return pieces


def wrapped(
    atoms: Iterable[str], width: int, first: str = "", rest: str | None = None, outdent: str | None = None
) -> list[str]:
    """Greedy wrapping of `atoms` (words, or whole texts that must stay on one line where they fit)
    separated by single spaces; `first` starts the first line, `rest` every other (default: spaces
    as wide as `first`).

    An atom too wide for a line of its own is wrapped at its spaces, so its words stay whole ("10x12",
    "explicit" at 40 columns). A single word too wide for a `rest` line gets a line of its own starting
    with `outdent` where it fits there (a node name under a narrow row); only one wider than that (a long node
    name) is cut."""
    rest = " " * cell_width(first) if rest is None else rest
    lines: list[str] = []
    line, used, empty = first, cell_width(first), True
    pending = [atom for atom in atoms if atom][::-1]  # a stack: the next atom last
    while pending:
        atom = pending.pop()
        size = cell_width(atom)
        if " " in atom and cell_width(rest) + size > width:
            pending.extend(reversed(atom.split()))  # too wide for any line: its words, one by one
            continue
        if not empty and used + 1 + size > width:
            lines.append(line)
            line, used, empty = rest, cell_width(rest), True
        if empty and used + size > width and outdent is not None and cell_width(outdent) + size <= width:
            if line.strip():  # the label's line keeps the label; the word gets its own, less indented line
                lines.append(line)
            line, used, empty = outdent + atom, cell_width(outdent) + size, False
            lines.append(line)
            line, used, empty = rest, cell_width(rest), True
            continue
        if empty and used + size > width:  # one word, alone on its line and still too wide: cut it
            pieces = _chunks(atom, width - used)
            for piece in pieces[:-1]:
                lines.append(line + piece)
                line, used = rest, cell_width(rest)
            atom = pieces[-1]
            size = cell_width(atom)
        line += atom if empty else " " + atom
        used += size if empty else size + 1
        empty = False
    if not (empty and lines and line == rest):  # not the fresh line after an outdented word
        lines.append(line)
    return [text.rstrip() for text in lines]


def words(text: str) -> list[str]:
    return text.split()


def patch_atoms(text: str) -> list[str]:
    """A patch description in pieces that each stay on one line: 'pre=[..] post=[..] explicit',
    '+ fill-slice(before=[..], after=[..])', '+ bias add'."""
    first, *others = text.split(" + ")
    return [first, *(f"+ {part}" for part in others)]


def field(label: str, atoms: Iterable[str], width: int, label_width: int) -> list[Line]:
    """'    label       value...' wrapped under a row; continuation lines start under the value."""
    first = INDENT + label.ljust(label_width) + FIELD_GAP
    return [((text, ""),) for text in wrapped(atoms, width, first, outdent=INDENT)]


def block_width(label: str, lines: Sequence[str], label_width: int) -> int:
    """How wide block_lines draws these lines beside this label (a label longer than `label_width` pushes them)."""
    return len(INDENT) + max(len(label), label_width) + len(FIELD_GAP) + max(map(len, lines), default=0)


def block_lines(label: str, lines: Sequence[str], label_width: int) -> list[Line]:
    """Pre-drawn lines (a picture) under a row, the label on the first one; not wrapped."""
    first = INDENT + label.ljust(label_width) + FIELD_GAP
    rest = " " * len(first)
    return [((((first if i == 0 else rest) + text).rstrip(), ""),) for i, text in enumerate(lines)]


def columns_line(cells: Sequence[tuple[str, int, bool, str]]) -> Line:
    """One row of aligned columns: (text, width, right-aligned, style) per cell, two spaces apart;
    the last cell is not padded, so the line has no trailing space."""
    segments: list[Segment] = []
    for index, (text, width, right, style) in enumerate(cells):
        pad = " " * max(width - cell_width(text), 0)
        last = index == len(cells) - 1
        if index:
            segments.append(("  ", ""))
        if right:
            segments.append((pad, ""))
        segments.append((text, style))
        if not right and not last:
            segments.append((pad, ""))
    return tuple(segments)


def plain(line: Line) -> str:
    return "".join(text for text, _ in line).rstrip()


def text_line(text: str, style: str = "") -> Line:
    return ((text, style),)


def write_lines(console: Console, lines: Sequence[Line]) -> None:
    """Print finished lines: plain text straight to the console's file when it is not a terminal (fast,
    exact), rich Text with the styles on a terminal. A closed pipe (`... | head`) ends the program
    quietly, as rich does for its own output."""
    if not lines:
        return
    if not console.is_terminal or console.no_color:
        try:
            console.file.write("\n".join(plain(line) for line in lines) + "\n")
            console.file.flush()
        except BrokenPipeError:
            console.on_broken_pipe()
        return
    from rich.text import Text

    text = Text()
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        for segment, style in line:
            text.append(segment, style or None)
    console.print(text, soft_wrap=True, markup=False, highlight=False, emoji=False)
