"""`polygraphy-deconv`: find and fix ConvTranspose nodes TensorRT builds differently from ONNX.

Each subcommand is a module with `register(subparsers)` that adds its parser and sets `run`
(`run(args) -> exit code`); a new one (say `check`) is one more module in SUBCOMMANDS. Heavy imports
happen inside the `run` functions. User errors (DeconvError) print one line and exit 1; usage errors
exit 2 (argparse). Anything else is a bug: one line saying so, exit 1, and the traceback only with
POLYGRAPHY_DECONV_TRACEBACK=1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from polygraphy_deconv import __version__
from polygraphy_deconv.cli import check, fix, inspect, npps
from polygraphy_deconv.errors import DeconvError

PROG = "polygraphy-deconv"
SUBCOMMANDS = (inspect, fix, check, npps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Find and fix ONNX ConvTranspose nodes whose TensorRT deconvolution computes a different "
        "output window than ONNX (onnxruntime) does.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except DeconvError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, but still one line, not a traceback
        if os.environ.get("POLYGRAPHY_DECONV_TRACEBACK"):
            raise
        text = str(error).strip().splitlines()
        print(
            f"{PROG}: error: unexpected {type(error).__name__}"
            + (f": {text[0]}" if text else "")
            + " (a bug in polygraphy-deconv: please report it; POLYGRAPHY_DECONV_TRACEBACK=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
