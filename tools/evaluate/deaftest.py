"""DeafTest-style listening benchmark, generated offline and reproducibly.

DeafTest (AV-Odyssey, Gong et al. 2024) asks audio language models questions any listener
answers at once -- which of two sounds is louder, which is higher, how many sounds there are --
and finds that many models are near chance: they do not hear basic differences. The paper
publishes a few example items but not its generation recipe (its loudness example is a 440 Hz,
3.1 s tone whose second clip is hard-clipped after a +24 dB gain, so "louder" is confounded with
distortion). This module builds items of the same kinds from clean pure tones instead: level
differences with no clipping, frequency differences at equal level, bursts separated by gaps of
at least 150 ms (one phase-coherent sine, gated). Each task walks a difficulty ladder from easy
to just-noticeable, so a report can show where a model stops hearing the difference.

    make(n, media_dir, seed=0, tasks=("loudness", "pitch", "count"))
        writes 16-bit PCM mono 44.1 kHz WAVs under media_dir and returns n records, tasks
        interleaved round-robin; item k depends only on (seed, k, tasks), not on n, and the
        same arguments give byte-identical WAVs
    measure(path)        level_dbfs (RMS, full-scale sine = -3.01), freq_hz (FFT peak with
                         parabolic interpolation), duration_s, sample_rate, sample_width, channels
    count_bursts(path)   number of tone bursts, from a thresholded RMS envelope

Record (one per item):
    id "deaftest-00007", benchmark "deaftest", task "loudness" | "pitch" | "count",
    question_type "multiple_choice", question (with [audio1]/[audio2] placeholders),
    audios [os.path.join(media_dir, "deaftest-00007-1.wav"), ...] in presentation order,
    options ["the first audio", "the second audio"] or four consecutive counts as strings,
    answer "A" | "B" | ..., stimuli [{level_dbfs, freq_hz, duration_s[, count]} per WAV],
    difficulty (dB level difference | percent frequency difference | number of bursts) and
    difficulty_unit "dB" | "percent" | "bursts".
Levels are whole-file RMS (for count items, silence included); stimuli values are rounded to
2 decimals and the audio measures back within 0.01 dB and well within 1 % of frequency.
Which clip is louder / higher is balanced: consecutive items of a task come in pairs with
opposite gold letters, the pair's order drawn at random.

Usage:
    thinkpipe eval --benchmark deaftest --make 400 --media-dir deaftest/ > deaftest.jsonl
    thinkpipe eval --benchmark deaftest --model ckpt/audio deaftest.jsonl --report deaftest.html
"""
from __future__ import annotations

import math
import os
import wave
from typing import Any, Callable

import numpy as np

SR = 44100
RAMP_S = 0.010
FULL = 32767
MAX_LEVEL = -6.0              # loudest clip's RMS level: peak <= 0.71 full scale, never clips
LEVEL_RANGE = (-30.0, -12.0)
BURST_S = 0.15
LADDERS = {"loudness": [12, 9, 6, 4, 3, 2, 1, 0.5],
           "pitch": [100, 50, 25, 12, 6, 3, 2, 1],
           "count": [2, 3, 4, 5, 6, 7, 8, 9]}
UNITS = {"loudness": "dB", "pitch": "percent", "count": "bursts"}
TWO = ["the first audio", "the second audio"]
QUESTIONS = {
    "loudness": "Which audio is louder? The first audio [audio1] or the second audio [audio2]?",
    "pitch": "Which audio has the higher pitch? The first audio [audio1] or the second audio [audio2]?",
    "count": "How many tone bursts are there in this audio [audio1]?",
}

Clip = tuple[np.ndarray, dict]


def _window(n: int) -> np.ndarray:
    """Ones with raised-cosine onset and offset ramps of RAMP_S."""
    r = int(round(RAMP_S * SR))
    ramp = 0.5 * (1 - np.cos(np.pi * np.arange(r) / r))
    return np.concatenate([ramp, np.ones(n - 2 * r), ramp[::-1]])


