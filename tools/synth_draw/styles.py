"""Record layouts: thinkpipe's (DESIGN.md fields, chat parts with media references) and
LLaMA-Factory's sharegpt (`messages` with `<image>` placeholders plus an `images` path list,
the layout of its `mllm_demo.json`; register it in dataset_info.json with
`"formatting": "sharegpt", "columns": {"messages": "messages", "images": "images"},
"tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
"assistant_tag": "assistant", "system_tag": "system"}`).
"""
from __future__ import annotations

from . import canvas
from .task import Task


def record_id(config, task: Task, index: int) -> str:
    return f"{task.kind}-s{config.seed}-{index:06d}"


def to_record(task: Task, messages: list[dict], config, index: int) -> dict:
    """thinkpipe layout; every image is {"path": "<id>-<k>.png", "bytes": PNG bytes}."""
    rid = record_id(config, task, index)
    refs: dict[int, dict] = {}

    def ref(image) -> dict:
        if id(image) not in refs:
            refs[id(image)] = {"path": f"{rid}-{len(refs) + 1}.png", "bytes": canvas.png(image)}
        return refs[id(image)]

    out_messages = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [{"type": "image", "image": ref(p["image"])} if p["type"] == "image" else p
                       for p in content]
        out_messages.append({"role": m["role"], "content": content})
    record = {"id": rid, "task": task.kind, "question": task.question}
    if task.options:
        record["options"] = task.options
    record.update({"answer": task.answer, "question_type": task.question_type,
                   "images": [ref(task.image)], "messages": out_messages,
                   "reflection": task.reflection,
                   "num_turns": sum(m["role"] == "assistant" for m in messages)})
    if task.kind == "maze":
        record["grid_size"] = task.meta["grid_size"]
    record["meta"] = {k: v for k, v in task.meta.items() if k != "grid_size"}
    return record


def to_sharegpt(record: dict) -> dict:
    """thinkpipe record (media already written to files) -> LLaMA-Factory sharegpt."""
    images, messages = [], []
    for m in record["messages"]:
        content = m["content"]
        if isinstance(content, list):
            text = ""
            for part in content:
                if part["type"] == "image":
                    images.append(part["image"])
                    text += "<image>"
                else:
                    text += part.get("text", "")
            content = text
        messages.append({"role": m["role"], "content": content})
    keep = {k: record[k] for k in ("id", "task", "answer", "question_type", "reflection")}
    return {**keep, "messages": messages, "images": images}
