"""Drawing an annotation state onto an image, as VILASR's environment does.

Boxes: 4 px outlines, colours cycling through BOX_COLOURS by the box's position in the state,
the label written in the same colour 8 px right and 6 px below the top-left corner. Lines: black,
4 px, a red dot (radius 4) at the start and a blue one at the end. Swapped corners are put in
order and coordinates are clipped to the image. Labels use PIL's bitmap font. Rendering keeps the image's mode (palette
images stay palette images, which makes PNGs small and fast) and is deterministic: the same
state on the same image gives the same pixels.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .ops import Box, Line, Op

BOX_COLOURS = ["red", "green", "blue", "yellow", "orange", "pink", "purple", "brown", "gray",
               "beige", "turquoise", "cyan", "magenta", "lime", "navy", "maroon", "teal", "olive",
               "coral", "lavender", "violet", "gold", "silver"]
WIDTH, DOT = 4, 4


@lru_cache(maxsize=1)
def font():
    """PIL's built-in bitmap font: the same pixels on every platform and FreeType version
    (and ten times faster to draw than the FreeType default of Pillow >= 10.1)."""
    loader = getattr(ImageFont, "load_default_imagefont", None)
    return loader() if loader else ImageFont.load_default()


@lru_cache(maxsize=64)
def rgb(name: str) -> tuple[int, int, int]:
    from PIL import ImageColor
    return ImageColor.getrgb(name)[:3]


def _clip(v: float, hi: int) -> int:
    return int(round(min(max(v, 0), hi - 1)))


def box_xy(op: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    x1, y1, x2, y2 = op.bbox
    x1, x2 = sorted((_clip(x1, w), _clip(x2, w)))
    y1, y2 = sorted((_clip(y1, h), _clip(y2, h)))
    return x1, y1, x2, y2


def line_xy(op: Line, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return (_clip(op.start[0], w), _clip(op.start[1], h), _clip(op.end[0], w),
            _clip(op.end[1], h))


def _colour(name: str, image: Image.Image):
    """A colour for ImageDraw in this image's mode (palette entries are added as needed)."""
    if image.mode == "P":
        return rgb(name)
    if image.mode in ("L", "1"):
        r, g, b = rgb(name)
        return (r * 299 + g * 587 + b * 114) // 1000
    return rgb(name)


def render(image: Image.Image, state: list[Op]) -> Image.Image:
    """A copy of `image` with every operation of `state` drawn on it."""
    out = image.copy()
    if out.mode not in ("RGB", "RGBA", "P", "L"):
        out = out.convert("RGB")
    draw = ImageDraw.Draw(out)
    n_box = 0
    for op in state:
        if isinstance(op, Box):
            colour = _colour(BOX_COLOURS[n_box % len(BOX_COLOURS)], out)
            n_box += 1
            x1, y1, x2, y2 = box_xy(op, out.size)
            draw.rectangle([x1, y1, x2, y2], outline=colour, width=WIDTH)
            if op.label:
                draw.text((x1 + 8, y1 + 6), op.label, fill=colour, font=font())
        else:
            x1, y1, x2, y2 = line_xy(op, out.size)
            draw.line([(x1, y1), (x2, y2)], fill=_colour("black", out), width=WIDTH)
            for (x, y), name in (((x1, y1), "red"), ((x2, y2), "blue")):
                draw.ellipse([x - DOT, y - DOT, x + DOT, y + DOT], fill=_colour(name, out))
    return out
