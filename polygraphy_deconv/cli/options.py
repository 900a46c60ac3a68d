"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_input_shapes_option(parser: argparse.ArgumentParser, *, verifies: bool = False) -> None:
    """--input-shapes; `verifies`: the command runs a verification at these sizes (fix --verify, check)."""
    text = (
        "Bind graph input shapes, in Polygraphy's syntax: --input-shapes x:[1,3,224,224] y:[1,8]. "
        "Use it for dynamic spatial sizes that decide a window (output_shape: the ONNX window; TensorRT's parser "
        "still reads the model's own sizes)"
    )
    if verifies:
        text += (
            ", and for the sizes the verification (and check's TensorRT step) runs at: dims left dynamic get the "
            "smallest sizes ONNX shape inference finds consistent and onnxruntime runs"
        )
    parser.add_argument(
        "--input-shapes",
        metavar="NAME:[d,...]",
        nargs="+",
        action="extend",
        default=None,
        type=input_shape_argument,
        help=text + ".",
    )


def input_shape_argument(text: str) -> str:
    """argparse type of one --input-shapes argument: its form (NAME:[d,...]) is checked as a usage error (exit 2,
    like --seed -1); names and dims are checked against the model later."""
    from polygraphy_deconv.onnx_model.input_shapes import check_argument_form

    try:
        check_argument_form(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


SEED_LIMIT = 1 << 32  # numpy's RandomState, under Polygraphy's data loader, takes seeds 0 to 2**32 - 1


def seed_value(text: str) -> int:
    """--seed: an int numpy can seed with, checked by argparse (a usage error before anything is written)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is out of range: a seed is 0 to {SEED_LIMIT - 1}")
    return value


def add_seed_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--seed", type=seed_value, default=None, metavar="N", help=f"seed of {what} (0 to {SEED_LIMIT - 1}; default 1)"
    )


def memory_size(text: str) -> int:
    from polygraphy_deconv.onnx_model.verify import parse_byte_size

    try:
        return parse_byte_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_verify_memory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verify-memory-limit",
        metavar="SIZE",
        type=memory_size,
        default=None,
        help="refuse, before running it, a verification whose input and output tensors would take more than SIZE "
        "(e.g. 8GiB, 512M; default 2GiB)",
    )
