"""Audio-text models: WAV decoding, band-limited resampling, tiny Qwen2-Audio/Omni end to end."""
from __future__ import annotations

import json
import struct
import wave

import numpy as np
import pytest

from thinkpipe.core.models import Sampling, build_tiny, encode, generate, load, render
from thinkpipe.core.models.audio import decode_wav, load_audio, resample
from thinkpipe.core.models.chat import prompt_messages

QUESTION = "Which audio is louder? The first audio [audio1] or the second audio [audio2]?"


def tone(freq: float, rate: int, secs: float = 1.0, amp: float = 1.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(rate * secs)) / rate)


def write_wav(path, x: np.ndarray, rate: int = 44100, width: int = 2, channels: int = 1) -> str:
    """Integer PCM through the stdlib writer; x (n,) or (n, channels) in [-1, 1]."""
    x = np.asarray(x).reshape(len(x), -1)
    if x.shape[1] != channels:
        x = np.repeat(x, channels, axis=1)
    if width == 1:
        raw = np.round(x * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        v = np.round(x * (2 ** 23 - 1)).astype("<i4").reshape(-1, 1).view(np.uint8)
        raw = v[:, :3].tobytes()
    else:
        raw = np.round(x * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return str(path)


def float_wav(x: np.ndarray, rate: int, extensible: bool = False) -> bytes:
    """A 32-bit IEEE-float WAV (stdlib `wave` cannot write one), optionally extensible."""
    data = np.asarray(x, dtype="<f4").tobytes()
    if extensible:   # cbSize 22, valid bits, channel mask, subformat GUID (float: 0x0003)
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, rate, rate * 4, 4, 32, 22, 32, 4) + \
            struct.pack("<H14s", 3, b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    else:
        fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + \
        b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def spectrum_peak(y: np.ndarray, rate: int) -> float:
    n = len(y)
    s = np.abs(np.fft.rfft(y * np.hanning(n)))
    return float(np.argmax(s) * rate / n)


# -- resampling --------------------------------------------------------------------------------

def test_a_440_hz_tone_stays_440_hz_at_full_amplitude():
    y = resample(tone(440, 44100), 44100, 16000)
    assert len(y) == 16000 and y.dtype == np.float32
    assert spectrum_peak(y[1000:-1000], 16000) == pytest.approx(440, abs=2)
    expect = tone(440, 16000)
    assert np.abs(y - expect)[200:-200].max() < 1e-3


def test_tones_above_the_new_nyquist_are_removed_not_aliased():
    for freq in (10_000, 15_000, 20_000):   # would alias to 6, 1 and 4 kHz
        y = resample(tone(freq, 44100), 44100, 16000)
        assert np.sqrt(np.mean(y[200:-200] ** 2)) < 1e-3 * np.sqrt(0.5), freq


def test_upsampling_interpolates_and_dc_is_kept():
    y = resample(tone(440, 8000), 8000, 16000)
    assert len(y) == 16000 and np.abs(y - tone(440, 16000))[200:-200].max() < 1e-4
    assert np.allclose(resample(np.ones(4410), 44100, 16000)[50:-50], 1.0, atol=1e-5)
    assert len(resample(np.ones(1000), 48000, 16000)) == 334     # ceil(1000 / 3)
    same = np.arange(5, dtype=np.float64)
    assert np.array_equal(resample(same, 16000, 16000), same.astype(np.float32))


# -- WAV decoding ------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_integer_pcm_of_every_width_decodes_to_the_same_waveform(tmp_path, width):
    x = tone(300, 8000, secs=0.25, amp=0.5)
    y, rate = decode_wav(open(write_wav(tmp_path / "t.wav", x, 8000, width), "rb").read())
    assert rate == 8000 and y.dtype == np.float32 and len(y) == len(x)
    assert np.abs(y - x).max() < (2e-2 if width == 1 else 1e-4)


def test_float_and_extensible_wavs_decode(tmp_path):
    x = tone(300, 22050, secs=0.1, amp=0.7)
    for ext in (False, True):
        y, rate = decode_wav(float_wav(x, 22050, extensible=ext))
        assert rate == 22050 and np.abs(y - x).max() < 1e-6


def test_channels_are_averaged_to_mono(tmp_path):
    left, right = tone(300, 8000, 0.1, 0.5), tone(500, 8000, 0.1, 0.25)
    y, _ = decode_wav(open(write_wav(tmp_path / "s.wav", np.stack([left, right], 1), 8000,
                                     channels=2), "rb").read())
    assert np.abs(y - (left + right) / 2).max() < 1e-4


def test_non_wav_audio_asks_for_a_conversion():
    for data in (b"ID3\x04" + b"\x00" * 40, b"fLaC" + b"\x00" * 40, b""):
        with pytest.raises(ValueError, match="WAV.*ffmpeg"):
            decode_wav(data)
    with pytest.raises(ValueError, match="no fmt or no data"):
        decode_wav(b"RIFF\x04\x00\x00\x00WAVE")


def test_load_audio_reads_paths_and_inline_bytes(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(440, 44100, 0.5))
    by_path = load_audio(path, 16000)
    inline = load_audio({"path": None, "bytes": open(path, "rb").read()}, 16000)
    assert len(by_path) == 8000 and np.array_equal(by_path, inline)


# -- tiny Qwen2-Audio --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def audio_model(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("models") / "qwen2-audio")
    return build_tiny("qwen2-audio", path)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    root = tmp_path_factory.mktemp("wav")
    return [write_wav(root / "loud.wav", tone(440, 44100, 1.0, 0.9)),
            write_wav(root / "quiet.wav", tone(880, 44100, 0.6, 0.1)),
            write_wav(root / "noise.wav", np.random.default_rng(0).uniform(-0.5, 0.5, 30000))]


def records(wavs):
    return [{"question": QUESTION, "audios": [wavs[0], wavs[1]],
             "options": ["the first audio", "the second audio"]},
            {"question": "What do you hear? [audio1]", "audios": [wavs[2]]}]


def test_the_tiny_audio_model_is_a_small_ordinary_folder(audio_model):
    cfg = json.load(open(f"{audio_model['path']}/config.json"))
    assert cfg["model_type"] == "qwen2_audio" and cfg["audio_config"]["num_mel_bins"] == 128
    assert audio_model["parameters"] < 1_000_000
    bundle = load(audio_model["path"])
    assert bundle.media_kinds == ("audio",) and bundle.is_audio and not bundle.is_vlm
    assert bundle.processor.feature_extractor.sampling_rate == 16000


def test_audio_parts_become_audio_tokens_and_features(audio_model, wavs):
    bundle = load(audio_model["path"])
    text, audios = render(bundle, prompt_messages(records(wavs)[0]))
    assert text.count("<|audio_bos|><|AUDIO|><|audio_eos|>") == 2 and "Audio 2: " in text
    assert [len(a) for a in audios] == [16000, 9600]               # 44.1 kHz -> 16 kHz
    batch = encode(bundle, [(text, audios)])
    assert set(batch) >= {"input_ids", "attention_mask", "input_features",
                          "feature_attention_mask"}
    assert batch["input_features"].shape == (2, 128, 3000)
    frames = batch["feature_attention_mask"].sum(-1)               # 100 mel frames a second
    assert frames.tolist() == [100, 60]
    audio_id = bundle.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    encoder_frames = [((f - 1) // 2 + 1 - 2) // 2 + 1 for f in frames.tolist()]   # conv, pool
    assert int((batch["input_ids"] == audio_id).sum()) == sum(encoder_frames) == 25 + 15
    swapped = encode(bundle, [render(bundle, prompt_messages(
        {"question": QUESTION, "audios": [wavs[2], wavs[1]]}))])
    assert not np.array_equal(swapped["input_features"][0].numpy(),
                              batch["input_features"][0].numpy())


def test_greedy_batches_are_strings_deterministic_and_match_single_runs(audio_model, wavs):
    bundle = load(audio_model["path"])
    convs = [prompt_messages(r) for r in records(wavs)]
    greedy = Sampling(temperature=0, max_new_tokens=8)
    first, second = generate(bundle, convs, greedy), generate(bundle, convs, greedy)
    assert all(isinstance(c.text, str) for c in first)
    assert [c.token_ids for c in first] == [c.token_ids for c in second]
    assert [c.token_ids for c in first] == [generate(bundle, [c], greedy)[0].token_ids
                                            for c in convs]


def test_sampling_never_emits_audio_placeholders(audio_model, wavs):
    from thinkpipe.core.models.generation import vision_token_ids
    bundle = load(audio_model["path"])
    banned = {bundle.tokenizer.convert_tokens_to_ids(t)
              for t in ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")}
    assert banned <= set(vision_token_ids(bundle))
    convs = [prompt_messages(records(wavs)[1])] * 4
    out = generate(bundle, convs, Sampling(temperature=5.0, max_new_tokens=30), seeds=[1, 2, 3, 4])
    assert not banned & {t for c in out for t in c.sampled_ids}


def test_models_refuse_media_they_cannot_take(audio_model, tiny_models, wavs, red_png):
    audio = prompt_messages({"question": "Hear [audio1]", "audios": [wavs[0]]})
    with pytest.raises(ValueError, match="text-only"):
        render(load(tiny_models["llama"]), audio)
    with pytest.raises(ValueError, match="audio"):
        render(load(tiny_models["qwen2-vl"]), audio)
    with pytest.raises(ValueError, match="images.*takes audios only"):
        render(load(audio_model["path"]), prompt_messages({"question": "?", "images": [red_png]}))


def test_an_audio_model_refuses_non_wav_audio(audio_model, tmp_path):
    (tmp_path / "x.mp3").write_bytes(b"ID3\x04" + b"\x00" * 64)
    with pytest.raises(ValueError, match="ffmpeg"):
        render(load(audio_model["path"]),
               prompt_messages({"question": "?", "audios": [str(tmp_path / "x.mp3")]}))


@pytest.mark.slow
def test_a_tiny_omni_thinker_generates_from_audio(tmp_path, wavs):
    info = build_tiny("qwen2.5-omni", str(tmp_path / "omni"))
    assert json.load(open(tmp_path / "omni" / "config.json"))["model_type"] == "qwen2_5_omni"
    assert info["parameters"] < 1_000_000
    bundle = load(info["path"])
    assert bundle.media_kinds == ("audio",)
    assert type(bundle.model).__name__ == "Qwen2_5OmniThinkerForConditionalGeneration"
    convs = [prompt_messages(r) for r in records(wavs)]
    greedy = Sampling(temperature=0, max_new_tokens=6)
    out = generate(bundle, convs, greedy)
    assert [len(c.token_ids) for c in out] == [6, 6]
    assert [c.token_ids for c in out] == [c.token_ids for c in generate(bundle, convs, greedy)]


@pytest.mark.slow
def test_init_model_then_eval_on_audio_records(cli, tmp_path, wavs):
    model = tmp_path / "tiny-audio"
    r = cli(["thinkpipe", "init-model", "--arch", "qwen2-audio", str(model)])
    assert r.rc == 0 and json.loads(r.out)["arch"] == "qwen2-audio", r.stderr
    lines = [{"id": str(i), "question": QUESTION, "audios": pair,
              "options": ["the first audio", "the second audio"], "answer": answer,
              "question_type": "multiple_choice"}
             for i, (pair, answer) in enumerate([([wavs[0], wavs[1]], "A"),
                                                 ([wavs[1], wavs[0]], "B")])]
    data = tmp_path / "louder.jsonl"
    data.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = cli(["thinkpipe", "eval", "--model", str(model), "--max-new-tokens", "8", str(data)])
    assert r.rc == 0, r.stderr
    out = [json.loads(line) for line in r.text.splitlines()]
    assert len(out) == 2 and all("status" in o and "model" in o for o in out)
