"""Polygraphy's `--input-shapes` syntax (`name:[1,3,224,224]`, one argument per input), parsed with
Polygraphy's own parser so both tools read the same text the same way."""

from __future__ import annotations

import re
from collections.abc import Sequence

from polygraphy_deconv.errors import DeconvError

InputShapes = dict[str, tuple[int | str | None, ...]]
INT64_MAX = (1 << 63) - 1

# name:[d, ...]: the name may itself hold ':' (Polygraphy splits at the last one).
_SHAPE_ARGUMENT = re.compile(r"^(?P<name>.+):\s*\[(?P<dims>[^\[\]]*)\]\s*$")


def check_argument_form(argument: str) -> None:
    """Raise ValueError (one line) unless `argument` has the form NAME:[d,...] (a usage error for the CLI)."""
    if not _SHAPE_ARGUMENT.match(argument):
        raise ValueError(f"cannot parse {argument!r}; expected NAME:[d,...], for example x:[1,3,224,224]")


def parse_input_shapes(arguments: Sequence[str] | None) -> InputShapes:
    """`["x:[1,3,224,224]", "y:[batch,8]"]` -> {"x": (1, 3, 224, 224), "y": ("batch", 8)}.

    A dimension is a positive int, or a name / -1 / `?` for one that stays dynamic (kept as a str or None).
    Raises DeconvError naming the argument that does not parse.
    """
    if not arguments:
        return {}
    names: set[str] = set()
    for argument in arguments:
        match = _SHAPE_ARGUMENT.match(argument)
        if not match:
            raise DeconvError(
                f"--input-shapes: cannot parse '{argument}'; expected NAME:[d,...], for example x:[1,3,224,224]"
            )
        if match["name"] in names:
            raise DeconvError(f"--input-shapes: input '{match['name']}' is given twice")
        names.add(match["name"])
    # Polygraphy's parser (polygraphy.tools.args.util.parse_meta, the same in 0.49 and 0.53). Lazy: it
    # pulls in polygraphy's tools package.
    from polygraphy.tools.args import util as args_util

    try:
        meta = args_util.parse_meta(list(arguments), includes_shape=True, includes_dtype=False)
    except Exception as error:  # noqa: BLE001 (G_LOGGER.critical raises PolygraphyException)
        raise DeconvError(f"--input-shapes: {error}") from None

    shapes: InputShapes = {}
    for argument, (name, entry) in zip(arguments, meta.items()):
        dims: list[int | str | None] = []
        for dim in entry.shape or ():
            if isinstance(dim, (bool, float)):
                raise DeconvError(f"--input-shapes: '{argument}': dimension {dim} is not an integer")
            if isinstance(dim, int):
                if dim == -1:
                    dims.append(None)
                    continue
                if dim < 1:
                    raise DeconvError(f"--input-shapes: '{argument}': dimension {dim} is below 1")
                if dim > INT64_MAX:  # ONNX dims are int64: no tensor can have it
                    raise DeconvError(f"--input-shapes: '{argument}': dimension {dim} is beyond int64 ({INT64_MAX})")
                dims.append(dim)
            else:
                text = str(dim).strip()
                dims.append(None if text in ("", "?") else text)
        shapes[name] = tuple(dims)
    return shapes
