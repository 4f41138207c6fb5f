"""Video in records: decoded into frames that the model sees as a sequence of images.

A record lists its videos in `videos` (media references: a path, or `{"path", "bytes"}`; a
folder of frame images also counts as a video). `expand_videos` decodes each one with PyAV and
returns a new record: `images` holds the sampled frames as inline PNG references, after any
images the record already had; `frame_times` gives their times in seconds; `videos` is removed;
and `frames: true` is set when the record had exactly one video and no other image. Eval,
reject-sample and grpo all call it, so a video becomes the same frames everywhere.

Sampling follows Qwen2.5-VL's vision_process and Video-R1: frames at `fps`, at 0, 1/fps, 2/fps,
... seconds within the video (each one the first frame at or after that time). When that gives
more than `max_frames`, `max_frames` frames spaced uniformly over the whole video are taken
instead (by frame index: the first, the last and evenly in between, the same rule as Qwen's
linspace). There is always at least one frame. For a folder, the frame images are sorted by name,
taken as they are and thinned uniformly to `max_frames`; their `frame_times` are null, because the
folder does not say when the frames were taken. Decoding reads the file sequentially, with no
seeking (one pass over the packets for their times, one decode up to the last frame needed), so
the cost grows with the clip's length. That suits the short clips of video QA benchmarks.

Pre-extracted frames: a record that already has `frames: true` with `images` is left as it is.
Its images are the frames, in order (`frame_refs`). `shuffled` permutes them for
temporal-order checks, such as T-GRPO's contrast between ordered and shuffled frames.

Placeholders: AV-Odyssey's `[video1]` in the question (or a string `prompt`) stands for that
video's frames. It becomes `[imgK]...[imgM]`, so the frames appear where the video was named. In
`messages`, a `{"type": "video", "video": ref}` part becomes its frames' image parts. With
top-level `videos`, `<video>` (LLaMA-Factory) and `{"type": "video"}` slots (TRL) become image
slots, filled from `images`.

Departures: Qwen2.5-VL takes video natively through its video processor (pairs of frames merged
in time, temporal position ids). That processor needs torchvision, which does not work here, so
thinkpipe gives the model the sampled frames as an image sequence: one image per frame, with no
temporal merging and no timestamps in the prompt. Qwen's minimum of 4 frames and its rounding to
an even count are not applied.

    thinkpipe eval --model ckpt/rl video_bench.jsonl --max-frames 16 --fps 2 > scored.jsonl
    reject-sample --model ckpt/cold --max-frames 8 --fps 1 tasks.jsonl > kept.jsonl
"""
from __future__ import annotations

import io
import os
import re
from typing import Any, NamedTuple

from . import media
from .media import ref_bytes, ref_path

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
VIDEO_PLACEHOLDER = re.compile(r"\[video(\d+)\]")


class Frame(NamedTuple):
    image: Any                   # a PIL RGB image
    time: float | None           # seconds from the start of the video (None: a folder's frame)


def _name(ref: Any) -> str:
    return ref_path(ref) or "inline video bytes"


def sample_indices(times: list[float], max_frames: int, fps: float) -> list[int]:
    """Which of the frames at `times` (seconds, ascending) to keep: one per 1/fps seconds, or
    `max_frames` spaced uniformly when that is more."""
    import numpy as np

    n = len(times)
    step = (times[-1] - times[0]) / (n - 1) if n > 1 else 0.0
    duration = times[-1] - times[0] + step
    wanted = [k / fps for k in range(int(duration * fps) + 2) if k / fps < duration - 1e-9] or [0.0]
    if len(wanted) > max_frames:
        return sorted({int(i) for i in np.round(np.linspace(0, n - 1, max_frames))})
    rel = np.asarray(times) - times[0]
    picked = [min(int(np.searchsorted(rel, t - 1e-6)), n - 1) for t in wanted]
    return sorted(set(picked))


def _open(ref: Any):
    import av

    data = ref_bytes(ref)
    source = io.BytesIO(data) if data is not None else ref_path(ref)
    if not source:
        raise ValueError("a video reference with neither a path nor bytes")
    try:
        return av.open(source)
    except av.FFmpegError as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ValueError(f"cannot read the video {_name(ref)}: {reason}") from None


