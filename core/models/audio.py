"""Audio for audio-text models: WAV bytes to a mono waveform at the feature extractor's rate.

    x = load_audio(ref, 16000)          # a media reference (path or {path, bytes}) -> float32 (n,)
    x, rate = decode_wav(data)          # WAV bytes -> float32 mono in [-1, 1], its sampling rate
    y = resample(x, 44100, 16000)       # band-limited (Kaiser-windowed sinc, polyphase)

Nothing here needs scipy, soundfile or torchaudio (none of them works beside the pinned CPU
torch). Departures: the WAV reader parses RIFF itself rather than with the stdlib `wave`
module, because Python 3.11's `wave` reads integer PCM only and neither IEEE-float nor
WAVE_FORMAT_EXTENSIBLE files, which many tools write; other containers (MP3, FLAC, Ogg) are a
ValueError asking for a conversion, since no decoder (PyAV, ffmpeg) is installed here.
"""
from __future__ import annotations

import struct
from math import gcd

import numpy as np

NOT_WAV = "audio must be WAV (PCM); convert it with ffmpeg first"
PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


def _chunks(data: bytes):
    """(id, payload) of each RIFF chunk after the WAVE header; a truncated last chunk (or one
    whose size is the 0xFFFFFFFF of a streamed file) runs to the end of the data."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        yield cid, body
        pos += 8 + size + (size & 1)


def _format(fmt: bytes) -> tuple[int, int, int, int]:
    """(format code, channels, rate, bits per sample) from a `fmt ` chunk, the extensible
    layout resolved to its subformat."""
    if len(fmt) < 16:
        raise ValueError("WAV: the fmt chunk is too short")
    code, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if code == EXTENSIBLE:
        if len(fmt) < 26:
            raise ValueError("WAV: an extensible fmt chunk without its subformat")
        code = struct.unpack_from("<H", fmt, 24)[0]
    if code not in (PCM, FLOAT):
        raise ValueError(f"WAV: sample format {code} is not PCM or float; "
                         "convert it with ffmpeg first")
    if not channels or not rate:
        raise ValueError("WAV: no channels or a zero sampling rate")
    return code, channels, rate, bits


def _samples(raw: bytes, code: int, bits: int) -> np.ndarray:
    """Interleaved samples as float64 in [-1, 1]."""
    if code == FLOAT and bits in (32, 64):
        return np.frombuffer(raw, dtype=f"<f{bits // 8}").astype(np.float64)
    if code == PCM and bits == 8:                       # 8-bit WAV is unsigned
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if code == PCM and bits in (16, 32):
        return np.frombuffer(raw, dtype=f"<i{bits // 8}").astype(np.float64) / 2.0 ** (bits - 1)
    if code == PCM and bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / 2.0 ** 23
    kind = "float" if code == FLOAT else "PCM"
    raise ValueError(f"WAV: {bits}-bit {kind} samples are not supported")


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """(float32 mono waveform, sampling rate) of a WAV file's bytes: 8/16/24/32-bit PCM or
    32/64-bit float, channels averaged. ValueError for anything else."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(NOT_WAV)
    fmt = raw = None
    for cid, body in _chunks(data):
        if cid == b"fmt ":
            fmt = _format(body)
        elif cid == b"data" and raw is None:
            raw = body
    if fmt is None or raw is None:
        raise ValueError("WAV: no fmt or no data chunk")
    code, channels, rate, bits = fmt
    frame = channels * (bits // 8)
    if not frame:
        raise ValueError(f"WAV: {bits}-bit samples are not supported")
    raw = raw[:len(raw) - len(raw) % frame]
    x = _samples(raw, code, bits).reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32), rate


def _kernel(t: np.ndarray, scale: float, half: float, beta: float) -> np.ndarray:
    """Low-pass impulse response at offsets t (input samples): a sinc with its first zero at
    1/scale, under a Kaiser window that reaches zero at +-half."""
    inside = np.abs(t) < half
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0))) / np.i0(beta)
    return np.where(inside, scale * np.sinc(scale * t) * window, 0.0)


def resample(x: np.ndarray, rate_in: int, rate_out: int, zeros: int = 16,
             rolloff: float = 0.94, beta: float = 8.6) -> np.ndarray:
    """x (n,) at rate_in -> float32 (ceil(n * rate_out / rate_in),) at rate_out.

    Windowed-sinc interpolation, polyphase: with rate_out/rate_in = up/down in lowest terms,
    output sample n sits at input time n*down/up, and outputs n = r, r+up, r+2*up, ... share
    one fractional offset and hence one set of filter taps. The cutoff is `rolloff` times the
    lower Nyquist frequency, so downsampling removes what would alias (the Kaiser window with
    beta 8.6 gives about 80 dB of stopband); `zeros` sinc zero-crossings each side."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if rate_in == rate_out or not len(x):
        return x.astype(np.float32)
    g = gcd(int(rate_in), int(rate_out))
    up, down = rate_out // g, rate_in // g
    scale = min(1.0, up / down) * rolloff           # cutoff, as a fraction of input Nyquist
    half = zeros / scale                            # window half-width, input samples
    k = int(np.ceil(half))
    taps = np.arange(-k + 1, k + 1)                 # input offsets from floor(t)
    padded = np.concatenate([np.zeros(k), x, np.zeros(k + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * k)
    n_out = -(-len(x) * up // down)
    y = np.empty(n_out)
    for r in range(min(up, n_out)):
        base, frac = divmod(r * down, up)           # floor(t) and the fraction of t, for n = r
        w = _kernel(frac / up - taps, scale, half, beta)
        w /= w.sum()                                # exact unit gain at DC for every phase
        count = len(range(r, n_out, up))
        y[r::up] = windows[base + 1:base + 1 + down * count:down][:count] @ w
    return y.astype(np.float32)


def load_audio(ref, sampling_rate: int) -> np.ndarray:
    """A media reference's audio as float32 mono at `sampling_rate` (OSError if unreadable,
    ValueError if not WAV)."""
    from ..records import media

    x, rate = decode_wav(media.load_bytes(ref))
    return resample(x, rate, sampling_rate)
