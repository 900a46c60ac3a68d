"""The text of a Polygraphy network postprocess script bound to one model (`polygraphy-deconv npps`).

Polygraphy's contract (--trt-network-postprocess-script / --trt-npps SCRIPT[:FUNC], 0.49.26 to 0.53.x):
the script is imported by file name (its folder first on sys.path, the module name its base name) and
FUNC, default `postprocess`, is called with the keyword argument `network` (a trt.INetworkDefinition)
right after the parse, before the outputs are marked and precisions set (tools/args/backend/trt/loader.py,
0.49.26:440-448, 0.53.6:523-531; backend/trt/loader.py PostprocessNetwork).
Pure: builds text from values, imports nothing heavy.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence

from polygraphy_deconv import __version__
from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.text import shown

FUNCTION = "postprocess"


def check_script_name(path: str) -> None:
    """Refuse a script path Polygraphy cannot import as this script: it must end in .py, and its base name
    is the module name Polygraphy imports, so it may hold no dot and must not name a module Python finds
    elsewhere (import_module would return that module, and Polygraphy then deletes it from sys.modules)."""
    base = os.path.basename(path)
    name, extension = os.path.splitext(base)
    if extension != ".py":
        raise DeconvError(f"-o {shown(path)}: Polygraphy imports the script as a module, so its name must end in .py")
    if not name or "." in name or not name.isidentifier():
        raise DeconvError(
            f"-o {shown(path)}: Polygraphy imports the script as module '{shown(name)}'; use a Python identifier "
            "as the file name (letters, digits, _), e.g. patch_model.py"
        )
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.origin is not None and os.path.abspath(found.origin) != os.path.abspath(path):
        raise DeconvError(
            f"-o {shown(path)}: '{name}' is the name of an installed module ({shown(found.origin)}), which Python "
            "would import instead of the script; choose another file name, e.g. patch_model.py"
        )


def script_text(
    model_path: str, input_shapes: Mapping[str, Sequence[int | str | None]], summary: str, rules: str
) -> str:
    """The script: `model_path` absolute; `input_shapes` as parsed from --input-shapes; `summary` one line
    on what the analysis found; `rules` the TensorRT version whose parser the analysis assumed."""
    shapes = {name: list(dims) for name, dims in input_shapes.items()}
    model_literal = repr(os.path.abspath(model_path))
    # A docstring shows the path as text: escaped, so no character of it can end the string or the line.
    shown_model = shown(os.path.abspath(model_path)).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    shown_summary = shown(summary).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'''"""Network postprocess script for Polygraphy, written by polygraphy-deconv {__version__} (`polygraphy-deconv npps`).

Model: {shown_model}
At writing: {shown_summary} (parser rules of TensorRT {rules}).

    polygraphy convert MODEL --trt-npps THIS_SCRIPT -o MODEL.engine

Polygraphy calls {FUNCTION}(network=...) right after the parse. It patches every deconvolution whose window
differs from its ONNX ConvTranspose, as `polygraphy run --deconv-fix` does, reports each one through
Polygraphy's logger, and fails the command with one message on a deconvolution it cannot patch safely.
It is bound to the model file and the input shapes below: write it again when the model changes.
"""

from polygraphy_deconv.deploy.postprocess import patch_parsed_network

MODEL = {model_literal}
INPUT_SHAPES = {shapes!r}


def {FUNCTION}(network):
    # The patch's new weights are numpy arrays that TensorRT's Weights point into: the package keeps them with
    # the network (not in this module, which Polygraphy drops from sys.modules right after importing it).
    patch_parsed_network(network, MODEL, INPUT_SHAPES)
'''