def _decode(ref: Any, max_frames: int, fps: float) -> list[Frame]:
    import av

    with _open(ref) as container:
        if not container.streams.video:
            raise ValueError(f"{_name(ref)} has no video stream")
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
    if not pts:
        raise ValueError(f"{_name(ref)} has no video frames")
    base = stream.time_base or 1
    times = [float((p - pts[0]) * base) for p in pts]
    keep = sample_indices(times, max_frames, fps)
    wanted = set(keep)
    frames: list[Frame] = []
    last = None
    with _open(ref) as container:
        try:
            for i, frame in enumerate(container.decode(video=0)):
                last = frame
                if i in wanted:
                    frames.append(Frame(frame.to_image().convert("RGB"), times[i]))
                if i >= keep[-1]:
                    break
        except av.FFmpegError as e:
            raise ValueError(f"cannot decode the video {_name(ref)}: {e}") from None
    if not frames and last is not None:            # fewer decoded frames than packets
        frames.append(Frame(last.to_image().convert("RGB"), times[0]))
    if not frames:
        raise ValueError(f"{_name(ref)} has no video frames")
    return frames


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _folder(path: str, max_frames: int) -> list[Frame]:
    import numpy as np

    from .media import open_image
    names = sorted((n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS)),
                   key=_natural)
    if not names:
        raise ValueError(f"the video folder {path} holds no frame images")
    if len(names) > max_frames:
        names = [names[int(i)] for i in np.round(np.linspace(0, len(names) - 1, max_frames))]
    return [Frame(open_image(os.path.join(path, n)), None) for n in names]


def decode_frames(ref: Any, max_frames: int = 16, fps: float = 2.0) -> list[Frame]:
    """The sampled frames of a video reference (a path, {"path", "bytes"}, or a folder of frame
    images), as PIL RGB images with their times in seconds. One frame every 1/fps seconds;
    when that would be more than `max_frames`, `max_frames` frames spaced uniformly over the
    whole video instead; at least one. ValueError naming the video when it cannot be read, is
    not a video, or has no frames."""
    if max_frames < 1 or fps <= 0:
        raise ValueError("max_frames must be at least 1 and fps above 0")
    path = ref_path(ref)
    if ref_bytes(ref) is None and path and os.path.isdir(path):
        return _folder(path, max_frames)
    return _decode(ref, max_frames, fps)


def _png(image) -> dict:
    return {"path": None, "bytes": media.png_bytes(image)}


def _video_list(value) -> list:
    if isinstance(value, (str, dict)):
        return [value]
    return [v for v in value if v is not None] if isinstance(value, list) else []


def _decoded(ref: Any, where: str, max_frames: int, fps: float) -> list[Frame]:
    try:
        return decode_frames(ref, max_frames, fps)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    except OSError as e:
        raise ValueError(f"{where}: cannot read {_name(ref)}: {e.strerror or e}") from None


def _named(text: str, spans: list[tuple[int, int]]) -> str:
    """`[videoK]` -> the image placeholders of video K's frames (first index, count)."""
    def sub(m):
        k = int(m.group(1))
        if not 1 <= k <= len(spans):
            return m.group(0)                      # left for chat.interleave to refuse
        first, count = spans[k - 1]
        return "".join(f"[img{first + j}]" for j in range(count))
    return VIDEO_PLACEHOLDER.sub(sub, text)


def _slot_text(text: str, spans: list[tuple[int, int]]) -> str:
    """`<video>` -> one `<image>` per frame of the next top-level video."""
    pieces = text.split("<video>")
    out = pieces[0]
    for i, piece in enumerate(pieces[1:]):
        out += ("<image>" * spans[i][1] if i < len(spans) else "<video>") + piece
    return out


