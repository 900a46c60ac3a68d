"""output_files.copy_sparse (issue 10 item 9) and verify.parse_byte_size (item 7), one layer below the CLI."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from polygraphy_deconv.onnx_model.verify import parse_byte_size
from polygraphy_deconv.output_files import copy_sparse

MiB = 1 << 20


def sparse_file(path: Path) -> bytes:
    """A 64 MiB file with 4 KiB of data at 0, 16 MiB and the end, holes between; returns its content."""
    with open(path, "wb") as handle:
        for offset in (0, 16 * MiB, 64 * MiB - 4096):
            handle.seek(offset)
            handle.write(bytes([offset % 251 + 1]) * 4096)
    return path.read_bytes()


def holes_reported(path: Path) -> bool:
    with open(path, "rb") as handle:
        try:
            return os.lseek(handle.fileno(), 0, os.SEEK_HOLE) < os.fstat(handle.fileno()).st_size
        except OSError:
            return False


class TestCopySparse:
    @pytest.mark.parametrize("at", [0, 8192])
    def test_basic(self, tmp_path: Path, at: int) -> None:
        content = sparse_file(tmp_path / "src")
        with open(tmp_path / "dst", "wb") as handle:
            assert copy_sparse(str(tmp_path / "src"), handle, at) == len(content)
            os.ftruncate(handle.fileno(), at + len(content))
        copied = (tmp_path / "dst").read_bytes()
        assert copied[:at] == b"\0" * at and copied[at:] == content
        if holes_reported(tmp_path / "src"):
            assert os.stat(tmp_path / "dst").st_blocks * 512 <= 1 * MiB  # 12 KiB of data, not 64 MiB

    @pytest.mark.parametrize("failure", [errno.EXDEV, errno.ENOSYS, errno.EINVAL])
    def test_without_copy_file_range(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int) -> None:
        def refuse(*args: object) -> int:
            raise OSError(failure, os.strerror(failure))

        monkeypatch.setattr(os, "copy_file_range", refuse)
        content = sparse_file(tmp_path / "src")
        with open(tmp_path / "dst", "wb") as handle:
            copy_sparse(str(tmp_path / "src"), handle)
            os.ftruncate(handle.fileno(), len(content))
        assert (tmp_path / "dst").read_bytes() == content

    def test_without_hole_detection(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        real = os.lseek

        def no_holes(fd: int, position: int, how: int) -> int:
            if how in (os.SEEK_DATA, os.SEEK_HOLE):
                raise OSError(errno.EINVAL, "not supported")
            return real(fd, position, how)

        monkeypatch.setattr(os, "lseek", no_holes)
        content = sparse_file(tmp_path / "src")
        with open(tmp_path / "dst", "wb") as handle:
            copy_sparse(str(tmp_path / "src"), handle)
        assert (tmp_path / "dst").read_bytes() == content  # every byte copied

    def test_negative_write_fails(self, tmp_path: Path) -> None:
        sparse_file(tmp_path / "src")
        with open("/dev/full", "wb") as handle, pytest.raises(OSError) as raised:
            copy_sparse(str(tmp_path / "src"), handle)
        assert raised.value.errno == errno.ENOSPC


class TestByteSize:
    @pytest.mark.parametrize(
        "text, size", [("2GiB", 2 << 30), ("512M", 512 << 20), ("1.5G", 3 << 29), ("1000000", 1_000_000), ("4 kb", 4096), ("1T", 1 << 40)]
    )
    def test_basic(self, text: str, size: int) -> None:
        assert parse_byte_size(text) == size

    @pytest.mark.parametrize("text", ["", "x", "-1G", "1 GB GB", "1P"])
    def test_negative(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a size"):
            parse_byte_size(text)


class TestCheckOutputPath:
    def test_negative_a_nul_reference_does_not_hide_the_others(self, tmp_path: Path) -> None:
        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.output_files import check_output_path

        (tmp_path / "w.bin").write_bytes(b"weights")
        inputs = [str(tmp_path / "m.onnx"), str(tmp_path / "a\0b.bin"), str(tmp_path / "w.bin")]
        with pytest.raises(DeconvError, match="refusing to overwrite the model's external data file"):
            check_output_path(str(tmp_path / "w.bin"), "--json", inputs)

    def test_negative_nul_in_the_output_path(self, tmp_path: Path) -> None:
        from polygraphy_deconv.errors import DeconvError
        from polygraphy_deconv.output_files import check_output_path

        with pytest.raises(DeconvError, match=r"--deconv-report .*a\\x00b.json holds a NUL byte"):
            check_output_path(str(tmp_path / "a\0b.json"), "--deconv-report")
