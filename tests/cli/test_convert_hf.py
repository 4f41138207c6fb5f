"""thinkpipe convert (and eval) with Hugging Face datasets: save_to_disk folders and hf:NAME."""
import base64
import io
import json

import pytest

from thinkpipe.core.records.jsonl import dumps

datasets = pytest.importorskip("datasets")


def png(color="red") -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buf, "PNG")
    return buf.getvalue()


PNG64 = base64.b64encode(png()).decode()
# one column order for all records (Arrow has one), nested fields, absent vs null, unicode,
# an integer beyond 64 bits, inline images (thinkpipe's {path, bytes} order) and a path
RECORDS = [
    {"id": "a", "question": "2+2 ≟ 四", "meta": {"src": ["x", 1], "k": None}, "n": 1,
     "images": [{"path": None, "bytes": PNG64}]},
    {"id": "b", "question": None, "meta": {"src": []}, "images": ["rel/pic.png"], "big": 2**70},
    {"id": "c", "n": 2.5},
]
DATA = b"".join(dumps(r) for r in RECORDS)


@pytest.fixture
def offline(tmp_path):
    return {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
            "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets")}


def test_jsonl_to_folder_to_jsonl_is_byte_identical(cli, tmp_path, offline):
    src, out = tmp_path / "in.jsonl", tmp_path / "ds"
    src.write_bytes(DATA)
    r = cli(["thinkpipe", "convert", str(src), "--format", "hf", "-o", str(out)], env=offline)
    assert r.rc == 0, r.stderr
    assert (out / "data-00000-of-00001.arrow").is_file() and (out / "state.json").is_file()
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 3 and ds[0]["images"][0].size == (4, 3)
    back = cli(["thinkpipe", "convert", str(out)], env=offline)
    assert back.rc == 0 and back.out == DATA


def test_bytes_first_refs_come_back_path_first(cli, tmp_path, offline):
    """datasets' own {bytes, path} order comes back in thinkpipe's {path, bytes} order (as
    through Parquet): the same JSON value, not the same bytes."""
    out = tmp_path / "ds"
    swapped = tmp_path / "swapped.jsonl"
    swapped.write_text(json.dumps({"images": [{"bytes": PNG64, "path": None}]}) + "\n")
    assert cli(["thinkpipe", "convert", str(swapped), "--format", "hf", "-o", str(out)],
               env=offline).rc == 0
    back = cli(["thinkpipe", "convert", str(out)], env=offline).out
    assert json.loads(back) == json.loads(swapped.read_text())
    assert back.startswith(b'{"images":[{"path":null,"bytes":"iVBOR')


def test_embedded_media_paths_survive_the_folder(cli, tmp_path, offline):
    (tmp_path / "pic.png").write_bytes(png("green"))
    (tmp_path / "in.jsonl").write_text('{"id": "1", "images": ["pic.png"]}\n')
    embedded = cli(["thinkpipe", "convert", "in.jsonl", "--embed-media"], cwd=tmp_path, env=offline)
    r = cli(["thinkpipe", "convert", "in.jsonl", "--embed-media", "--format", "hf", "-o", "ds"],
            cwd=tmp_path, env=offline)
    assert r.rc == 0, r.stderr
    back = cli(["thinkpipe", "convert", "ds"], cwd=tmp_path, env=offline)
    assert back.out == embedded.out and b'"path":"pic.png","bytes":"iVBOR' in back.out
    image = datasets.load_from_disk(str(tmp_path / "ds"))[0]["images"][0]
    assert image.convert("RGB").getpixel((0, 0)) == (0, 128, 0)


def test_hf_input_with_shard_and_limit(cli, tmp_path, offline):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "test.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(10)))
    r = cli(["thinkpipe", "convert", f"hf:{repo}@test", "--shard", "2/3", "--limit", "2"],
            env=offline)
    assert r.rc == 0, r.stderr
    assert r.text == '{"i":1}\n{"i":4}\n'
    datasets.Dataset.from_dict({"i": list(range(10))}).save_to_disk(str(tmp_path / "ds"))
    r = cli(["thinkpipe", "convert", str(tmp_path / "ds"), "--shard", "1/4", "--select", "i"],
            env=offline)
    assert r.text == '{"i":0}\n{"i":4}\n{"i":8}\n'


def test_missing_hub_dataset_is_exit_66_in_one_line(cli, offline):
    r = cli(["thinkpipe", "convert", "hf:nobody/nothing:cfg@test"], env=offline)
    assert r.rc == 66 and r.out == b""
    assert r.stderr.splitlines() == [
        "convert: error: hf:nobody/nothing: not available (offline and not in the local cache; "
        "run once online, or unset HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)"]


def test_folder_output_needs_a_folder_and_spares_user_files(cli, tmp_path, offline):
    for extra in ([], ["-o", "-"]):
        r = cli(["thinkpipe", "convert", "--format", "hf", *extra], DATA, env=offline)
        assert r.rc == 2 and "--format hf writes a folder: give -o DIR" in r.stderr
        assert r.out == b""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("x")
    r = cli(["thinkpipe", "convert", "--format", "hf", "-o", str(mine)], DATA, env=offline)
    assert r.rc == 73 and "not a datasets save_to_disk folder" in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and (mine / "keep.txt").exists()
    r = cli(["thinkpipe", "convert", str(tmp_path)], env=offline)
    assert r.rc == 66 and "is a directory, not a record file" in r.stderr


def test_eval_scores_a_folder_and_an_hf_input(cli, tmp_path, offline):
    preds = [{"id": "1", "options": ["a", "b"], "answer": "B", "response": "<answer>B</answer>"},
             {"id": "2", "options": ["a", "b"], "answer": "A", "response": "<answer>B</answer>"}]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    assert cli(["thinkpipe", "convert", "p.jsonl", "--format", "hf", "-o", "ds"], cwd=tmp_path,
               env=offline).rc == 0
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.jsonl").write_text((tmp_path / "p.jsonl").read_text())
    for source in ("ds", f"hf:{repo}"):
        r = cli(["thinkpipe", "eval", source], cwd=tmp_path, env=offline)
        assert r.rc == 0, r.stderr
        assert [json.loads(x)["status"] for x in r.out.splitlines()] == ["correct", "incorrect"]
