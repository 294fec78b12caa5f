"""Photo pipeline server time (webapp/inspections/images.py ``process``): check, read EXIF/GPS, orient, downsize,
strip, re-encode, thumbnail; plus the content-addressed write (webapp/storage.py ``put``).

Inputs are made here with Pillow, photo-like (smooth gradients plus sensor-like noise, so the JPEGs are
about the size a phone writes), each with the EXIF a phone writes (orientation 6, capture time, GPS):

* a 4000 × 3000 JPEG: a phone original, as uploaded when the browser could not downscale;
* a 1600 × 1200 JPEG: what the browser normally sends after its own downscale;
* a 12 MP HEIC, only if pillow-heif is installed (otherwise a line says it is not supported).

Prints median and p95 over ``--runs`` runs (after one warm-up) in ms, in-process (no network, no
database), and the bytes in and out.

    .venv/bin/python benchmarks/photos.py
    .venv/bin/python benchmarks/photos.py --runs 50

The scratch folder under /tmp is removed at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image, ImageFilter

from webapp import storage
from webapp.inspections import images as photos


def photo_like(size: tuple[int, int]) -> Image.Image:
    """Smooth colour gradients with fine noise: compresses like a real photo, unlike flat colour or pure noise."""
    r = Image.linear_gradient("L").resize(size)
    g = Image.radial_gradient("L").resize(size)
    b = r.transpose(Image.Transpose.ROTATE_90).resize(size)
    base = Image.merge("RGB", (r, g, b))
    noise = Image.merge("RGB", [Image.effect_noise(size, 40) for _ in range(3)]).filter(ImageFilter.GaussianBlur(0.6))
    return Image.blend(base, noise, 0.35)


def phone_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 14:30:05"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34.0, 41.0, 30.5), "E", (112.0, 47.0, 12.0)
    return exif


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, exif=phone_exif(), **kw)
    return buf.getvalue()


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per run, after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()

    cases: list[tuple[str, bytes]] = []
    big = photo_like((4000, 3000))
    cases.append(("JPEG 4000×3000 (phone original)", encode(big, "JPEG", quality=92)))
    cases.append(("JPEG 1600×1200 (browser-downscaled)", encode(big.resize((1600, 1200)), "JPEG", quality=85)))
    if photos.HEIF_SUPPORTED:
        cases.append(("HEIC 4032×3024 (12 MP)", encode(photo_like((4032, 3024)), "HEIF", quality=80)))

    scratch = tempfile.mkdtemp(prefix="suijian-bench-photos-")

    def fresh_store() -> storage.LocalStorage:  # an empty folder each time: a real first write, with fsync
        return storage.LocalStorage(tempfile.mkdtemp(dir=scratch))

    headers = ("input", "in", "process median", "p95", "CPU median", "put (image+thumb)", "stored", "size", "thumbnail")
    rows = []
    for name, data in cases:
        result = photos.process(data)
        t_proc, c_proc = timed(lambda d=data: photos.process(d), args.runs)
        t_put, _ = timed(lambda r=result: fresh_store().put(r.image) and fresh_store().put(r.thumbnail), args.runs)
        rows.append(
            (
                name,
                kb(len(data)),
                f"{statistics.median(t_proc):.0f} ms",
                f"{p95(t_proc):.0f} ms",
                f"{statistics.median(c_proc):.0f} ms",
                f"{statistics.median(t_put):.2f} ms",
                kb(len(result.image)),
                f"{result.width}×{result.height}",
                f"{kb(len(result.thumbnail))} ({result.thumb_width}×{result.thumb_height})",
            )
        )

    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(
        f"Photo pipeline, {args.runs} runs each after a warm-up; Pillow {Image.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("Server time in-process (wall clock, and CPU time: a busy machine stretches wall time); bytes stored.")
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    shutil.rmtree(scratch, ignore_errors=True)
    if not photos.HEIF_SUPPORTED:
        print(
            "HEIC 12 MP: not supported here (pillow-heif not installed); such uploads are refused with a HEIC message."
        )


if __name__ == "__main__":
    main()
