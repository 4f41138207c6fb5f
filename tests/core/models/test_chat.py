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
