"""Signatures: what passes, what is refused, the server-drawn PNG and the binding hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import math

import pytest
from PIL import Image

from webapp.inspections import signature_pad as signatures
from webapp.inspections.signature_pad import SignatureError, binding_hash, refusal, validate

W, H = 340, 200  # the pad on a 360 px phone
T0 = 1_795_000_000_000  # Date.now() in ms


def pad_stroke(path: list[tuple[float, float]], t0: int = T0, step: float = 6.0) -> dict:
    """Points as signature_pad records them along a polyline: one every ~6 px and 16 ms."""
    points = [{"x": path[0][0], "y": path[0][1], "time": t0, "pressure": 0.5}]
    t = t0
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        n = max(1, round(math.hypot(x1 - x0, y1 - y0) / step))
        for i in range(1, n + 1):
            t += 16
            points.append({"x": x0 + (x1 - x0) * i / n, "y": y0 + (y1 - y0) * i / n, "time": t, "pressure": 0.5})
    return {
        "penColor": "black",
        "dotSize": 0,
        "minWidth": 0.5,
        "maxWidth": 2.5,
        "velocityFilterWeight": 0.7,
        "compositeOperation": "source-over",
        "points": points,
    }


def name_strokes() -> list[dict]:
    """A quickly written 王小明 (about 200 x 70 px), stroke by stroke."""
    paths = [
        # 王
        [(40, 60), (90, 58)],
        [(45, 90), (85, 90)],
        [(35, 125), (95, 122)],
        [(65, 58), (65, 123)],
        # 小
        [(140, 50), (140, 125), (132, 118)],
        [(122, 80), (112, 105)],
        [(158, 78), (172, 102)],
        # 明
        [(195, 62), (195, 115)],
        [(195, 62), (218, 62), (218, 115), (195, 115)],
        [(195, 88), (218, 88)],
        [(232, 55), (232, 128), (226, 132)],
        [(232, 55), (262, 55), (262, 128), (255, 124)],
        [(232, 80), (262, 80)],
        [(232, 103), (262, 103)],
    ]
    return [pad_stroke(p, T0 + 600 * i) for i, p in enumerate(paths)]


def cursive_strokes() -> list[dict]:
    """A Latin-style scribble in one stroke."""
    path = [(30 + 3 * i, 110 + 35 * math.sin(i / 4)) for i in range(80)]
    return [pad_stroke(path)]


def ink_pixels(png: bytes) -> int:
    image = Image.open(io.BytesIO(png))
    alpha = image.getchannel("A")
    return sum(alpha.histogram()[129:])


# ------------------------------------------------------------------------------------------ accepted


@pytest.mark.parametrize("strokes", [name_strokes(), cursive_strokes()], ids=["王小明", "cursive"])
def test_real_signatures_pass(strokes):
    sig = validate(json.dumps(strokes), W, H)
    assert sig.point_count >= signatures.MIN_POINTS
    assert sig.ink_length > 200
    assert (sig.width, sig.height) == (W, H)


def test_png_is_drawn_on_the_server_at_canvas_size_with_ink_where_the_strokes_are():
    sig = validate(json.dumps(name_strokes()), W, H)
    image = Image.open(io.BytesIO(sig.png))
    image.verify()
    image = Image.open(io.BytesIO(sig.png))
    assert image.format == "PNG"
    assert image.size == (W, H)
    assert image.mode == "RGBA"
    assert ink_pixels(sig.png) > 500
    # ink only inside the strokes' bounding box (plus the pen width); the rest stays transparent
    alpha = image.getchannel("A")
    x0, y0, x1, y1 = (round(v) for v in sig.bbox)
    assert alpha.crop((0, 0, x0 - 4, H)).getbbox() is None
    assert alpha.crop((x1 + 4, 0, W, H)).getbbox() is None
    assert alpha.crop((0, 0, W, y0 - 4)).getbbox() is None
    assert alpha.crop((0, y1 + 4, W, H)).getbbox() is None
    assert image.getpixel((65, 90))[3] > 200  # the vertical of 王 crosses its middle bar here


def test_png_comes_from_the_kept_strokes_not_from_the_client():
    strokes = name_strokes()
    strokes[0]["image"] = "data:image/png;base64,AAAA"  # a client-supplied picture is ignored
    strokes[0]["penColor"] = "url(javascript:alert(1))"  # not a colour: drawn in black
    sig = validate(json.dumps(strokes), W, H)
    assert "image" not in sig.canonical_json
    assert "javascript" not in sig.canonical_json
    assert sig.strokes[0]["penColor"] == "#000000"
    assert sig.png == signatures.render_png(json.loads(sig.canonical_json), W, H)


def test_canonical_json_does_not_depend_on_key_order_or_spacing():
    strokes = name_strokes()
    reordered = [{k: s[k] for k in reversed(list(s))} for s in strokes]
    a = validate(json.dumps(strokes), W, H)
    b = validate(json.dumps(reordered, indent=2), W, H)
    assert a.canonical_json == b.canonical_json
    assert a.strokes_sha256 == b.strokes_sha256 == hashlib.sha256(a.canonical_json.encode()).hexdigest()
    assert a.png_sha256 == b.png_sha256


def test_points_slightly_over_the_edge_are_clamped_to_the_canvas():
    strokes = name_strokes()
    strokes[0]["points"][0]["x"] = -8.0  # the finger started just left of the pad
    strokes[-1]["points"][-1]["y"] = H + 5.0
    sig = validate(json.dumps(strokes), W, H)
    assert sig.strokes[0]["points"][0]["x"] == 0.0
    assert sig.strokes[-1]["points"][-1]["y"] == float(H)


def test_bytes_and_parsed_lists_are_accepted_too():
    strokes = name_strokes()
    assert validate(json.dumps(strokes).encode(), W, H).canonical_json == validate(strokes, W, H).canonical_json


# ------------------------------------------------------------------------------------------ refused


def refused(strokes_json, width=W, height=H) -> str:
    with pytest.raises(SignatureError) as info:
        validate(strokes_json, width, height)
    assert info.value.message
    return info.value.message


def test_empty_signature_is_refused():
    assert refused("[]") == "请签名后再提交。"
    assert refused(json.dumps([{"points": []}])) == "请签名后再提交。"


def test_a_dot_is_refused():
    dot = [{"penColor": "black", "points": [{"x": 170, "y": 100, "time": T0, "pressure": 0.5}]}]
    assert "过短或过小" in refused(json.dumps(dot))


def test_a_short_tick_is_refused():
    tick = [pad_stroke([(150, 100), (160, 112), (185, 82)])]
    assert len(tick[0]["points"]) < signatures.MIN_POINTS
    assert "过短或过小" in refused(json.dumps(tick))


def test_a_tiny_scribble_with_many_points_is_refused():
    # plenty of points and ink, but all inside a 20 x 12 px box
    path = [(160 + 10 * math.sin(i), 100 + 6 * math.cos(i * 1.7)) for i in range(120)]
    tiny = [pad_stroke(path, step=1.0)]
    assert len(tiny[0]["points"]) >= signatures.MIN_POINTS
    assert "过短或过小" in refused(json.dumps(tiny))


def test_a_short_dash_with_enough_points_is_refused_for_too_little_ink():
    dash = [pad_stroke([(100, 100), (160, 100)], step=2.0)]  # 31 points, 60 px of ink
    assert len(dash[0]["points"]) >= signatures.MIN_POINTS
    assert "过短或过小" in refused(json.dumps(dash))


@pytest.mark.parametrize("garbage", ["not json", "{", '{"points": []}', "[1, 2]", '[{"points": "x"}]', "null"])
def test_garbage_json_is_refused(garbage):
    assert "无法读取" in refused(garbage)


@pytest.mark.parametrize("empty", ["", "[]"])
def test_an_empty_pad_is_asked_for_a_signature(empty):
    assert "请签名后再提交" in refused(empty)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "null", '"12"', "true"])
def test_non_numeric_or_nan_coordinates_are_refused(bad):
    text = json.dumps(name_strokes()).replace('"x": 40', '"x": ' + bad, 1)
    assert bad in text
    assert "无效数值" in refused(text)


def test_points_far_outside_the_canvas_are_refused():
    strokes = name_strokes()
    strokes[2]["points"][3]["x"] = W + 200
    assert "超出了签名框" in refused(json.dumps(strokes))
    strokes = name_strokes()
    strokes[0]["points"][0]["y"] = -100
    assert "超出了签名框" in refused(json.dumps(strokes))


@pytest.mark.parametrize(("width", "height"), [(0, 0), (W, "abc"), (float("nan"), H), (10_000, H), (W, -5)])
def test_bad_canvas_size_is_refused(width, height):
    assert "尺寸无效" in refused(json.dumps(name_strokes()), width, height)


def test_too_many_points_is_refused():
    path = [(20 + (i % 300), 20 + (i // 300) * 3) for i in range(signatures.MAX_POINTS + 1)]
    big = [{"penColor": "black", "points": [{"x": x, "y": y, "time": T0, "pressure": 0.5} for x, y in path]}]
    assert "过大" in refused(json.dumps(big))


def hostile_strokes(n_strokes: int, n_points: int = 24, w: int = 2400, h: int = 1600) -> list[dict]:
    """Finding 1 of the security review (issue 12): long zig-zags over a desktop-sized pad."""
    return [
        {
            "penColor": "black",
            "points": [
                {
                    "x": 20 + (i * 97 + s * 13) % (w - 40),
                    "y": 20 + (i * 61 + s * 7) % (h - 40),
                    "time": s * 400 + i * 16,
                }
                for i in range(n_points)
            ],
        }
        for s in range(n_strokes)
    ]


def test_the_reviews_hostile_signature_is_refused_with_a_chinese_message():
    """200 strokes × 24 points on 2400 × 1600 took 13 s to draw; more strokes than any name has are refused."""
    assert "笔画过多" in refused(json.dumps(hostile_strokes(200)), 2400, 1600)
    assert "笔画过多" in refused(json.dumps([{"points": []}] * (signatures.MAX_STROKES + 1)), 2400, 1600)


def test_a_big_pad_is_scaled_into_the_bounded_canvas_before_it_is_stored_and_drawn():
    strokes = hostile_strokes(signatures.MAX_STROKES)
    sig = validate(json.dumps(strokes), 2400, 1600)
    max_w, max_h = signatures.STORED_CANVAS
    assert (sig.width, sig.height) == (450, 300)  # aspect ratio kept, within 600 × 300
    assert sig.width <= max_w and sig.height <= max_h
    assert Image.open(io.BytesIO(sig.png)).size == (sig.width, sig.height)
    points = [p for s in sig.strokes for p in s["points"]]
    assert len(points) == signatures.MAX_STROKES * 24
    assert all(0 <= p["x"] <= sig.width and 0 <= p["y"] <= sig.height for p in points)
    # the first point (20, 20) on the pad is (3.75, 3.75) stored: scaled by 300 / 1600
    assert (points[0]["x"], points[0]["y"]) == (3.75, 3.75)
    # the stored strokes redraw to the same PNG: what is hashed is what is shown
    assert signatures.render_png(json.loads(sig.canonical_json), sig.width, sig.height) == sig.png


def test_a_wide_desktop_pad_keeps_its_proportions_and_a_name_on_it_still_passes():
    strokes = [
        {**s, "points": [{**p, "x": p["x"] * 2, "y": p["y"]} for p in s["points"]]} for s in name_strokes()
    ]  # the 王小明 above, written twice as wide on an 800 × 200 pad
    sig = validate(json.dumps(strokes), 800, 200)
    assert (sig.width, sig.height) == (600, 150)
    assert ink_pixels(sig.png) > 300


def test_too_many_points_over_several_strokes_are_refused():
    stroke = pad_stroke([(20, 20), (320, 20), (20, 180), (320, 180)], step=1.0)
    count = len(stroke["points"])
    strokes = [stroke] * (signatures.MAX_POINTS // count + 1)
    assert len(strokes) <= signatures.MAX_STROKES and count * len(strokes) > signatures.MAX_POINTS
    assert "过大" in refused(json.dumps(strokes))


def test_eraser_strokes_are_refused():
    strokes = name_strokes()
    strokes[3]["compositeOperation"] = "destination-out"
    assert "无法读取" in refused(json.dumps(strokes))


# ------------------------------------------------------------------------------------------ refusal to sign


def test_refusal_needs_a_reason():
    for reason in ["", "   ", None, "拒"]:
        with pytest.raises(SignatureError, match="请填写拒绝签字的原因"):
            refusal(reason)
    assert refusal("  负责人不在场，\n随同人员拒绝签字 ").reason == "负责人不在场， 随同人员拒绝签字"
    with pytest.raises(SignatureError, match="不能超过500个字"):
        refusal("拒" * 501)


# ------------------------------------------------------------------------------------------ binding


RECORD = hashlib.sha256(b"record v1").hexdigest()
AT = dt.datetime(2026, 11, 23, 2, 30, 15, 123456, tzinfo=dt.UTC)


def test_binding_hash_changes_with_the_record_and_everything_signed():
    sig = validate(json.dumps(name_strokes()), W, H)
    h = binding_hash(RECORD, sig.canonical_json, "unit_escort", AT)
    assert len(h) == 64
    assert h == binding_hash(RECORD, sig.canonical_json, "unit_escort", AT)
    other_record = hashlib.sha256(b"record v2").hexdigest()
    assert binding_hash(other_record, sig.canonical_json, "unit_escort", AT) != h
    other = validate(json.dumps(cursive_strokes()), W, H)
    assert binding_hash(RECORD, other.canonical_json, "unit_escort", AT) != h
    assert binding_hash(RECORD, sig.canonical_json, "inspector", AT) != h
    assert binding_hash(RECORD, sig.canonical_json, "unit_escort", AT + dt.timedelta(seconds=1)) != h
    assert signatures.binding_matches(h, RECORD, sig.canonical_json, "unit_escort", AT)
    assert not signatures.binding_matches(h, other_record, sig.canonical_json, "unit_escort", AT)


def test_binding_hash_is_about_the_instant_not_the_time_zone():
    beijing = AT.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert binding_hash(RECORD, "[]", "inspector", beijing) == binding_hash(RECORD, "[]", "inspector", AT)


def test_binding_hash_refuses_ambiguous_inputs():
    with pytest.raises(ValueError, match="timezone-aware"):
        binding_hash(RECORD, "[]", "inspector", dt.datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="record_hash"):
        binding_hash("abc", "[]", "inspector", AT)
    with pytest.raises(ValueError, match="signer_role"):
        binding_hash(RECORD, "[]", "", AT)


def test_a_refusal_binds_differently_from_a_signature():
    r = refusal("随同人员拒绝签字")
    assert signatures.refusal_binding_hash(RECORD, r.reason, "unit_escort", AT) != binding_hash(
        RECORD, r.reason, "unit_escort", AT
    )


def test_messages_inside_the_app_are_chinese(app):
    with app.test_request_context("/"), pytest.raises(SignatureError, match="请签名后再提交"):
        validate("[]", W, H)