def _sine(freq: float, envelope: np.ndarray) -> np.ndarray:
    """A sine starting at phase 0 under an amplitude envelope (gating keeps the phase coherent)."""
    return envelope * np.sin(2 * np.pi * freq * np.arange(len(envelope)) / SR)


def _ramped(freq: float, seconds: float) -> np.ndarray:
    return _sine(freq, _window(int(round(seconds * SR))))


def _at_level(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Scale so the whole signal's RMS is level_dbfs (relative to full scale 1.0)."""
    return x * (10 ** (level_dbfs / 20) / math.sqrt(float(np.mean(x * x))))


def _clip(x: np.ndarray, level: float, freq: float, seconds: float, **extra) -> Clip:
    y = _at_level(x, level)
    if np.max(np.abs(y)) >= 0.99:
        raise ValueError(f"deaftest: clip at {level} dBFS would clip")
    stim = {"level_dbfs": round(level, 2), "freq_hz": round(freq, 2), "duration_s": round(seconds, 2)}
    return y, {**stim, **extra}


def _draw_common(rng: np.random.Generator, fmin: float, fmax: float, top: float) -> tuple[float, float, float]:
    """Frequency (0.01 Hz grid), duration (10 ms grid, 1-3 s) and level (0.01 dB grid, <= top)."""
    freq = round(float(rng.uniform(fmin, fmax)), 2)
    seconds = int(rng.integers(100, 301)) / 100
    level = round(float(rng.uniform(LEVEL_RANGE[0], min(LEVEL_RANGE[1], top))), 2)
    return freq, seconds, level


def _loudness(rng: np.random.Generator, rung: float, first: bool) -> tuple[list, str, list[Clip]]:
    freq, seconds, base = _draw_common(rng, 300, 1000, MAX_LEVEL - rung)
    x = _ramped(freq, seconds)
    loud, quiet = _clip(x, base + rung, freq, seconds), _clip(x, base, freq, seconds)
    return TWO, "A" if first else "B", [loud, quiet] if first else [quiet, loud]


def _pitch(rng: np.random.Generator, rung: float, first: bool) -> tuple[list, str, list[Clip]]:
    base, seconds, level = _draw_common(rng, 200, 800, LEVEL_RANGE[1])
    other = round(base * (1 + rung / 100), 2)
    high = _clip(_ramped(other, seconds), level, other, seconds)
    low = _clip(_ramped(base, seconds), level, base, seconds)
    return TWO, "A" if first else "B", [high, low] if first else [low, high]


def _count(rng: np.random.Generator, rung: float, first: bool) -> tuple[list, str, list[Clip]]:
    count = int(rung)
    freq, _, level = _draw_common(rng, 300, 1000, LEVEL_RANGE[1])
    lead, trail = (int(c) / 100 for c in rng.integers(10, 31, size=2))
    gaps = [int(c) / 100 for c in rng.integers(15, 41, size=count - 1)]
    burst = _window(int(round(BURST_S * SR)))
    silence = lambda s: np.zeros(int(round(s * SR)))  # noqa: E731
    parts = [silence(lead), burst]
    for gap in gaps:
        parts += [silence(gap), burst]
    parts.append(silence(trail))
    seconds = lead + trail + count * BURST_S + sum(gaps)
    low = int(rng.integers(max(1, count - 3), count + 1))
    options = [str(c) for c in range(low, low + 4)]
    clip = _clip(_sine(freq, np.concatenate(parts)), level, freq, seconds, count=count)
    return options, "ABCD"[count - low], [clip]


BUILDERS: dict[str, Callable[[np.random.Generator, float, bool], tuple[list, str, list[Clip]]]] = {
    "loudness": _loudness, "pitch": _pitch, "count": _count}


def _write_wav(path: str, x: np.ndarray) -> None:
    q = np.round(x * FULL)
    if np.max(np.abs(q)) >= FULL:
        raise ValueError(f"deaftest: {path} would clip")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(q.astype("<i2").tobytes())


def _first(seed: int, task: str, i: int) -> bool:
    """Gold position for the i-th item of a task: pairs (2j, 2j+1) get opposite positions."""
    coin = bool(np.random.default_rng([seed, list(BUILDERS).index(task), i // 2, 1]).integers(2))
    return coin != bool(i % 2)


def _item(k: int, media_dir: str, seed: int, tasks: tuple[str, ...]) -> dict:
    task, i = tasks[k % len(tasks)], k // len(tasks)
    ladder = LADDERS[task]
    rung = ladder[i % len(ladder)]
    rng = np.random.default_rng([seed, k])
    options, answer, clips = BUILDERS[task](rng, rung, _first(seed, task, i))
    rid = f"deaftest-{k:05d}"
    audios = []
    for j, (samples, _) in enumerate(clips, 1):
        path = os.path.join(media_dir, f"{rid}-{j}.wav")
        _write_wav(path, samples)
        audios.append(path)
    return {"id": rid, "benchmark": "deaftest", "task": task, "question_type": "multiple_choice",
            "audios": audios, "question": QUESTIONS[task], "options": options, "answer": answer,
            "stimuli": [stim for _, stim in clips], "difficulty": rung, "difficulty_unit": UNITS[task]}


def make(n: int, media_dir: str, seed: int = 0,
         tasks: tuple[str, ...] = ("loudness", "pitch", "count")) -> list[dict]:
    """Write n items' WAVs under media_dir and return their records (see the module docstring)."""
    unknown = [t for t in tasks if t not in BUILDERS]
    if unknown or not tasks:
        raise ValueError(f"deaftest: unknown tasks {unknown or tasks}; choose from {list(BUILDERS)}")
    os.makedirs(media_dir, exist_ok=True)
    return [_item(k, media_dir, seed, tuple(tasks)) for k in range(n)]


def _read(path: str) -> tuple[np.ndarray, Any]:
    with wave.open(path, "rb") as w:
        params = w.getparams()
        raw = w.readframes(params.nframes)
    if params.sampwidth != 2:
        raise ValueError(f"deaftest: {path} is not 16-bit PCM")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / FULL
    return x.reshape(-1, params.nchannels).mean(axis=1), params


def _peak_freq(x: np.ndarray, rate: int) -> float:
    """Dominant frequency: Hann-windowed FFT peak, parabola through the log magnitudes."""
    size = 1 << max(int(len(x) - 1).bit_length(), 1)
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=2 * size))
    b = int(np.argmax(spec[1:-1])) + 1
    a, m, c = np.log(spec[b - 1:b + 2] + 1e-300)
    denom = a - 2 * m + c
    delta = 0.5 * (a - c) / denom if denom != 0 else 0.0
    return (b + delta) * rate / (2 * size)


def measure(path: str) -> dict:
    """Measured properties of a WAV file (mono mix of its channels)."""
    x, p = _read(path)
    rms = math.sqrt(float(np.mean(x * x))) if len(x) else 0.0
    return {"level_dbfs": 20 * math.log10(rms) if rms > 0 else -math.inf,
            "freq_hz": _peak_freq(x, p.framerate) if len(x) > 2 else 0.0,
            "duration_s": p.nframes / p.framerate, "sample_rate": p.framerate,
            "sample_width": p.sampwidth, "channels": p.nchannels}


def count_bursts(path: str, frame_s: float = 0.005, threshold_db: float = -20.0,
                 min_gap_s: float = 0.05) -> int:
    """Bursts = runs of 5 ms frames within threshold_db of the loudest frame; gaps < min_gap_s merge."""
    x, p = _read(path)
    hop = max(1, int(round(frame_s * p.framerate)))
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    if not len(frames):
        return 0
    env = np.sqrt(np.mean(frames * frames, axis=1))
    if env.max() <= 0:
        return 0
    on = env > env.max() * 10 ** (threshold_db / 20)
    bursts, quiet = 0, math.inf
    for frame_on in on:
        if frame_on:
            bursts += quiet * frame_s >= min_gap_s
            quiet = 0
        else:
            quiet += 1
    return int(bursts)
