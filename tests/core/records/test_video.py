"""Video decoding (core/records/video.py) on a small clip the test writes with PyAV: 4 s at 10 fps,
one solid colour a second (red, green, blue, white)."""
from __future__ import annotations

import io

import pytest

from thinkpipe.core.records.video import decode_frames, expand_videos, frame_refs, shuffled

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
NAMES = ["red", "green", "blue", "white"]


def _codec() -> tuple[str, str]:
    import av
    for codec, ext in (("mpeg4", ".mp4"), ("libx264", ".mp4"), ("libvpx", ".webm")):
        if codec in av.codecs_available:
            return codec, ext
    pytest.skip("PyAV has no video encoder")


def write_clip(path: str, seconds: int = 4, rate: int = 10) -> None:
    import av
    import numpy as np
    codec, _ = _codec()
    with av.open(path, "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(seconds * rate):
            pixels = np.zeros((48, 64, 3), np.uint8)
            pixels[:] = COLOURS[(i // rate) % len(COLOURS)]
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("video") / ("clip" + _codec()[1]))
    write_clip(path)
    return path


def colour(image) -> str:
    r, g, b = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return min(NAMES, key=lambda n: sum((x - y) ** 2 for x, y in
                                        zip((r, g, b), COLOURS[NAMES.index(n)])))


def test_one_frame_a_second_gives_the_colours_in_order(clip):
    frames = decode_frames(clip, max_frames=16, fps=1)
    assert [colour(f.image) for f in frames] == NAMES
    assert [f.time for f in frames] == pytest.approx([0, 1, 2, 3], abs=0.01)
    assert all(f.image.mode == "RGB" and f.image.size == (64, 48) for f in frames)


def test_two_a_second_gives_eight(clip):
    frames = decode_frames(clip, max_frames=16, fps=2)
    assert len(frames) == 8
    assert [f.time for f in frames] == pytest.approx([k / 2 for k in range(8)], abs=0.01)
    assert [colour(f.image) for f in frames] == [n for n in NAMES for _ in (0, 1)]


def test_more_than_max_frames_is_spaced_uniformly_over_the_whole_video(clip):
    frames = decode_frames(clip, max_frames=3, fps=2)
    assert len(frames) == 3
    assert [f.time for f in frames] == pytest.approx([0.0, 2.0, 3.9], abs=0.01)
    assert [colour(f.image) for f in frames] == ["red", "blue", "white"]
    one = decode_frames(clip, max_frames=1, fps=2)
    assert len(one) == 1 and one[0].time == 0


def test_inline_bytes_decode_like_the_file(clip):
    with open(clip, "rb") as f:
        data = f.read()
    frames = decode_frames({"path": None, "bytes": data}, max_frames=16, fps=1)
    assert [colour(f.image) for f in frames] == NAMES
    import base64
    b64 = {"path": "x.mp4", "bytes": base64.b64encode(data).decode()}
    assert len(decode_frames(b64, 16, 1)) == 4


def test_what_is_not_a_video_is_a_value_error_naming_it(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a video at all\n" * 20)
    with pytest.raises(ValueError, match="notes.txt"):
        decode_frames(str(text))
    with pytest.raises(ValueError, match="missing.mp4"):
        decode_frames(str(tmp_path / "missing.mp4"))
    with pytest.raises(ValueError, match="inline"):
        decode_frames({"path": None, "bytes": b"garbage" * 50})
    with pytest.raises(ValueError, match="empty"):
        (tmp_path / "empty").mkdir()
        decode_frames(str(tmp_path / "empty"))


def test_a_folder_of_frame_images_is_a_video(tmp_path):
    from PIL import Image
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):                 # frame_2 sorts before frame_10: names compare as numbers
        Image.new("RGB", (16, 16), COLOURS[i // 3]).save(folder / f"frame_{i}.png")
    frames = decode_frames(str(folder), max_frames=4)
    assert [colour(f.image) for f in frames] == NAMES  # frames 0, 4, 7, 11
    assert all(f.time is None for f in frames)


def _png_colour(ref) -> str:
    from PIL import Image
    assert ref["path"] is None and ref["bytes"][:4] == b"\x89PNG"
    return colour(Image.open(io.BytesIO(ref["bytes"])))


def test_expand_videos_puts_the_frames_in_images(clip):
    record = {"id": "v", "question": "What colour comes last? [video1]", "videos": [clip]}
    out = expand_videos(record, max_frames=16, fps=1)
    assert "videos" not in out and "videos" in record            # a new record
    assert out["frames"] is True and out["frame_times"] == pytest.approx([0, 1, 2, 3], abs=0.01)
    assert [_png_colour(r) for r in out["images"]] == NAMES
    assert out["question"] == "What colour comes last? [img1][img2][img3][img4]"
    assert frame_refs(out) == out["images"] and frame_refs(record) is None


def test_expand_videos_keeps_images_first_and_leaves_other_records_alone(clip, tmp_path):
    from thinkpipe.core.models.chat import prompt_messages
    record = {"question": "[img1] then [video1]?", "images": ["a.png"], "videos": clip}
    out = expand_videos(record, max_frames=2, fps=1)
    assert out["images"][0] == "a.png" and len(out["images"]) == 3 and "frames" not in out
    assert out["question"] == "[img1] then [img2][img3]?"
    parts = prompt_messages(out)[0]["content"]
    assert [p["type"] for p in parts] == ["image", "text", "image", "image", "text"]
    plain = {"question": "2+2?"}
    assert expand_videos(plain) is plain
    pre = {"question": "Order?", "images": ["f1.png", "f2.png"], "frames": True, "videos": [clip]}
    assert expand_videos(pre) is pre                              # pre-extracted frames
    with pytest.raises(ValueError, match=r"`videos`\[1\].*gone.mp4"):
        expand_videos({"question": "?", "videos": [clip, str(tmp_path / "gone.mp4")]})


def test_expand_videos_in_messages(clip):
    parts = [{"type": "video", "video": clip}, {"type": "text", "text": "Colours?"}]
    out = expand_videos({"messages": [{"role": "user", "content": parts}]}, 16, 1)
    content = out["messages"][0]["content"]
    assert [p["type"] for p in content] == ["image"] * 4 + ["text"]
    assert [_png_colour(p["image"]) for p in content[:4]] == NAMES
    sharegpt = {"messages": [{"role": "user", "content": "<video>Colours?"}], "videos": [clip]}
    out = expand_videos(sharegpt, 16, 1)
    assert out["messages"][0]["content"] == "<image>" * 4 + "Colours?" and out["frames"] is True
    assert len(out["images"]) == 4


def test_shuffled_is_a_seeded_permutation_never_the_identity(clip):
    record = expand_videos({"question": "?", "videos": [clip]}, 16, 2)
    a, perm = shuffled(record, seed=3)
    b, again = shuffled(record, seed=3)
    assert perm == again and a == b
    assert sorted(perm) == list(range(8)) and perm != list(range(8))
    assert a["images"] == [record["images"][i] for i in perm]
    assert a["frame_times"] == [record["frame_times"][i] for i in perm]
    assert record["frame_times"] == sorted(record["frame_times"])  # the original is untouched
    assert any(shuffled(record, s)[1] != perm for s in range(1, 10))
    two = {"images": ["x", "y"], "frames": True, "frame_times": [0.0, 1.0]}
    assert all(shuffled(two, s)[1] == [1, 0] for s in range(20))  # identity redrawn as rotation
    with pytest.raises(ValueError):
        shuffled({"images": ["x"]}, 0)
