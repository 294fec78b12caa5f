"""Positions on site: the distance of a check-in to the unit, and links to the Chinese map apps. Pure (stdlib only).

Datum: the units' stored coordinates (``Unit.latitude`` / ``Unit.longitude``) are WGS-84, the datum of the
browser's Geolocation API that records the check-in position and of a photo's GPS EXIF (the demo data are made
in WGS-84 too; the registry's import takes no coordinates). Distances are therefore computed between WGS-84
points directly. The Chinese map apps use shifted datums: 高德 and 腾讯 take GCJ-02 (WGS-84 → GCJ-02 with the
usual published formula, Krasovsky ellipsoid; points outside China are left unchanged), 百度 takes BD-09
(GCJ-02 → BD-09 with Baidu's standard formula). Only the links are converted; nothing stored is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote, urlencode

EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG)
DEFAULT_RADIUS_M = 500  # beyond this a check-in needs a reason, unless the organisation sets another radius
MIN_RADIUS_M, MAX_RADIUS_M = 50, 50000

# GCJ-02: Krasovsky 1940 ellipsoid
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
APP_NAME = "suijian"  # the caller id Baidu (src) and Tencent (referer) ask of URI links


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine) between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def is_far(distance: float | None, radius_m: int) -> bool:
    """The rule of a far check-in: a known distance strictly beyond the radius."""
    return distance is not None and distance > radius_m


def out_of_china(lat: float, lon: float) -> bool:
    """The rough box where GCJ-02 applies (outside it the map apps use WGS-84 unchanged)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (latitude, longitude); unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 (latitude, longitude), Baidu's standard formula."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


@dataclass(frozen=True)
class MapLink:
    app: str  # amap | baidu | tencent
    url: str
    by_address: bool  # no coordinates: the app searches the address text


def map_links(name: str, address: str | None, lat: float | None, lon: float | None) -> list[MapLink]:
    """Navigation links to 高德, 百度 and 腾讯 for a place stored in WGS-84; the address search when it has no
    coordinates; none when it has neither."""
    if lat is not None and lon is not None:
        glat, glon = wgs84_to_gcj02(lat, lon)
        blat, blon = gcj02_to_bd09(glat, glon)
        g, b = f"{glat:.6f},{glon:.6f}", f"{blat:.6f},{blon:.6f}"
        return [
            MapLink(
                "amap",
                "https://uri.amap.com/navigation?"
                + urlencode(
                    {"to": f"{glon:.6f},{glat:.6f},{name}", "mode": "car", "coordinate": "gaode", "callnative": 1},
                    quote_via=quote,
                ),
                False,
            ),
            MapLink(
                "baidu",
                "https://api.map.baidu.com/marker?"
                + urlencode(
                    {
                        "location": b,
                        "title": name,
                        "content": address or name,
                        "coord_type": "bd09ll",
                        "output": "html",
                        "src": APP_NAME,
                    },
                    quote_via=quote,
                ),
                False,
            ),
            MapLink(
                "tencent",
                "https://apis.map.qq.com/uri/v1/routeplan?"
                + urlencode(
                    {"type": "drive", "to": name, "tocoord": g, "referer": APP_NAME},
                    quote_via=quote,
                ),
                False,
            ),
        ]
    if not address:
        return []
    return [
        MapLink("amap", "https://uri.amap.com/search?" + urlencode({"keyword": address}, quote_via=quote), True),
        MapLink(
            "baidu",
            "https://api.map.baidu.com/geocoder?"
            + urlencode({"address": address, "output": "html", "src": APP_NAME}, quote_via=quote),
            True,
        ),
        MapLink(
            "tencent",
            "https://apis.map.qq.com/uri/v1/search?"
            + urlencode({"keyword": address, "referer": APP_NAME}, quote_via=quote),
            True,
        ),
    ]
