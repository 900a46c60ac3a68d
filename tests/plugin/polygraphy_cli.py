"""Running the installed `polygraphy` console script, of this venv or of a second venv with another
Polygraphy version, and the small ONNX models the plugin tests use."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.models import conv_transpose_model


@dataclass(frozen=True)
class PolygraphyInstall:
    bin_dir: Path
    version: str

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`polygraphy ARGS`; `env` is added to this process's environment (a value None removes the name)."""
        environment = dict(os.environ)
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return subprocess.run(
            [str(self.bin_dir / "polygraphy"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, check=False, env=environment,
        )


def hiding(folder: Path, *modules: str) -> dict[str, str]:
    """The environment of a Python process in which `modules` are not installed: a sitecustomize.py that marks
    them missing in sys.modules (import raises ImportError, importlib.util.find_spec returns None)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    )
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)}


def current_install() -> PolygraphyInstall:
    import polygraphy

    return PolygraphyInstall(Path(sys.executable).parent, polygraphy.__version__)


def save_model(folder: Path, attributes: dict[str, Any] | None = None, name: str = "m.onnx") -> Path:
    """x [1, 2, 5, 6] -> ConvTranspose (k3, s2; attributes as given) -> y."""
    import onnx

    path = folder / name
    attributes = attributes or {"strides": [2, 2], "pads": [0, 0, 0, 0], "output_padding": [1, 1]}
    onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], **attributes), str(path))
    return path
