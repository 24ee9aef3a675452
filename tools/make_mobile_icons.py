"""Draw the phone web app's PNG icons (192 and 512 px) like icon.svg, with Pillow.

Run once after changing the design: python tools/make_mobile_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "geo_patrol" / "static" / "mobile"


def draw(size: int) -> Image.Image:
    """The icon at `size` pixels: a pin over a river wave on the app's blue."""
    s = size / 96
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=int(18 * s), fill="#0b5d7a")
    wave = [(x * s, (62 + 5 * ((x // 20) % 2 * 2 - 1) * ((x % 20) / 20)) * s) for x in range(8, 89)]
    pen.polygon([*wave, (88 * s, 88 * s), (8 * s, 88 * s)], fill="#3b82c4")
    pen.line(wave, fill="#ffffff", width=max(2, int(4 * s)))
    pen.ellipse((34 * s, 18 * s, 62 * s, 46 * s), fill="#ffffff")
    pen.ellipse((42 * s, 26 * s, 54 * s, 38 * s), fill="#d9480f")
    pen.line((48 * s, 46 * s, 48 * s, 58 * s), fill="#ffffff", width=max(2, int(4 * s)))
    return image


if __name__ == "__main__":
    for size in (192, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
