"""OCR of scanned PDF pages with the Tesseract command-line tool (French model).
Pages are rendered by pdfium in the calling thread; Tesseract processes run in parallel."""

import functools
import logging
import os
import shutil
import subprocess
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from django.conf import settings

logger = logging.getLogger(__name__)

OCR_LANGUAGE = "fra"
OCR_DPI = 300
# Poster-sized pages would make multi-hundred-megabyte bitmaps; A3 at 300 dpi is 4961 px.
MAX_RENDER_PIXELS = 7000
OCR_PAGE_TIMEOUT_S = 180
# Below this share of dark pixels a rendered page is blank (a scanned white sheet): skip Tesseract.
BLANK_INK_SHARE = 0.0005


class OcrFailed(Exception):
    """Tesseract could not read one page (crash, timeout); the caller decides what to tell the user."""


@functools.cache
def ocr_available() -> bool:
    """True when the Tesseract binary and its French model are installed."""
    if not shutil.which(settings.TESSERACT_CMD):
        return False
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [settings.TESSERACT_CMD, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        logger.warning("tesseract --list-langs failed", exc_info=True)
        return False
    languages = {line.strip() for line in (result.stdout + result.stderr).splitlines()}
    if OCR_LANGUAGE not in languages:
        logger.warning("Tesseract is installed without the %r language data", OCR_LANGUAGE)
        return False
    return True


def read_scanned_pages(pdf: pdfium.PdfDocument, indexes: list[int]) -> dict[int, str | None]:
    """OCR the given 0-based pages: index -> text ("" for a blank page, None when OCR failed)."""
    results: dict[int, str | None] = {}
    workers = _workers()
    pending: deque[tuple[int, Path, Future[str]]] = deque()
    with tempfile.TemporaryDirectory(prefix="registre-ocr-") as tmp, ThreadPoolExecutor(workers) as pool:
        for index in indexes:
            page = pdf[index]
            try:
                image = render_page(page)
            finally:
                page.close()
            if image is None:
                results[index] = ""
                continue
            path = Path(tmp) / f"page-{index + 1}.pgm"
            path.write_bytes(image)
            pending.append((index, path, pool.submit(_tesseract, path)))
            # A 300 dpi page is ~9 MB on disk: keep only a few waiting, not a whole scanned book.
            while len(pending) >= 2 * workers:
                _collect(pending.popleft(), results)
        while pending:
            _collect(pending.popleft(), results)
    return results


def _collect(item: tuple[int, Path, Future[str]], results: dict[int, str | None]) -> None:
    index, path, future = item
    try:
        results[index] = future.result()
    except OcrFailed as exc:
        logger.warning("OCR failed on page %d: %s", index + 1, exc)
        results[index] = None
    finally:
        path.unlink(missing_ok=True)


def render_page(page: pdfium.PdfPage) -> bytes | None:
    """The page as a grey PGM image at OCR resolution, or None when the page is blank."""
    width, height = page.get_size()
    scale = min(OCR_DPI / 72, MAX_RENDER_PIXELS / max(width, height, 1))
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        rows = np.frombuffer(bitmap.buffer, dtype=np.uint8).reshape(bitmap.height, bitmap.stride)
        pixels = rows[:, : bitmap.width * bitmap.n_channels]
        if bitmap.n_channels > 1:  # pdfium may ignore the grey request for some pages
            pixels = pixels.reshape(bitmap.height, bitmap.width, bitmap.n_channels)[:, :, :3].mean(axis=2)
            pixels = pixels.astype(np.uint8)
        if (pixels < 128).mean() < BLANK_INK_SHARE:
            return None
        header = f"P5 {bitmap.width} {bitmap.height} 255\n".encode()
        return header + np.ascontiguousarray(pixels).tobytes()
    finally:
        bitmap.close()


def _tesseract(image: Path) -> str:
    # OpenMP inside Tesseract thrashes when several run at once: one thread each is ~4x faster.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    command = [settings.TESSERACT_CMD, str(image), "stdout", "-l", OCR_LANGUAGE, "--dpi", str(OCR_DPI)]
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command, capture_output=True, env=env, timeout=OCR_PAGE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrFailed(str(exc)) from exc
    if result.returncode != 0:
        raise OcrFailed(result.stderr.decode(errors="replace")[-500:])
    return result.stdout.decode("utf-8", errors="replace")


def _workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))
