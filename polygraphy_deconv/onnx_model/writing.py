"""Writing a fixed model: the file in the format its extension names, its external data copied (holes kept
sparse) or referred to where it is, every file staged beside its target and moved into place together.

The model rewrite itself is rewrite.py's; the staging and the output checks are output_files.py's.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import stat
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING

from polygraphy_deconv.errors import DeconvError
from polygraphy_deconv.onnx_model.external_data import external_location, external_references, relative_path
from polygraphy_deconv.onnx_model.graph import check_graph, load_model, model_tensors
from polygraphy_deconv.onnx_model.loaded import LoadedModel, load
from polygraphy_deconv.onnx_model.rewrite import FixResult, fix_model, refusal_message
from polygraphy_deconv.onnx_model.tensors import check_tensor_sizes, expected_bytes
from polygraphy_deconv.output_files import (
    check_output_path,
    commit_files,
    copy_sparse,
    copy_stream,
    remove_quietly,
    same_file,
    stage_file,
)
from polygraphy_deconv.text import shown

if TYPE_CHECKING:
    import onnx

InputShapes = Mapping[str, Sequence[int | str | None]]



def fix_file(
    src: str,
    dst: str | None = None,
    *,
    input_shapes: InputShapes | None = None,
    in_place: bool | None = None,
    external_data: str = "copy",
    refuse: bool = True,
    before_write: Callable[[FixResult], None] | None = None,
    loaded: LoadedModel | None = None,
) -> FixResult:
    """Fix the model at `src` and write it to `dst` (or over `src` when `in_place`).

    External data is never loaded. Where `dst` is in another folder than `src`, the referenced files are
    copied (streamed, holes kept sparse) into one file named after the output, `dst + ".data"`, and the
    references point there; that file is written only if it does not exist or is the data of the
    model at `dst` this replaces (never over a file of someone else). In the same folder and in place,
    the output keeps referring to the input's data files. `external_data="reference"` writes no data
    at all: the output keeps the input's references, to be read with `src`'s folder as the base
    (check verifies so, without a copy).

    The output is written in the format its extension names (onnx's registry: .onnx binary, .json,
    .textproto, .onnxtxt), and keeps the input's permission bits. Every file goes to a temporary file
    in its folder and is moved into place, so a failure never leaves a partial or overwritten file.
    With nothing to rewrite and no data to move, `dst` gets an unchanged copy of `src` (byte for byte
    when the formats agree), and `in_place` leaves `src` untouched.

    A node that needs a rewrite and cannot get one is a DeconvError ("...; nothing written"); with
    `refuse=False` the result lists it in `refused` instead and nothing is written (check reports it after
    its inspect table). `before_write` sees the result before any file is written, and may raise to stop.
    `loaded`: the model at `src` as the command read it (with its `input_shapes`), else it is read here.
    """
    if in_place:
        if dst is not None and not same_file(src, dst):
            raise DeconvError("give either an output path or in-place, not both")
    elif dst is None:
        raise DeconvError("no output path given")
    loaded = loaded or load(src, input_shapes)
    model = loaded.model
    data = external_data_files(model, src)
    if in_place:
        dst = os.path.realpath(src)  # a symlinked model is updated where it lives, not replaced by a file
    else:
        assert dst is not None
        check_output_path(dst, "output path", [src, *data.values()])
    output_format = model_format(dst)
    check_graph(model, src)
    check_tensor_sizes(model, src)
    result = fix_model(model, loaded.input_shapes, analysis=loaded.analysis)
    if result.refused:  # one outcome: a node left unfixed is an error, not a copy that looks fixed
        if not refuse:
            return result
        raise DeconvError(f"{refusal_message(model, result.refused)}; nothing written")
    if before_write is not None:
        before_write(result)

    src_dir, dst_dir = os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst))
    copy_data = bool(data) and external_data == "copy" and os.path.realpath(src_dir) != os.path.realpath(dst_dir)
    data_path = f"{dst}.data" if copy_data else ""
    if copy_data:
        check_output_path(data_path, "external data file", [src, *data.values()])
        if os.path.lexists(data_path) and not references_file(dst, os.path.basename(data_path)):
            raise DeconvError(
                f"{shown(data_path)} already exists and is not the external data of {shown(dst)}; the fixed model's "
                "data goes there: move that file away or choose another output name"
            )
    rewrite_format = output_format != model_format(src)
    staged: list[tuple[str, str]] = []  # (temporary, target), moved into place together at the end
    try:
        if copy_data:
            layout = data_layout(data)
            if result.model is model:  # nothing rewritten: the command's model stays as it was read
                result = dataclasses.replace(result, model=copied(model))
            relocate_external_data(result.model, os.path.basename(data_path), layout)
            staged.append((stage_file(data_path, functools.partial(write_data_file, layout), like=first_value(data)), data_path))
        if result.rewrites or copy_data or rewrite_format:
            serialized = serialize_model(result.model, output_format, dst)
            staged.append((stage_file(dst, lambda handle: handle.write(serialized), like=src), dst))
        elif not in_place and loaded.serialized is not None:  # the bytes as read: byte for byte, no second read
            serialized_bytes = loaded.serialized
            staged.append((stage_file(dst, lambda handle: handle.write(serialized_bytes), like=src), dst))
        elif not in_place:
            staged.append((stage_file(dst, functools.partial(copy_stream, src), like=src), dst))
        commit_files(staged)
    except BaseException:
        for temporary, _ in staged:
            remove_quietly(temporary)
        raise
    return dataclasses.replace(
        result, data_file=data_path, shared_data=tuple(sorted(data)) if data and not copy_data and not in_place else ()
    )


def copied(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def first_value(data: Mapping[str, str]) -> str:
    return data[min(data)]


DATA_ALIGNMENT = 4096  # each source file starts on a page in the combined file (mmap-friendly offsets)


def data_layout(data: Mapping[str, str]) -> list[tuple[str, str, int, int]]:
    """(location, source file, offset in the combined file, size) for each data file, in location order."""
    layout = []
    at = 0
    for location, source in sorted(data.items()):
        size = os.stat(source).st_size
        layout.append((location, source, at, size))
        at = -(-(at + size) // DATA_ALIGNMENT) * DATA_ALIGNMENT
    return layout


def write_data_file(layout: Sequence[tuple[str, str, int, int]], handle: IO[bytes]) -> None:
    end = 0
    for _, source, at, size in layout:
        copy_sparse(source, handle, at)
        end = at + size
    os.ftruncate(handle.fileno(), end)  # a trailing hole, or the gaps' end, without writing it


def relocate_external_data(model: onnx.ModelProto, name: str, layout: Sequence[tuple[str, str, int, int]]) -> None:
    """Point every external reference into the combined data file `name` (offsets shifted by its file's
    place there, lengths made explicit: a reference without one would read on into the next file)."""
    places = {location: (at, size) for location, _, at, size in layout}
    for tensor in model_tensors(model.graph):
        reference = external_location(tensor)
        if reference is None:
            continue
        location, offset, length = reference
        at, size = places[relative_path(location)]
        offset = offset or 0
        values = {"location": name, "offset": str(at + offset), "length": str(size - offset if length is None else length)}
        kept = [(e.key, e.value) for e in tensor.external_data if e.key not in values]
        del tensor.external_data[:]
        for key, value in [*values.items(), *kept]:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value


def references_file(model_path: str, location: str) -> bool:
    """Whether the model at `model_path` (if any) keeps external data in `location`: then that file is the
    data of an earlier output at this path, which fix may replace together with it."""
    try:
        model = load_model(model_path)
        return any(reference.relative_path == location for reference in external_references(model))
    except DeconvError:
        return False


def model_format(path: str) -> str:
    """The serialization format onnx.save would pick for `path` (by extension; binary protobuf by default)."""
    import onnx

    return onnx.serialization.registry.get_format_from_file_extension(os.path.splitext(path)[1]) or "protobuf"


def serialize_model(model: onnx.ModelProto, output_format: str, path: str) -> bytes:
    """The model in `output_format`; a text format is read back and must give the same model, else the
    output is refused (a text file nothing can read back is worse than none)."""
    import onnx

    if output_format == "protobuf":
        return model.SerializeToString()
    failure = ""
    try:
        serializer = onnx.serialization.registry.get(output_format)
        with warnings.catch_warnings():  # onnxtxt warns that it is experimental: the read-back below checks it
            warnings.simplefilter("ignore")
            data = serializer.serialize_proto(model)
            if serializer.deserialize_proto(data, onnx.ModelProto()) != model:
                failure = "it does not read back as the same model"
    except Exception as error:  # noqa: BLE001 (each text serializer raises its own errors)
        text = str(error).strip().splitlines()
        failure = text[0] if text else type(error).__name__
    if failure:
        raise DeconvError(
            f"cannot write the fixed model as {output_format} (the format {shown(path)}'s extension names): {shown(failure)}; "
            "write it to a .onnx path"
        )
    return data if isinstance(data, bytes) else data.encode()


def external_data_files(model: onnx.ModelProto, path: str) -> dict[str, str]:
    """{location: absolute path} of every external data file of the model at `path`, checked without
    reading a byte: inside the model's folder (also after symlinks), present, a regular file, and long
    enough for every tensor's offset + length (exactly its size where the reference gives no length)."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    files: dict[str, str] = {}
    shown_path = shown(path)
    for reference in external_references(model):
        location = reference.relative_path
        tensor, where = shown(reference.tensor), shown(reference.location)
        if "\0" in reference.location:
            raise DeconvError(
                f"tensor '{tensor}' of {shown_path} has external data location '{where}' with a NUL byte; "
                "no file has such a name: the model is malformed"
            )
        if reference.leaves_folder:
            raise DeconvError(
                f"tensor '{tensor}' of {shown_path} points at external data '{where}' outside the "
                "model's folder; refusing to follow it (move the data file beside the model and fix its location)"
            )
        file = os.path.join(folder, location)
        real = os.path.realpath(file)
        if os.path.commonpath([folder, real]) != folder:
            raise DeconvError(
                f"external data '{where}' of tensor '{tensor}' of {shown_path} is a link that leads "
                f"outside the model's folder (to {shown(real)}); refusing to follow it (copy the file in place of the link)"
            )
        if not os.path.lexists(file):
            raise DeconvError(
                f"external data file '{shown(location)}' of tensor '{tensor}', referenced by {shown_path}, is missing; "
                "put it beside the model"
            )
        try:
            status = os.stat(file)
        except OSError as error:
            raise DeconvError(
                f"cannot read external data file '{shown(location)}' of {shown_path}: {error.strerror or error}"
            ) from None
        if not stat.S_ISREG(status.st_mode):
            raise DeconvError(f"external data '{shown(location)}' referenced by {shown_path} is not a regular file")
        end = (reference.offset or 0) + (reference.length or 0)
        if end > status.st_size:
            raise DeconvError(
                f"external data file '{shown(location)}' of {shown_path} holds {status.st_size} bytes, but tensor "
                f"'{tensor}' needs bytes up to {end}; the file is truncated or belongs to another model"
            )
        files[location] = file
    # A reference without a length reads to the end of its file: that must be exactly the tensor's size.
    for tensor_proto in model_tensors(model.graph):
        reference_tuple = external_location(tensor_proto)
        if reference_tuple is None or reference_tuple[2] is not None:
            continue
        expected = expected_bytes(tensor_proto)
        available = os.stat(files[relative_path(reference_tuple[0])]).st_size - (reference_tuple[1] or 0)
        if expected is not None and available != expected:
            raise DeconvError(
                f"tensor '{shown(tensor_proto.name)}' of {shown_path} has dims {list(tensor_proto.dims)} ({expected} bytes), "
                f"but its external data (no length given: to the end of '{shown(reference_tuple[0])}') is {available} bytes; "
                "the model is malformed or the file belongs to another model"
            )
    return files
