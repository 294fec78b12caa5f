"""QR codes for verification URLs: every module the PNG and SVG draw is the module qrcode computes."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.documents.poppler import modules_of
from webapp.documents import DocumentError, qr

URL = "https://suijian.example.cn/v/Q9x2Lk7mR4tWz8sA1bC3dE5f"


def test_qr_png_draws_the_matrix_of_the_url():
    matrix = qr.matrix(URL)
    image = Image.open(io.BytesIO(qr.png(URL, box_size=6)))
    assert image.width == 6 * len(matrix)
    assert modules_of(image, len(matrix)) == matrix
    assert any(any(row) for row in matrix)
    assert matrix != qr.matrix(URL.replace("Q9x", "Q9y"))  # another token, another code


def test_qr_svg_draws_the_matrix_of_the_url():
    matrix = qr.matrix(URL)
    svg = qr.svg(URL)
    assert svg.startswith("<svg")
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg
    drawn = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}
    expected = {(c, r) for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark}
    assert drawn == expected


def test_qr_refuses_relative_or_odd_urls():
    for url in ["/v/abc", "ftp://x.cn/v/a", "", "https://" + "a" * 600 + ".cn"]:
        with pytest.raises(DocumentError, match="核验网址无效"):
            qr.png(url)
