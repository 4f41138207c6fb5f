"""Official benchmark files -> thinkpipe records (`thinkpipe eval --benchmark NAME FILE`).

    mme_reasoning  MME-Reasoning TSV (index, image/image_path, question, answer, question_type,
                   prompt_id, function_id, special_info, capability, reasoning_type[, prediction]);
                   capability and reasoning_type become lists (an item counts in each)
    av_odyssey     AV-Odyssey / DeafTest JSON or JSONL (question_id, question_type_id, data_type,
                   subfield, question with [img1]/[audio1] placeholders, options, answer,
                   image_k, audio_k, video_1[, prediction]); "A: " option prefixes removed
    deaftest       DeafTest: thinkpipe's generated items (deaftest.py, `--make N --media-dir DIR`)
                   as they are, or the official parquet read as av_odyssey rows; groups by task
                   and plots accuracy against `difficulty`
    vsibench       VSI-Bench rows (id, dataset, scene_name, question, options, question_type,
                   ground_truth[, prediction]); numeric types score by MRA; rel-direction levels
                   merge into one task for the macro average
    vilasr         ViLaSR `eval/infer.py` results (question, options, problem_type, answer,
                   image_path, data_type, grid_size, model_output)
    video_r1       Video-R1 `Evaluation/eval_*.json` and `eval_bench.py` outputs (problem_id,
                   problem, problem_type, options "A. ...", solution "<answer>X</answer>",
                   path, data_type, data_source[, output])
Files may be TSV, a JSON array, JSONL (plain or gzip) or Parquet, told apart by their bytes;
`-` or no file reads stdin. Fields not named here pass through.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import tempfile
from typing import Iterator

from thinkpipe.core.errors import RecordError
from thinkpipe.core.literal import parse_value
from thinkpipe.core.records import RecordReader, sniff
from thinkpipe.core.records.media import is_canonical_b64
from thinkpipe.core.records.reader import STDIN_NAME, open_input

CAPABILITIES = ("planning and exploring", "calculation", "spatial-temporal",
                "casual chaining analysis", "pattern analysis")
REASONING = ("inductive", "deductive", "abductive")
VSI_MC = {"object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard",
          "object_rel_distance", "route_planning", "obj_appearance_order"}


def _open(path: str):
    """(display name, seekable binary stream, its first bytes). stdin is spooled to a temporary
    file, so it can be sniffed and then read whole, like a file."""
    if path == "-":
        stream = tempfile.TemporaryFile(prefix="thinkpipe-stdin-")
        shutil.copyfileobj(sys.stdin.buffer, stream, 1 << 20)
        stream.seek(0)
        name = STDIN_NAME
    else:
        name, stream, _ = open_input(path)
    head = stream.read(1 << 16)
    stream.seek(0)
    return name, stream, head


def _is_tsv(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return sniff(head) == "jsonl" and not first.lstrip().startswith((b"{", b"[")) and b"\t" in first


def rows(path: str, policy) -> Iterator[tuple[str, dict]]:
    """(where, row) from a TSV, a JSON array, or a record file (JSONL, gzip, Parquet), told
    apart by their bytes, not their names; `-` is stdin."""
    name, stream, head = _open(path)
    with stream:
        if _is_tsv(head):
            csv.field_size_limit(sys.maxsize)
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            for i, row in enumerate(csv.DictReader(text, delimiter="\t"), 2):
                yield f"{name}:{i}", row
            return
        if sniff(head) == "jsonl" and head.lstrip().startswith(b"["):
            try:
                data = json.load(io.TextIOWrapper(stream, encoding="utf-8-sig"))
            except ValueError as e:
                raise RecordError(name, f"invalid JSON: {e}") from None
            for i, row in enumerate(data, 1):
                yield f"{name}:item {i}", row
            return
        reader = RecordReader([], policy)
        for row in reader.records_of(name, stream, sniff(head)):
            yield reader.where, row


def _contained(value, names) -> list[str]:
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    return [n for n in names if n in text]


IMAGE_MAGIC = ("iVBORw0KGgo", "/9j/", "R0lGOD", "UklGR", "Qk")    # PNG, JPEG, GIF, WebP, BMP


def _image(value):
    """The TSV's `image` is base64 (VLMEvalKit's layout) or a path (the official fork's)."""
    text = str(value)
    if text.startswith(IMAGE_MAGIC) and is_canonical_b64(text):
        return {"path": None, "bytes": text}
    return value


def mme_reasoning(row: dict) -> dict:
    rec = dict(row)
    rec["id"] = str(row.get("index", row.get("id", "")))
    qtype = str(row.get("question_type", "")).strip()
    rec["question_type"] = {"choice": "multiple_choice", "open": "math"}.get(qtype, qtype or "math")
    if row.get("function_id") in ("choice_function", "open_function", None, ""):
        rec.pop("function_id", None)
    rec["capability"] = _contained(row.get("capability"), CAPABILITIES)
    rec["reasoning_type"] = _contained(row.get("reasoning_type"), REASONING)
    images = row.get("image_path") or row.get("image")
    if isinstance(images, str) and images.lstrip().startswith("["):   # multi-image: a list literal
        images = parse_value(images)
    if images and "images" not in rec:
        items = images if isinstance(images, list) else [images]
        rec["images"] = [_image(i) for i in items]
    rec.pop("image", None)
    if "prediction" in row and "response" not in rec:
        rec["response"] = row["prediction"]
    rec["benchmark"] = "mme_reasoning"
    return rec


def av_odyssey(row: dict) -> dict:
    rec = dict(row)
    rec["id"] = str(row.get("question_id", row.get("id", "")))
    options = row.get("options") or []
    rec["options"] = [o[3:] if isinstance(o, str) and len(o) > 3 and o[1:3] == ": " else o
                      for o in options]
    rec["question_type"] = "multiple_choice"
    for kind, keys in (("images", [f"image_{k}" for k in range(1, 5)]),
                       ("audios", [f"audio_{k}" for k in range(1, 5)]), ("videos", ["video_1"])):
        refs = [row[k] for k in keys if row.get(k)]
        if refs:
            rec[kind] = refs
        for k in keys:
            rec.pop(k, None)
    if "prediction" in row and "response" not in rec:
        rec["response"] = row["prediction"]
    rec["benchmark"] = "av_odyssey"
    return rec


def deaftest(row: dict) -> dict:
    """thinkpipe's generated items (deaftest.py) pass through; the official parquet is read as
    AV-Odyssey rows (it shares their schema)."""
    rec = av_odyssey(row) if "question_id" in row else dict(row)
    rec.setdefault("question_type", "multiple_choice")
    rec["benchmark"] = "deaftest"
    return rec


def vsibench(row: dict) -> dict:
    rec = dict(row)
    vtype = str(row.get("question_type", ""))
    rec["vsi_type"] = "object_rel_direction" if vtype.startswith("object_rel_direction") else vtype
    rec["question_type"] = "multiple_choice" if vtype in VSI_MC else "regression"
    if "ground_truth" in row and "answer" not in rec:
        rec["answer"] = row["ground_truth"]
    if row.get("dataset") and row.get("scene_name") and "videos" not in rec:
        rec["videos"] = [f"{row['dataset']}/{row['scene_name']}.mp4"]
    if "prediction" in row and "response" not in rec:
        rec["response"] = row["prediction"]
    rec["benchmark"] = "vsibench"
    return rec


def vilasr(row: dict) -> dict:
    rec = dict(row)
    rec["question_type"] = str(row.get("problem_type") or row.get("question_type") or "")
    if row.get("image_path") and "images" not in rec:
        rec["images"] = row["image_path"] if isinstance(row["image_path"], list) else [row["image_path"]]
    if "model_output" in row and "response" not in rec:
        rec["response"] = row["model_output"]
    rec["benchmark"] = "vilasr"
    return rec


def _strip_letter(option):
    """Video-R1 writes options as "A. text"; the text alone is the option."""
    if isinstance(option, str) and len(option) > 2 and option[1] in ".:)" and option[0].isalpha():
        return option[2:].strip()
    return option


def video_r1(row: dict) -> dict:
    rec = dict(row)
    rec["id"] = str(row.get("problem_id", row.get("id", "")))
    if "problem" in row and "question" not in rec:
        rec["question"] = row["problem"]
    rec["question_type"] = str(row.get("problem_type") or row.get("question_type") or "")
    if isinstance(row.get("options"), list):
        rec["options"] = [_strip_letter(o) for o in row["options"]]
    solution = str(row.get("solution", ""))
    if "answer" not in rec and solution:
        inner = solution.split("<answer>", 1)[-1].split("</answer>", 1)[0]
        rec["answer"] = inner.strip()
    if row.get("path") and not any(k in rec for k in ("images", "videos")):
        rec["videos" if row.get("data_type") == "video" else "images"] = [row["path"]]
    if "output" in row and "response" not in rec:
        rec["response"] = row["output"]
    rec["benchmark"] = "video_r1"
    return rec


LOADERS = {"mme_reasoning": mme_reasoning, "av_odyssey": av_odyssey, "deaftest": deaftest,
           "vsibench": vsibench,
           "vilasr": vilasr, "video_r1": video_r1}
# per benchmark: the fields its official summary groups by, and a field to macro-average over
DEFAULT_GROUPS = {"mme_reasoning": (("capability", "reasoning_type"), None),
                  "av_odyssey": (("subfield",), None), "deaftest": (("task",), None),
                  "vsibench": ((), "vsi_type"),
                  "vilasr": (("data_type",), None),
                  "video_r1": (("data_source", "question_type"), None)}


def load(benchmark: str, paths: list[str], policy) -> Iterator[tuple[str, dict]]:
    convert = LOADERS[benchmark]
    for path in paths or ["-"]:
        for where, row in rows(path, policy):
            try:
                yield where, convert(row)
            except (TypeError, ValueError, AttributeError) as e:
                policy.handle(where, f"not a {benchmark} row: {e}", json.dumps(row, default=str).encode())
