"""Records -> conversations."""
import pytest

from thinkpipe.core.models.chat import flatten_text, image_refs, prompt_messages


def test_question_with_options_and_images():
    msgs = prompt_messages({"question": "Which?", "options": ["red", "blue"], "images": ["a.png"]},
                           system="Be brief.")
    assert msgs[0] == {"role": "system", "content": "Be brief."}
    assert msgs[1]["content"] == [{"type": "image", "image": "a.png"},
                                  {"type": "text", "text": "Which?\nA. red\nB. blue"}]
    assert image_refs(msgs) == ["a.png"]


def test_messages_drop_trailing_assistant_turns():
    rec = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert prompt_messages(rec) == [{"role": "user", "content": "q"}]
    with pytest.raises(ValueError):
        prompt_messages({"messages": [{"role": "assistant", "content": "a"}]})
    with pytest.raises(ValueError):
        prompt_messages({"answer": "no question"})


def test_flatten_text_joins_parts():
    msgs = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert flatten_text(msgs) == [{"role": "user", "content": "ab"}]


def test_av_odyssey_placeholders_put_each_medium_where_it_is_named():
    from thinkpipe.core.models.chat import question_messages
    rec = {"question": "Which instrument in [img1] makes the sound in [audio1]? Or [audio2]?",
           "images": ["a.png"], "audios": ["x.wav", "y.wav"], "options": ["violin", "drum"]}
    parts = question_messages(rec)[-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image", "text", "audio", "text", "audio", "text"]
    assert parts[1]["image"] == "a.png" and parts[3]["audio"] == "x.wav" and parts[5]["audio"] == "y.wav"
    assert parts[-1]["text"].startswith("?\nA. violin")
    # media no placeholder names come first, in field order; no placeholders: the old layout
    parts = question_messages({"question": "Q [audio1]", "images": ["a.png"], "audios": ["x.wav"]})[-1]["content"]
    assert [p["type"] for p in parts] == ["image", "text", "audio"]
    parts = question_messages({"question": "Q", "images": ["a.png"]})[-1]["content"]
    assert parts == [{"type": "image", "image": "a.png"}, {"type": "text", "text": "Q"}]
    with pytest.raises(ValueError, match=r"\[audio2\].*1 `audios`"):
        question_messages({"question": "[audio2]", "audios": ["x.wav"]})
