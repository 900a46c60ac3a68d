"""Writing output files: all or nothing, never over an input.

Every file the tool writes (a fixed model, its copied external data, a JSON report) goes through
`write_atomically`: a temporary file in the target's folder, then os.replace. `check_output_path` refuses,
before any work, a target that would replace an input or cannot be written.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Sequence
from typing import IO

from polygraphy_deconv.errors import DeconvError


def check_output_path(path: str, what: str, inputs: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output path that cannot be written or would replace an input."""
    for number, source in enumerate(inputs):
        if os.path.exists(source) and same_file(source, path):
            kind = "the input model" if number == 0 else "the model's external data file"
            raise DeconvError(
                f"refusing to overwrite {kind} {source} with the {what}; write to another path"
                + (" (-o OUT) or pass --in-place" if what == "output path" and number == 0 else "")
            )
    if os.path.isdir(path):
        raise DeconvError(f"{what} {path} is a directory; give a file name")
    if os.path.exists(path) and not os.path.isfile(path):
        # os.replace over a FIFO or a device node would replace the node itself.
        raise DeconvError(f"{what} {path} exists and is not a regular file; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise DeconvError(f"{what} {path}: the folder {folder} does not exist; create it first")
    if not os.path.isdir(folder):
        raise DeconvError(f"{what} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeconvError(f"{what} {path}: cannot write to the folder {folder} (permission denied or read-only)")


def make_folders(folder: str, created: list[str]) -> None:
    """os.makedirs, remembering each folder it made (parents first)."""
    missing = []
    while folder and not os.path.exists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except OSError as error:
            raise DeconvError(f"cannot create the folder {path}: {error.strerror or error}") from None
        created.append(path)


def same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def copy_stream(source: str, handle: IO[bytes]) -> None:
    """Copy in 1 MiB chunks: weight files can be far larger than memory."""
    with open(source, "rb") as reader:
        shutil.copyfileobj(reader, handle, 1 << 20)


def write_atomically(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write via a temporary file in the target's folder, then os.replace: all or nothing.

    The file keeps the permissions of the file it replaces; a new one gets 0666 minus the umask, as
    open() would give it (mkstemp alone would leave 0600).
    """
    folder = os.path.dirname(os.path.abspath(path))
    mode = file_mode(path)
    mode = default_file_mode() if mode is None else mode
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise DeconvError(f"cannot write to {folder}: {error.strerror or error}; choose another folder") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except OSError as error:
        remove_quietly(temporary)
        raise DeconvError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        remove_quietly(temporary)
        raise


def file_mode(path: str) -> int | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


def default_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def remove_quietly(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass
