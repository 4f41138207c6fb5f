"""Media references: how records point at images, audio and video.

A reference is either a path (relative to the working directory) or an object
`{"path": str|null, "bytes": base64}` that carries the content inline. In memory, `bytes` may also be
raw `bytes` (as read from Parquet or rendered by a tool); JSON output always writes base64. In
Parquet, a media list is `list<struct<bytes: binary, path: string>>`, the `datasets` Image layout.

References live in the record fields `images`, `audios`, `videos` (lists) and in chat parts
`{"type": "image", "image": ref}` inside `messages`.
"""
from __future__ import annotations

import base64
import binascii
import io
import hashlib
import os
from typing import Any, Callable, Iterable, Iterator

from .jsonl import dumps
from .policy import ErrorPolicy

MEDIA_FIELDS = ("images", "audios", "videos")
PART_KINDS = ("image", "audio", "video")

_MAGIC = [  # (prefix, offset, extension): enough to name files written by --media-dir
    (b"\x89PNG", 0, ".png"), (b"\xff\xd8\xff", 0, ".jpg"), (b"GIF8", 0, ".gif"),
    (b"WEBP", 8, ".webp"), (b"WAVE", 8, ".wav"), (b"fLaC", 0, ".flac"), (b"OggS", 0, ".ogg"),
    (b"ID3", 0, ".mp3"), (b"ftyp", 4, ".mp4"), (b"\x1aE\xdf\xa3", 0, ".webm"), (b"BM", 0, ".bmp"),
]


def is_canonical_b64(text: str) -> bool:
    """True when `text` is base64 that re-encodes to exactly itself (so a round trip is exact)."""
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode("ascii") == text
    except (binascii.Error, ValueError):
        return False


def is_ref(value: Any) -> bool:
    """A path string, or `{"path", "bytes"}` with non-null bytes whose form survives Parquet."""
    if type(value) is str:
        return True
    if type(value) is not dict or value.keys() != {"path", "bytes"}:
        return False
    path, data = value["path"], value["bytes"]
    if path is not None and type(path) is not str:
        return False
    return isinstance(data, (bytes, bytearray)) or (type(data) is str and is_canonical_b64(data))


def ref_bytes(ref: Any) -> bytes | None:
    """The inline content of a reference, or None when it is only a path."""
    if type(ref) is dict and ref.get("bytes") is not None:
        data = ref["bytes"]
        return bytes(data) if isinstance(data, (bytes, bytearray)) else base64.b64decode(data)
    return None


def ref_path(ref: Any) -> str | None:
    return ref if type(ref) is str else (ref.get("path") if type(ref) is dict else None)


def load_bytes(ref: Any) -> bytes:
    """Content of a reference: inline bytes, else the file at its path (OSError if unreadable)."""
    data = ref_bytes(ref)
    if data is not None:
        return data
    path = ref_path(ref)
    if not path:
        raise ValueError("media reference has neither bytes nor a path")
    with open(path, "rb") as f:
        return f.read()


def to_struct(ref: Any) -> dict:
    """Reference -> Parquet struct {bytes, path}."""
    if type(ref) is str:
        return {"bytes": None, "path": ref}
    return {"bytes": ref_bytes(ref), "path": ref["path"]}


def from_struct(item: dict | None) -> Any:
    """Parquet struct {bytes, path} -> reference (a path string when there are no bytes)."""
    if item is None:
        return None
    if item["bytes"] is None:
        return item["path"]
    return {"path": item["path"], "bytes": base64.b64encode(item["bytes"]).decode("ascii")}


def extension(data: bytes, path: str | None = None) -> str:
    """File extension for media content: from its path when it has one, else from magic bytes."""
    if path:
        ext = os.path.splitext(path)[1]
        if ext:
            return ext.lower()
    for magic, offset, ext in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return ext
    return ".bin"


def _refs(record: dict) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every media reference in a record, fields and chat parts."""
    for field in MEDIA_FIELDS:
        refs = record.get(field)
        if type(refs) is list:
            for i in range(len(refs)):
                yield refs, i
        elif type(refs) in (str, dict):          # one reference, not in a list
            yield record, field
    messages = record.get("messages")
    if type(messages) is list:
        for msg in messages:
            content = msg.get("content") if type(msg) is dict else None
            if type(content) is list:
                for part in content:
                    if type(part) is dict and part.get("type") in PART_KINDS and part["type"] in part:
                        yield part, part["type"]


def map_refs(record: dict, fn: Callable[[Any], Any]) -> dict:
    """Replace every media reference in `record` (in place) by fn(ref); returns the record.

    All new references are computed before any is assigned, so a failure leaves the record as it was.
    """
    slots = [(c, k) for c, k in _refs(record) if c[k] is not None]
    new = [fn(c[k]) for c, k in slots]
    for (container, key), ref in zip(slots, new):
        container[key] = ref
    return record


def map_records(records: Iterable[dict], fn: Callable[[Any], Any], policy: ErrorPolicy,
                where: Callable[[], str]) -> Iterator[dict]:
    """map_refs over a stream; a reference that cannot be read is a bad record (file:line)."""
    for record in records:
        try:
            yield map_refs(record, fn)
        except OSError as e:
            what = f"{e.filename}: {e.strerror}" if e.filename else str(e)
            policy.handle(where(), f"media: {what}", dumps(record))
        except ValueError as e:
            policy.handle(where(), f"media: {e}", dumps(record))


def embed(ref: Any) -> Any:
    """`--embed-media`: a path, or `{"path": ...}` without bytes, becomes {"path", "bytes"} with
    the file's content (OSError when it cannot be read: a bad record, file:line)."""
    if ref_bytes(ref) is not None:
        return ref
    path = ref_path(ref)
    if not isinstance(path, str) or not path:
        raise ValueError(f"a media reference with neither a path nor bytes: {str(ref)[:80]}")
    with open(path, "rb") as f:
        return {"path": path, "bytes": base64.b64encode(f.read()).decode("ascii")}


def writer_to_dir(directory: str) -> Callable[[Any], Any]:
    """`--media-dir DIR`: inline content is written to DIR/<sha256 prefix><ext> and referenced by path.

    Names come from the content hash, so the same image written twice is stored once and the
    output is deterministic.
    """
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        from ..errors import OutputError
        raise OutputError(f"--media-dir {directory}: cannot create: {e.strerror}") from None

    def externalise(ref: Any) -> Any:
        data = ref_bytes(ref)
        if data is None:
            return ref
        name = hashlib.sha256(data).hexdigest()[:24] + extension(data, ref_path(ref))
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            tmp = f"{path}.tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return path

    return externalise


def open_image(ref: Any):
    """A media reference as an RGB PIL image (OSError/ValueError when it cannot be read)."""
    import io

    from PIL import Image, UnidentifiedImageError

    if ref is not None and hasattr(ref, "convert") and hasattr(ref, "size"):  # already an image
        return ref.convert("RGB")
    try:
        with Image.open(io.BytesIO(load_bytes(ref))) as img:
            return img.convert("RGB")
    except UnidentifiedImageError:
        raise ValueError(f"not an image: {ref_path(ref) or 'inline bytes'}") from None


def png_bytes(image, compress_level: int = 6) -> bytes:
    """A PIL image as PNG bytes (the form images take when a tool renders them inline)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def image_size(ref: Any) -> tuple[int, int]:
    """(width, height) of an image reference, read from its header (no decoding)."""
    import io

    from PIL import Image

    if hasattr(ref, "size") and hasattr(ref, "convert"):
        return ref.size
    with Image.open(io.BytesIO(load_bytes(ref))) as img:
        return img.size
