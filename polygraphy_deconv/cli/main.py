"""`polygraphy-deconv`: find and fix ConvTranspose nodes TensorRT builds differently from ONNX.

Each subcommand is a module with `register(subparsers)` that adds its parser and sets `run`
(`run(args) -> exit code`); a new one (say `check`) is one more module in SUBCOMMANDS. Heavy imports
happen inside the `run` functions. User errors (DeconvError) print one line and exit 1; usage errors
exit 2 (argparse). Anything else is a bug: one line saying so, exit 1, and the traceback only with
POLYGRAPHY_DECONV_TRACEBACK=1.

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT raise `Interrupted` wherever the program is, so every
`finally`/`except BaseException` on the way out removes its temporary files and folders, and the
command ends with one line and exit 128 + N. When this module runs as the console script, the handlers
are installed first thing, before anything else is imported (a signal in the first milliseconds must not
print a KeyboardInterrupt traceback either).
"""

from __future__ import annotations

import signal
import sys

PROG = "polygraphy-deconv"
CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop: raised by the handler, so clean-up code runs on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    # A second signal during the clean-up is ignored: the first one's exception is already unwinding.
    for number in CLEANUP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    for number in CLEANUP_SIGNALS:
        try:
            if number != signal.SIGINT and signal.getsignal(number) == signal.SIG_IGN:
                continue  # ignored by whoever started us (nohup): stay ignored
            signal.signal(number, _raise_interrupted)
        except (OSError, ValueError):  # not the main thread, or not settable here
            pass


if __name__ == "__main__" or sys.argv[0].endswith(PROG):  # the console script: before the imports below
    install_signal_handlers()

import argparse
import os
from collections.abc import Sequence

from polygraphy_deconv import __version__
from polygraphy_deconv.cli import check, fix, inspect, npps
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

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
    if argv is None:  # the console script (tests pass argv and keep their own handlers)
        install_signal_handlers()
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
    except DeconvError as error:
        # shown: a model string in the message (a node name, a path) never reaches the terminal raw.
        print(f"{PROG}: error: {shown(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        signum = interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT
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
            for number in CLEANUP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
    return code


if __name__ == "__main__":
    sys.exit(main())
