"""Reading PDFs and QR images back in tests: poppler's pdftotext / pdfinfo / pdfimages, QR modules by pixel.

QR codes are not decoded (that needs zbar, absent here): every module drawn is compared with the matrix that
qrcode computes for the URL instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from PIL import Image


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} (poppler-utils) is required in CI")
        pytest.skip(f"{tool} not installed: apt-get install poppler-utils")
    return path


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_info(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    return subprocess.run([poppler("pdfinfo"), str(path)], capture_output=True, check=True, text=True).stdout


def pages(info: str) -> int:
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def flat(text: str) -> str:
    """pdftotext breaks wrapped lines; compare without whitespace."""
    return re.sub(r"\s+", "", text)


def modules_of(image: Image.Image, size: int) -> list[list[bool]]:
    """Read a QR image back module by module (dark = centre pixel darker than mid-grey)."""
    grey = image.convert("L")
    box = grey.width / size
    assert grey.width == grey.height
    return [
        [grey.getpixel((int((c + 0.5) * box), int((r + 0.5) * box))) < 128 for c in range(size)] for r in range(size)
    ]
