"""System programs some tests need: Chromium (accessibility, in a real browser), Tesseract with its French
data (OCR of scanned pages) and LibreOffice (legacy Word .doc). `@needs("chromium")` (or in `pytestmark`)
skips a test on a developer's machine without the program, but fails it when CI=true: a CI image that lost
a package must not turn the tests that prove these features into silent skips. .ci/run installs them all.

    from tests.system_tools import needs

    @needs("libreoffice")
    def test_a_legacy_doc_is_converted(): ...
"""

import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest


def chromium_path() -> str | None:
    """The browser the accessibility tests drive: CHROMIUM_PATH when set, else the one on the PATH."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _tesseract_with_french() -> bool:
    from apps.documents.ocr import ocr_available  # the check the application itself makes

    return ocr_available()


def _libreoffice() -> str | None:
    from apps.documents.readers import soffice_binary  # the binary the .doc conversion runs

    return soffice_binary()


@dataclass(frozen=True)
class Tool:
    label: str
    install: str
    detect: Callable[[], object]


TOOLS = {
    "chromium": Tool("Chromium", "apt-get install chromium fonts-liberation, or set CHROMIUM_PATH", chromium_path),
    "tesseract": Tool(
        "Tesseract with French data", "apt-get install tesseract-ocr tesseract-ocr-fra", _tesseract_with_french
    ),
    "libreoffice": Tool("LibreOffice", "apt-get install libreoffice-writer-nogui", _libreoffice),
}


def strict() -> bool:
    """CI=true: a missing tool is an error, not a reason to skip."""
    return os.environ.get("CI") == "true"


@functools.cache
def available(name: str) -> bool:
    return bool(TOOLS[name].detect())


class _Missing:
    """A skipif condition read when each test is set up (not at import): true when the tool is missing,
    and under CI=true a failure instead. pytest.fail raises a BaseException, which pytest's evaluation of
    the condition does not turn into its generic "Error evaluating condition": the message stays ours."""

    def __init__(self, name: str):
        self.name = name

    def __bool__(self) -> bool:
        if available(self.name):
            return False
        if strict():
            tool = TOOLS[self.name]
            pytest.fail(f"CI=true: {tool.label} is required ({tool.install}; .ci/run installs it)", pytrace=False)
        return True

    def __repr__(self) -> str:
        return f"missing({self.name!r})"


def needs(name: str) -> pytest.MarkDecorator:
    """Mark a test, class or module (pytestmark) as needing the system tool `name` (a key of TOOLS)."""
    tool = TOOLS[name]  # a typo fails at import, not as a skip
    return pytest.mark.skipif(_Missing(name), reason=f"needs {tool.label} ({tool.install}; .ci/run installs it)")