def _messages(messages: list, spans: list, max_frames: int, fps: float, times: list) -> list:
    """Video parts with a reference -> their frames' image parts; reference-less video slots
    and `<video>` in text -> image slots for the top-level videos' frames."""
    out, slot = [], 0
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, str) and "<video>" in content:
            n = content.count("<video>")
            m = {**m, "content": _slot_text(content, spans[slot:slot + n])}
            slot += n
        elif isinstance(content, list):
            parts = []
            for p in content:
                if isinstance(p, dict) and p.get("type") == "video" and p.get("video") is not None:
                    frames = _decoded(p["video"], "a video part", max_frames, fps)
                    times.extend(f.time for f in frames)
                    parts.extend({"type": "image", "image": _png(f.image)} for f in frames)
                elif isinstance(p, dict) and p.get("type") == "video" and slot < len(spans):
                    parts.extend({"type": "image"} for _ in range(spans[slot][1]))
                    slot += 1
                elif isinstance(p, dict) and p.get("type") == "text" and "<video>" in p.get("text", ""):
                    n = p["text"].count("<video>")
                    parts.append({**p, "text": _slot_text(p["text"], spans[slot:slot + n])})
                    slot += n
                else:
                    parts.append(p)
            m = {**m, "content": parts}
        out.append(m)
    return out


def _has_video_parts(messages) -> bool:
    return isinstance(messages, list) and any(
        isinstance(p, dict) and p.get("type") == "video" for m in messages if isinstance(m, dict)
        for p in (m.get("content") if isinstance(m.get("content"), list) else []))


def expand_videos(record: dict, max_frames: int = 16, fps: float = 2.0) -> dict:
    """A new record with every video decoded (module docstring): its frames appended to `images`
    as inline PNGs, `frame_times` in seconds, `videos` removed, `frames: true` for one video and
    no other image, `[videoK]` placeholders turned into the frames' `[imgK]`. A record without
    videos, or one with pre-extracted frames (`frames: true`), is returned as it is.
    ValueError naming the video when one cannot be decoded."""
    videos = _video_list(record.get("videos"))
    messages = record.get("messages")
    if record.get("frames") is True and record.get("images"):
        return record
    if not videos and not _has_video_parts(messages):
        return record
    images = _video_list(record.get("images"))
    if videos and isinstance(messages, list) and images:
        raise ValueError("a `messages` record with both top-level `images` and `videos`: "
                         "their slots cannot be told apart")
    out = {k: v for k, v in record.items() if k != "videos"}
    new_images, times, spans = list(images), [], []
    for k, ref in enumerate(videos):
        frames = _decoded(ref, f"`videos`[{k}]", max_frames, fps)
        spans.append((len(new_images) + 1, len(frames)))
        new_images.extend(_png(f.image) for f in frames)
        times.extend(f.time for f in frames)
    for key in ("question", "prompt"):
        if isinstance(out.get(key), str):
            out[key] = _named(out[key], spans)
    if isinstance(messages, list):
        out["messages"] = _messages(messages, spans, max_frames, fps, times)
    if new_images:
        out["images"] = new_images
    out["frame_times"] = times
    if len(videos) == 1 and not images and not _has_video_parts(messages):
        out["frames"] = True
    return out


def frame_refs(record: dict) -> list | None:
    """The frames of a frames record (`frames: true`), in order; None for any other record."""
    if record.get("frames") is True:
        images = _video_list(record.get("images"))
        return images or None
    return None


def shuffled(record: dict, seed: int) -> tuple[dict, list[int]]:
    """A copy of a frames record with its frames (and `frame_times`) in a seeded random order,
    never the original one when there are two frames or more; and the permutation (new
    position i holds old frame perm[i]). ValueError for a record that is not a frames record."""
    import numpy as np

    refs = frame_refs(record)
    if refs is None:
        raise ValueError("not a frames record (`frames: true` with `images`)")
    n = len(refs)
    perm = [int(i) for i in np.random.default_rng(seed).permutation(n)]
    if n >= 2 and perm == list(range(n)):
        perm = perm[1:] + perm[:1]                 # never the identity: rotate by one
    out = {**record, "images": [refs[i] for i in perm]}
    times = record.get("frame_times")
    if isinstance(times, list) and len(times) == n:
        out["frame_times"] = [times[i] for i in perm]
    return out, perm
