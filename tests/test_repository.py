"""The repository stands on its own and says the same thing everywhere: no reference to anything beside the clone,
one license, one supported Polygraphy range, and a Docker build context that holds what the Dockerfile copies."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# Assembled, so this file does not match what it looks for.
OUTSIDE = "../" + "shared"
SPDX_HEADERS = {"Apache-2.0": ("Apache License", "Version 2.0, January 2004")}
# Where no git is at hand (an unpacked archive), every file except these is what a clone would hold.
UNTRACKED = {".git", ".ci-cache", "build", "dist", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
             ".hypothesis"}


def repository_files() -> list[Path]:
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name]
    return [
        path for path in ROOT.rglob("*")
        if path.is_file() and not any(part in UNTRACKED or part.startswith(".venv") or part.endswith(".egg-info")
                                      for part in path.relative_to(ROOT).parts)
    ]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def readme() -> str:
    return (ROOT / "README.md").read_text()


class TestStandsOnItsOwn:
    def test_no_reference_outside_the_repository(self) -> None:
        files = repository_files()
        assert len(files) > 50, "the file listing found almost nothing: the check would pass vacuously"
        offenders = []
        for path in files:
            if not path.is_file():
                continue  # listed by git but deleted in the working tree
            data = path.read_bytes()
            if b"\0" in data[:8192]:
                continue  # binary (ONNX models, weights)
            for number, line in enumerate(data.decode(errors="replace").splitlines(), start=1):
                if OUTSIDE in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
        assert offenders == []

    def test_the_check_finds_a_reference(self, tmp_path: Path) -> None:
        # The same reading as above on a file that has one: the needle is right.
        sample = tmp_path / "README.md"
        sample.write_text(f"see [{OUTSIDE}/docs/x.md]({OUTSIDE}/docs/x.md)\n")
        assert [line for line in sample.read_text().splitlines() if OUTSIDE in line]

    def test_semantics_document_is_in_the_repository(self) -> None:
        document = ROOT / "docs" / "deconv-semantics.md"
        assert document.is_file()
        assert "docs/deconv-semantics.md" in readme()

    def test_stub_builder_is_in_the_repository(self) -> None:
        check = (ROOT / "scripts" / "check-trt-types").read_text()
        assert "scripts/trt-api-stubs" in check
        assert (ROOT / "scripts" / "trt-api-stubs").is_file()


class TestLicense:
    def test_license_field_matches_the_license_file(self) -> None:
        project = pyproject()["project"]
        spdx = project["license"]
        assert spdx in SPDX_HEADERS, f"no known header for license {spdx!r}"
        assert project["license-files"] == ["LICENSE"]
        text = (ROOT / "LICENSE").read_text()
        head = " ".join(text.split()[:12])
        for words in SPDX_HEADERS[spdx]:
            assert words in head
        assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a pointer to it

    def test_no_license_classifier_contradicts_the_field(self) -> None:
        classifiers = pyproject()["project"].get("classifiers", [])
        assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX field is the one statement


def polygraphy_bounds() -> tuple[str, str]:
    (spec,) = [d for d in pyproject()["project"]["dependencies"] if re.match(r"polygraphy\b", d)]
    match = re.fullmatch(r"polygraphy>=([\d.]+),<(\d+)\.(\d+)", spec.replace(" ", ""))
    assert match, f"expected polygraphy>=X,<A.B in pyproject, found {spec!r}"
    below = f"{match[2]}.{int(match[3]) - 1}.x"  # <0.54 is "0.53.x"
    return match[1], below


class TestPolygraphyRange:
    def test_readme_states_the_pyproject_range(self) -> None:
        lowest, highest = polygraphy_bounds()
        stated = re.findall(r"(\d+\.\d+\.\d+) to (\d+\.\d+\.x)", readme())
        assert stated, "the README states no Polygraphy range"
        assert set(stated) == {(lowest, highest)}

    def test_ci_tests_the_lowest(self) -> None:
        lowest, _ = polygraphy_bounds()
        ci = (ROOT / ".ci" / "run").read_text()
        assert re.findall(r"POLYGRAPHY_VERSION=([\d.]+)", ci) == [lowest]

    @pytest.mark.parametrize(("spec", "expected"), [("polygraphy>=0.49.26,<0.54", ("0.49.26", "0.53.x")),
                                                    ("polygraphy>=0.49.26,<0.55", ("0.49.26", "0.54.x"))])
    def test_bounds_reading(self, monkeypatch: pytest.MonkeyPatch, spec: str, expected: tuple[str, str]) -> None:
        monkeypatch.setattr(sys.modules[__name__], "pyproject",
                            lambda: {"project": {"dependencies": ["onnx>=1.15", spec]}})
        assert polygraphy_bounds() == expected


class TestWhereTensorRTComesFrom:
    def test_install_section_tells_users_pip_install_tensorrt_works(self) -> None:
        # The public index's tensorrt installs NVIDIA's wheels at install time where there is internet access; only
        # this project's CI cannot fetch them (issue 16: the README called them "download stubs").
        install = readme().split("## Install", 1)[1].split("\n## ", 1)[0]
        assert "download stub" not in install
        assert "`pip install tensorrt` works from the public package index" in " ".join(install.split())
        assert "CI" in install
        assert "download stub" not in (ROOT / "pyproject.toml").read_text()


class TestDockerBuild:
    def test_dockerfile_at_the_top_level(self) -> None:
        assert (ROOT / "Dockerfile").is_file()
        assert (ROOT / ".dockerignore").is_file()
        assert not [path for path in repository_files() if path.relative_to(ROOT).parts[0] == "docker"]
        assert "docker build -t polygraphy-deconv ." in readme()

    def test_context_holds_what_the_dockerfile_copies(self) -> None:
        copied = []
        for line in (ROOT / "Dockerfile").read_text().splitlines():
            words = line.split()
            if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
                copied += words[1:-1]
        assert copied, "no COPY in the Dockerfile"
        ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
        assert "*" in ignore  # everything is excluded unless allowed back
        allowed = {line[1:] for line in ignore if line.startswith("!")}
        assert sorted(set(copied) - allowed) == []


class TestTestOutput:
    """pytest's configuration in pyproject.toml silences Polygraphy's SelectableGroups deprecation (raised inside
    polygraphy when it reads plugin entry points), and only that."""

    @staticmethod
    def run_pytest_on(tmp_path: Path, message: str) -> str:
        test = tmp_path / "test_warns.py"
        test.write_text(f"import warnings\n\ndef test_warns():\n    warnings.warn({message!r}, DeprecationWarning)\n")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
             "--rootdir", str(tmp_path), str(test)],
            check=False, capture_output=True, text=True, cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def test_selectable_groups_warning_is_filtered(self, tmp_path: Path) -> None:
        output = self.run_pytest_on(tmp_path, "SelectableGroups dict interface is deprecated. Use select.")
        assert "SelectableGroups" not in output
        assert "warnings summary" not in output

    def test_other_deprecations_still_show(self, tmp_path: Path) -> None:
        output = self.run_pytest_on(tmp_path, "some other API is deprecated")
        assert "warnings summary" in output
        assert "some other API is deprecated" in output
