"""Showing a string that came from a model (a node name, a path, an attribute) to a person.

A model file is untrusted input: its strings may hold escape sequences that clear a terminal, set its
title or write the clipboard (OSC 52), or a newline that forges a second `error:` line. `shown` makes
every such character visible, escaped as Python's repr escapes it, and changes nothing else, so
ordinary names (also non-ASCII ones) read as they are. Stdlib only: the plugin and the core may use it.
"""

from __future__ import annotations


def shown(s: str) -> str:
    """`s` with each control or non-printable character escaped as repr does (without quotes).

    `"a\\x1b[2Jb"` -> `a\\x1b[2Jb`, a newline -> `\\n`, a lone surrogate from undecodable bytes ->
    `\\udcff`; printable characters, backslashes and quotes included, are kept as they are.
    """
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
