"""Helpers of the documents tests: real files from ../shared/data, whole or cut short."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.paths import AVRANCHES, COUTHENANS

__all__ = ["AVRANCHES", "COUTHENANS", "excerpt", "upload"]


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def excerpt(path: Path, chars: int = 4000, name: str | None = None) -> SimpleUploadedFile:
    """The beginning of a real text file, cut at a line end: the local CPU embedder needs about a
    second per passage, so tests index excerpts and keep whole documents for the benchmarks."""
    text = path.read_text(errors="replace")
    cut = text.rfind("\n", 0, chars)
    return SimpleUploadedFile(name or path.name, text[: cut if cut > 0 else chars].encode())
