"""`polygraphy-deconv`: find and fix ConvTranspose nodes TensorRT builds differently from ONNX.

Each subcommand is a module with `register(subparsers)` that adds its parser and sets `run`
(`run(args) -> exit code`); a new one (say `check`) is one more module in SUBCOMMANDS. Heavy imports
happen inside the `run` functions. User errors (DeconvError) print one line and exit 1; usage errors
exit 2 (argparse). Anything else is a bug: one line saying so, exit 1, and the traceback only with
POLYGRAPHY_DECONV_TRACEBACK=1.

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT raise `signals.Interrupted` wherever the program is, so
every `finally`/`except BaseException` on the way out removes its temporary files and folders, and the
command ends with one line and exit 128 + N (signals.py; a signal during start-up included).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from polygraphy_deconv import __version__
from polygraphy_deconv.cli import check, fix, inspect, npps, signals
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

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
    try:
        if argv is None:  # the console script (tests pass argv and keep their own handlers)
            signals.install()
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
    except DeconvError as error:
        # shown: a model string in the message (a node name, a path) never reaches the terminal raw.
        print(f"{PROG}: error: {shown(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        signum = interrupt.signum if isinstance(interrupt, signals.Interrupted) else signal.SIGINT
        print(f"{PROG}: interrupted by {signal.Signals(signum).name}; temporary files removed", file=sys.stderr)
        return 128 + signum
    except Exception as error:  # a bug, but still one line, not a traceback
        if os.environ.get("POLYGRAPHY_DECONV_TRACEBACK"):
            raise
        text = str(error).strip().splitlines()
        print(
            f"{PROG}: error: unexpected {type(error).__name__}"
            + (f": {shown(text[0])}" if text else "")
            + " (a bug in polygraphy-deconv: please report it; POLYGRAPHY_DECONV_TRACEBACK=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        if argv is None:  # exiting now: a late signal must not interrupt the exit itself
            signals.ignore()
    return code


if __name__ == "__main__":
    sys.exit(main())
