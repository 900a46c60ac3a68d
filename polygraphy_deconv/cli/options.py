"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_input_shapes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-shapes",
        metavar="NAME:[d,...]",
        nargs="+",
        action="extend",
        default=None,
        help="Bind graph input shapes, in Polygraphy's syntax: --input-shapes x:[1,3,224,224] y:[1,8]. "
        "Use it for dynamic spatial sizes that decide a window (output_shape).",
    )
