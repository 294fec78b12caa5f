"""Photo pipeline server time (webapp/inspections/images.py ``process``): check, read EXIF/GPS, orient, downsize,
strip, re-encode, thumbnail; plus the content-addressed write (webapp/storage.py ``put``).

Inputs are made here with Pillow, photo-like (smooth gradients plus sensor-like noise, so the JPEGs are
about the size a phone writes), each with the EXIF a phone writes (orientation 6, capture time, GPS):

* a 4000 × 3000 JPEG: a phone original, as uploaded when the browser could not downscale;
* a 1600 × 1200 JPEG: what the browser normally sends after its own downscale;
* a 12 MP HEIC, only if pillow-heif is installed (otherwise a line says it is not supported).

Prints median and p95 over ``--runs`` runs (after one warm-up) in ms, in-process (no network, no
database), and the bytes in and out.

Two hostile inputs of the security review (issue 12) follow:

* the signature of finding 1: a 2400 × 1600 pad with 200 strokes × 24 points (~168 KB of JSON): time to save
  it (check, draw the PNG, store it) and to serve one view of its PNG;
* the image of finding 2: a single-colour 7070 × 7070 RGBA PNG (~204 KB, under the 50 MP limit), processed in a
  fresh Python process each time; prints that process's peak memory growth (ru_maxrss) and the outcome.

    .venv/bin/python benchmarks/photos.py
    .venv/bin/python benchmarks/photos.py --runs 50
    .venv/bin/python benchmarks/photos.py --only signature,memory

The scratch folder under /tmp is removed at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image, ImageFilter

from webapp import storage
from webapp.inspections import images as photos
from webapp.inspections import signature_pad as pad


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


def hostile_signature(n_strokes: int = 200) -> tuple[str, int, int]:
    """Finding 1: 200 strokes x 24 points zig-zagging over a 2400 x 1600 pad (JSON, width, height)."""
    w, h = 2400, 1600
    strokes = []
    for s in range(n_strokes):
        points = [
            {"x": 20 + (i * 97 + s * 13) % (w - 40), "y": 20 + (i * 61 + s * 7) % (h - 40), "time": s * 400 + i * 16}
            for i in range(24)
        ]
        strokes.append({"penColor": "black", "points": points})
    return json.dumps(strokes, separators=(",", ":")), w, h


def flat_png(width: int = 7070, height: int = 7070) -> bytes:
    """Finding 2: a single-colour RGBA PNG, streamed through zlib (never held as pixels here)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + bytes((200, 30, 30, 255)) * width
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bench_signature(runs: int, scratch: str) -> None:
    import webapp.models  # noqa: F401 - every mapper, so a Signature can be made outside the app
    from webapp.inspections import signing
    from webapp.inspections.models import Signature

    os.environ["STORAGE_URL"] = tempfile.mkdtemp(dir=scratch)
    data, w, h = hostile_signature()
    try:
        pad.validate(data, w, h)
    except pad.SignatureError as exc:  # refused above the caps (after issue 12): time the most that passes
        print(f"hostile signature (200 strokes × 24 points, {len(data) / 1024:,.0f} KB JSON): refused: {exc.message}")
        data, w, h = hostile_signature(pad.MAX_STROKES)
    n_strokes = len(json.loads(data))
    save_s: list[float] = []
    view_s: list[float] = []
    sig = None
    for _ in range(runs):
        t0 = time.perf_counter()
        valid = pad.validate(data, w, h)
        fields = {"strokes": valid.strokes, "canvas_width": valid.width, "canvas_height": valid.height}
        sig = Signature(refused=False, png_sha256=valid.png_sha256, **fields)
        if hasattr(signing, "store_png"):  # after issue 12: the PNG is stored once at save time
            signing.store_png(sig, valid.png)
        save_s.append(time.perf_counter() - t0)
    assert sig is not None
    png = b""
    for _ in range(runs):
        t0 = time.perf_counter()
        png = signing.png_of(sig) or b""
        view_s.append(time.perf_counter() - t0)
    print(
        f"hostile signature ({len(data) / 1024:,.0f} KB JSON, pad {w}×{h}, {n_strokes} strokes × 24 points), "
        f"{runs} runs: "
        f"save median {statistics.median(save_s) * 1000:,.0f} ms (max {max(save_s) * 1000:,.0f}), "
        f"view median {statistics.median(view_s) * 1000:,.1f} ms (max {max(view_s) * 1000:,.1f}); "
        f"stored canvas {sig.canvas_width}×{sig.canvas_height}, PNG {kb(len(png))}"
    )


_MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from benchmarks.photos import flat_png
    from webapp.inspections import images
    data = flat_png()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        out = images.process(data)
        outcome = f"accepted, stored {out.width}x{out.height}"
    except images.PhotoError as exc:
        outcome = f"refused ({exc.code}): {exc.errors['photo']}"
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(len(data), before, after, seconds, outcome, sep="\t")
    """
)


def bench_memory(runs: int) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    growth, wall = [], []
    size, base, outcome = 0, 0, ""
    for _ in range(max(1, min(runs, 5))):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, root], capture_output=True, text=True, check=True, cwd=root
        ).stdout.strip()
        n, before, after, seconds, outcome = out.split("\t", 4)
        size, base = int(n), int(before)
        growth.append((int(after) - int(before)) / 1024)
        wall.append(float(seconds))
    print(
        f"7070×7070 RGBA PNG ({kb(size)}), fresh process each run ({len(growth)} runs): peak RSS "
        f"{base / 1024:,.0f} MB before → +{statistics.median(growth):,.0f} MB while processing "
        f"(max +{max(growth):,.0f}); process() median {statistics.median(wall) * 1000:,.0f} ms; {outcome}"
    )


def bench_photos(runs: int, scratch: str) -> None:
    cases: list[tuple[str, bytes]] = []
    big = photo_like((4000, 3000))
    cases.append(("JPEG 4000×3000 (phone original)", encode(big, "JPEG", quality=92)))
    cases.append(("JPEG 1600×1200 (browser-downscaled)", encode(big.resize((1600, 1200)), "JPEG", quality=85)))
    if photos.HEIF_SUPPORTED:
        cases.append(("HEIC 4032×3024 (12 MP)", encode(photo_like((4032, 3024)), "HEIF", quality=80)))

    def fresh_store() -> storage.LocalStorage:  # an empty folder each time: a real first write, with fsync
        return storage.LocalStorage(tempfile.mkdtemp(dir=scratch))

    headers = ("input", "in", "process median", "p95", "CPU median", "put (image+thumb)", "stored", "size", "thumbnail")
    rows = []
    for name, data in cases:
        result = photos.process(data)
        t_proc, c_proc = timed(lambda d=data: photos.process(d), runs)
        t_put, _ = timed(lambda r=result: fresh_store().put(r.image) and fresh_store().put(r.thumbnail), runs)
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
        f"Photo pipeline, {runs} runs each after a warm-up; Pillow {Image.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("Server time in-process (wall clock, and CPU time: a busy machine stretches wall time); bytes stored.")
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    if not photos.HEIF_SUPPORTED:
        print(
            "HEIC 12 MP: not supported here (pillow-heif not installed); such uploads are refused with a HEIC message."
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--only", default="photos,signature,memory", help="comma-separated: photos, signature, memory")
    args = ap.parse_args()
    only = {x.strip() for x in args.only.split(",")}
    scratch = tempfile.mkdtemp(prefix="suijian-bench-photos-")
    if "photos" in only:
        bench_photos(args.runs, scratch)
    if "signature" in only:
        bench_signature(min(args.runs, 5), scratch)
    if "memory" in only:
        bench_memory(args.runs)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
