"""Media references: embedding, writing out, and the reference forms Parquet can hold."""
import base64
import os

import pytest

from thinkpipe.core.errors import RecordError
from thinkpipe.core.records import ErrorPolicy, media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_is_ref():
    assert media.is_ref("a.png")
    assert media.is_ref({"path": None, "bytes": base64.b64encode(PNG).decode()})
    assert media.is_ref({"path": "a", "bytes": PNG})
    assert not media.is_ref({"path": "a", "bytes": None})   # would come back as a plain path
    assert not media.is_ref({"path": "a"})
    assert not media.is_ref({"path": "a", "bytes": "not base64!"})
    assert not media.is_ref(3)


def test_embed_then_write_to_dir_round_trips(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.png").write_bytes(PNG)
    rec = {"images": ["a.png"], "messages": [
        {"role": "user", "content": [{"type": "image", "image": "a.png"}, {"type": "text", "text": "?"}]}]}
    media.map_refs(rec, media.embed)
    assert media.load_bytes(rec["images"][0]) == PNG
    assert media.load_bytes(rec["messages"][0]["content"][0]["image"]) == PNG
    media.map_refs(rec, media.writer_to_dir("m"))
    path = rec["images"][0]
    assert path.startswith("m" + os.sep) and path.endswith(".png")
    assert open(path, "rb").read() == PNG
    assert rec["messages"][0]["content"][0]["image"] == path


def test_extension_from_magic_bytes():
    assert media.extension(PNG) == ".png"
    assert media.extension(b"RIFF\x00\x00\x00\x00WAVEfmt ") == ".wav"
    assert media.extension(b"??") == ".bin"
    assert media.extension(b"??", "x.JPEG") == ".jpeg"


def test_missing_media_is_a_record_error_with_location(tmp_path):
    recs = [{"images": [str(tmp_path / "missing.png")]}]
    with pytest.raises(RecordError, match="here:7: media: .*missing.png"):
        list(media.map_records(recs, media.embed, ErrorPolicy(), lambda: "here:7"))
    policy = ErrorPolicy.parse("skip")
    assert list(media.map_records(recs, media.embed, policy, lambda: "here:7")) == []
    assert policy.skipped == 1


def test_a_failed_record_is_left_unchanged(tmp_path):
    (tmp_path / "ok.png").write_bytes(PNG)
    rec = {"images": [str(tmp_path / "ok.png"), str(tmp_path / "missing.png")]}
    with pytest.raises(OSError):
        media.map_refs(rec, media.embed)
    assert rec["images"][0] == str(tmp_path / "ok.png")
