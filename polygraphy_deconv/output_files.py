"""Writing output files: all or nothing, never over an input, never more open than the input.

Every file the tool writes (a fixed model, its external data, a JSON report) goes through
`write_atomically`: a temporary file in the target's folder, then os.replace. `check_output_path` refuses,
before any work, a target that would replace an input or cannot be written. A file made from an input
takes the input's permission bits (as `cp` does: minus the umask), so a private model's outputs stay
private; `copy_sparse` copies data files without filling their holes.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Sequence
from typing import IO

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.signal_hold import signals_held
from polygraphy_deconv.text import shown


def check_output_path(path: str, what: str, inputs: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output path that cannot be written or would replace an input.

    `inputs`: the model first, then every file it references (wherever it is: a guard, not a reader)."""
    if not path:
        raise DeconvError(f"the {what} is empty; give a file name")
    if "\0" in path:
        raise DeconvError(f"{what} {shown(path)} holds a NUL byte; give a file name")
    for number, source in enumerate(inputs):
        if "\0" in source:  # a NUL byte in a referenced path: no such file can exist, so none is overwritten
            continue
        if os.path.exists(source) and same_file(source, path):
            kind = "the input model" if number == 0 else "the model's external data file"
            raise DeconvError(
                f"refusing to overwrite {kind} {shown(source)} with the {what}; write to another path"
                + (" (-o OUT) or pass --in-place" if what == "output path" and number == 0 else "")
            )
    shown_path = shown(path)
    if os.path.isdir(path):
        raise DeconvError(f"{what} {shown_path} is a directory; give a file name")
    if os.path.exists(path) and not os.path.isfile(path):
        # os.replace over a FIFO or a device node would replace the node itself.
        raise DeconvError(f"{what} {shown_path} exists and is not a regular file; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise DeconvError(f"{what} {shown_path}: the folder {shown(folder)} does not exist; create it first")
    if not os.path.isdir(folder):
        raise DeconvError(f"{what} {shown_path}: {shown(folder)} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeconvError(f"{what} {shown_path}: cannot write to the folder {shown(folder)} (permission denied or read-only)")


def same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def copy_stream(source: str, handle: IO[bytes]) -> None:
    """Copy in 1 MiB chunks: weight files can be far larger than memory."""
    with open(source, "rb") as reader:
        shutil.copyfileobj(reader, handle, 1 << 20)


CHUNK = 64 << 20  # a copy returns to Python this often, so a signal is handled within one chunk


def copy_sparse(source: str, handle: IO[bytes], at: int = 0) -> int:
    """Copy the file `source` into `handle` at offset `at`, its holes left as holes where the file system
    reports them (SEEK_DATA/SEEK_HOLE; else every byte is copied). Returns the source's size; the caller
    sets the target's final size (a trailing hole is no write at all).

    Data ranges go through os.copy_file_range (no copy through user space), falling back to
    pread/pwrite where the kernel or file system refuses it."""
    handle.flush()
    target = handle.fileno()
    with open(source, "rb") as reader:
        fd = reader.fileno()
        size = os.fstat(fd).st_size
        position = 0
        while position < size:
            try:
                start = os.lseek(fd, position, os.SEEK_DATA)
                end = os.lseek(fd, start, os.SEEK_HOLE)
            except OSError as error:  # ENXIO: only a hole is left; EINVAL: no hole detection here
                if error.errno == errno.ENXIO:
                    break
                start, end = position, size
            _copy_range(fd, target, start, min(end, size) - start, at + start)
            position = end
    return size


def _copy_range(source: int, target: int, start: int, length: int, to: int) -> None:
    done = 0
    use_kernel = hasattr(os, "copy_file_range")
    while done < length:
        count = min(CHUNK, length - done)
        copied = 0
        if use_kernel:
            try:
                copied = os.copy_file_range(source, target, count, start + done, to + done)
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF):
                    raise
                use_kernel = False
        if not copied:
            block = os.pread(source, min(count, 1 << 20), start + done)
            if not block:
                raise OSError(errno.EIO, "the data file got shorter while it was copied")
            copied = os.pwrite(target, block, to + done)
        done += copied


def write_atomically(path: str, write: Callable[[IO[bytes]], object], *, like: str | None = None) -> None:
    """Write via a temporary file in the target's folder, then os.replace: all or nothing.

    Permission bits: a file made from the input `like` gets its bits minus the umask (as cp does); without
    `like`, 0666 minus the umask, as open() gives (mkstemp alone would leave 0600). A file replaced keeps
    its own bits, but never more than `like`'s: a private model's output stays private.
    """
    commit_file(stage_file(path, write, like=like), path)


def stage_file(path: str, write: Callable[[IO[bytes]], object], *, like: str | None = None) -> str:
    """The first half of write_atomically: the complete temporary file (with its final mode), not yet
    moved into place; several files staged first are then committed one right after the other."""
    folder = os.path.dirname(os.path.abspath(path))
    mode = output_mode(path, like)
    temporary = ""
    try:
        # Made and named with signals held back: a signal right after mkstemp cannot leave it unnamed.
        with signals_held():
            try:
                fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
            except OSError as error:
                raise DeconvError(
                    f"cannot write to {shown(folder)}: {error.strerror or error}; choose another folder"
                ) from None
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            os.fchmod(handle.fileno(), mode)
    except OSError as error:
        remove_quietly(temporary)
        raise DeconvError(f"cannot write {shown(path)}: {error.strerror or error}") from None
    except BaseException:
        if temporary:
            remove_quietly(temporary)
        raise
    return temporary


def commit_files(staged: Sequence[tuple[str, str]]) -> None:
    """Move several staged files (temporary, target) into place one right after the other, with the
    cleanup signals held back meanwhile (delivered right after): a signal never falls between the renames
    of a model and its data file, so it never leaves one without the other."""
    with signals_held():
        for number, (temporary, target) in enumerate(staged):
            try:
                commit_file(temporary, target)
            except BaseException:
                for later, _ in staged[number + 1 :]:
                    remove_quietly(later)
                raise


def commit_file(temporary: str, path: str) -> None:
    """Move a staged file into place (removing it if that fails)."""
    try:
        os.replace(temporary, path)
    except OSError as error:
        remove_quietly(temporary)
        raise DeconvError(f"cannot write {shown(path)}: {error.strerror or error}") from None
    except BaseException:
        remove_quietly(temporary)
        raise


def output_mode(path: str, like: str | None = None) -> int:
    """The permission bits for writing `path`, made from the input `like` (see write_atomically)."""
    source = file_mode(like) if like is not None else None
    existing = file_mode(path)
    if existing is not None:
        return existing if source is None else existing & source
    if source is None:
        return default_file_mode()
    return source & 0o777 & ~current_umask()


def file_mode(path: str) -> int | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


def default_file_mode() -> int:
    return 0o666 & ~current_umask()


def current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def remove_quietly(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass
