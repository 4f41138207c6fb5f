"""Hugging Face `datasets` as record inputs and outputs: save_to_disk folders and hf:NAME."""
import base64
import io
import json
import os
import subprocess
import sys

import pytest

from thinkpipe.core.errors import InputError, OutputError, UsageError
from thinkpipe.core.records import RecordWriter, hf_read, hf_write, read_records
from thinkpipe.core.records.arrow_columns import same
from thinkpipe.core.records.hf import parse_hub_spec
from thinkpipe.core.records.jsonl import dumps

datasets = pytest.importorskip("datasets")


def png(color="red", size=(3, 2)) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


PNG64 = base64.b64encode(png()).decode()
RECORDS = [
    {"id": "1", "question": "héllo ✓ 你好", "meta": {"a": [1, 2], "b": None}, "n": 1,
     "images": [{"path": None, "bytes": PNG64}], "audios": [{"path": "a.wav", "bytes": PNG64}]},
    {"id": "2", "question": None, "meta": {"c": "x"}, "n": 2.5, "images": ["pic.png"]},
    {"id": "3", "images": [{"path": "p.png", "bytes": PNG64}], "big": 2**70, "empty": {}},
]


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No network, and a cache of this test's own (datasets read its config at import)."""
    cache = str(tmp_path / "hf-cache")
    for var, value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"),
                       ("HF_HOME", str(tmp_path / "hf-home")), ("HF_DATASETS_CACHE", cache)):
        monkeypatch.setenv(var, value)
    import huggingface_hub.constants
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def write_folder(path, records):
    with RecordWriter(str(path), "hf") as out:
        for r in records:
            out.write(r)


def test_round_trip_keeps_every_field_and_value(tmp_path):
    write_folder(tmp_path / "ds", RECORDS)
    assert sorted(os.listdir(tmp_path / "ds")) == [
        "data-00000-of-00001.arrow", "dataset_info.json", "state.json"]
    back = list(read_records([str(tmp_path / "ds")]))
    assert len(back) == 3 and all(same(a, b) for a, b in zip(RECORDS, back)), back
    assert [dumps(r) for r in back] == [dumps(r) for r in RECORDS]
    assert "question" not in back[2] and back[1]["question"] is None    # absent vs null


def test_state_json_has_the_keys_datasets_writes(tmp_path):
    write_folder(tmp_path / "ours", RECORDS)
    datasets.Dataset.from_dict({"a": [1]}).save_to_disk(str(tmp_path / "theirs"))
    ours, theirs = (json.loads((tmp_path / d / "state.json").read_text())
                    for d in ("ours", "theirs"))
    assert ours.keys() == theirs.keys()
    assert ours["_data_files"] == [{"filename": "data-00000-of-00001.arrow"}]
    info = (json.loads((tmp_path / d / "dataset_info.json").read_text()) for d in ("ours", "theirs"))
    assert next(info).keys() == next(info).keys()


def test_load_from_disk_gives_pil_images_and_plain_audio_structs(tmp_path):
    write_folder(tmp_path / "ds", RECORDS)
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    assert len(ds) == 3 and ds.features["images"] == datasets.List(datasets.Image())
    image = ds[0]["images"][0]
    assert image.size == (3, 2) and image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert ds[0]["audios"] == [{"bytes": png(), "path": "a.wav"}]
    assert ds[0]["id"] == "1" and ds[2]["big"] == str(2**70)   # JSON text where Arrow cannot


def test_a_folder_written_by_datasets_reads_as_plain_rows_with_media_refs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.png").write_bytes(png())      # save_to_disk embeds a local file's bytes
    features = datasets.Features({"q": datasets.Value("string"), "n": datasets.Value("int64"),
                                  "image": datasets.Image(),
                                  "images": datasets.List(datasets.Image())})
    ds = datasets.Dataset.from_dict({
        "q": ["a", "b"], "n": [1, 2],
        "image": [{"bytes": png(), "path": None}, {"bytes": None, "path": "x.png"}],
        "images": [[{"bytes": png("blue"), "path": "b.png"}], []]}, features=features)
    ds.save_to_disk(str(tmp_path / "ds"))
    reader = read_records([str(tmp_path / "ds")])
    back = list(reader)
    assert back[0] == {"q": "a", "n": 1, "image": {"path": None, "bytes": png()},
                       "images": [{"path": "b.png", "bytes": png("blue")}]}
    assert back[1] == {"q": "b", "n": 2, "image": {"path": "x.png", "bytes": png()}, "images": []}
    assert list(back[0]["image"]) == ["path", "bytes"]     # thinkpipe's order, as from Parquet
    assert reader.where == f"{tmp_path / 'ds'}:2"
    line = json.loads(dumps(back[0]))
    assert base64.b64decode(line["image"]["bytes"]) == png()   # JSON output: base64
    restore = hf_read.media_restorer({"image": {"_type": "Image"}, "n": {"_type": "Value"}})
    row = {"image": {"bytes": None, "path": "y.png"}, "n": {"bytes": None, "path": "z"}}
    restore(row)
    assert row == {"image": "y.png", "n": {"bytes": None, "path": "z"}}   # only media features


def test_dataset_dict_single_split_is_read_and_several_are_refused(tmp_path):
    one = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"a": [1, 2]})})
    one.save_to_disk(str(tmp_path / "one"))
    assert list(read_records([str(tmp_path / "one")])) == [{"a": 1}, {"a": 2}]
    two = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"a": [1]}),
                                "test": datasets.Dataset.from_dict({"a": [9]})})
    two.save_to_disk(str(tmp_path / "two"))
    with pytest.raises(InputError, match=r"splits train, test; .*DIR/SPLIT"):
        list(read_records([str(tmp_path / "two")]))
    assert list(read_records([str(tmp_path / "two" / "test")])) == [{"a": 9}]
    with pytest.raises(InputError, match="is a directory, not a record file"):
        list(read_records([str(tmp_path)]))


def test_hub_spec_parsing():
    assert parse_hub_spec("hf:openai/gsm8k:main@test") == ("openai/gsm8k", "main", "test")
    assert parse_hub_spec("hf:/data/repo@train[:10]") == ("/data/repo", None, "train[:10]")
    assert parse_hub_spec("hf:squad") == ("squad", None, "train")


def test_hf_local_repository_through_load_dataset(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.jsonl").write_text('{"q": "a", "n": 1}\n{"q": "b", "n": 2}\n')
    (repo / "test.jsonl").write_text('{"q": "t", "n": 3}\n')
    reader = read_records([f"hf:{repo}@test"])
    assert list(reader) == [{"q": "t", "n": 3}] and reader.where == f"hf:{repo}@test:1"
    assert [r["q"] for r in read_records([f"hf:{repo}"])] == ["a", "b"]
    with pytest.raises(InputError, match=r"^hf:.*repo: not available: .*validation") as e:
        list(read_records([f"hf:{repo}@validation"]))
    assert "\n" not in str(e.value)


def test_missing_hub_dataset_offline_is_one_line_input_error():
    with pytest.raises(InputError) as e:
        list(read_records(["hf:no-such-owner/no-such-dataset"]))
    assert str(e.value).startswith("hf:no-such-owner/no-such-dataset: not available (offline")
    assert "\n" not in str(e.value)


def test_a_big_folder_is_streamed_not_materialised(tmp_path, monkeypatch):
    datasets.Dataset.from_dict({"i": list(range(20_000))}).save_to_disk(str(tmp_path / "big"))
    pulled = []
    real = hf_read._slices

    def counting(batch):
        for piece in real(batch):
            pulled.append(piece.num_rows)
            yield piece
    monkeypatch.setattr(hf_read, "_slices", counting)
    it = iter(read_records([str(tmp_path / "big")]))
    assert next(it) == {"i": 0}
    assert sum(pulled) <= 2 * hf_read.BATCH_ROWS        # one batch or so, not 20k rows
    assert sum(1 for _ in it) == 19_999 and sum(pulled) == 20_000


def test_several_shards_keep_the_order(tmp_path, monkeypatch):
    monkeypatch.setattr(hf_write, "MAX_SHARD_BYTES", 1)
    from thinkpipe.core.records import parquet
    monkeypatch.setattr(parquet, "BATCH_ROWS", 10)
    write_folder(tmp_path / "ds", [{"i": i} for i in range(35)])
    files = sorted(f for f in os.listdir(tmp_path / "ds") if f.endswith(".arrow"))
    assert files == [f"data-{k:05d}-of-00004.arrow" for k in range(4)]
    assert [r["i"] for r in read_records([str(tmp_path / "ds")])] == list(range(35))
    assert datasets.load_from_disk(str(tmp_path / "ds"))["i"][:] == list(range(35))


def test_output_is_atomic_and_never_clobbers_user_files(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="give -o DIR"):
        RecordWriter(None, "hf")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="not a datasets save_to_disk folder"):
        RecordWriter(str(mine), "hf")
    assert (mine / "notes.txt").read_text() == "keep"
    write_folder(tmp_path / "ds", [{"v": 1}])
    with monkeypatch.context() as m:
        m.setattr(hf_write.HfWriter, "_write_data", lambda self, schema: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            write_folder(tmp_path / "ds", [{"v": 2}])
    assert list(read_records([str(tmp_path / "ds")])) == [{"v": 1}]   # the old one, intact
    assert sorted(os.listdir(tmp_path)) == ["ds", "mine"]              # no temporary folder
    write_folder(tmp_path / "ds", [{"v": 3}])                          # a dataset is replaced
    assert list(read_records([str(tmp_path / "ds")])) == [{"v": 3}]
    assert sorted(os.listdir(tmp_path)) == ["ds", "mine"]


def test_plain_jsonl_imports_neither_pyarrow_nor_datasets(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n')
    code = ("import sys; from thinkpipe.core.records import read_records, RecordWriter; "
            f"w = RecordWriter({str(tmp_path / 'y.jsonl')!r}); "
            f"[w.write(r) for r in read_records([{str(p)!r}])]; w.close(); "
            "print(sorted(m for m in ('pyarrow', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
