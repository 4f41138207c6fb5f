"""`module:function` specs: a user's own Python function named on the command line.

    fn = load_function("mypkg.rewards:exact", "--reward")     # --reward, --judge, ...

The working directory is put on sys.path first, so a file next to the command line
(`./letter.py` as `letter:reward`) loads wherever the command runs from. A spec that does not
import, or names nothing callable, is a UsageError naming the option.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Callable

from .errors import UsageError


def load_function(spec: str, option: str) -> Callable:
    module_name, _, attr = spec.partition(":")
    if not (module_name and attr):
        raise UsageError(f"{option} {spec}: write module:function")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise UsageError(f"{option} {spec}: {e}") from None
    if not callable(fn):
        raise UsageError(f"{option} {spec}: {attr} is not a function")
    return fn


def is_url(spec: str | None) -> bool:
    """An http(s):// address (an OpenAI-compatible endpoint, a reward server)."""
    return isinstance(spec, str) and spec.startswith(("http://", "https://"))


def spec_kind(spec: str) -> str | None:
    """What a --judge / --thinking-reward style spec names: "url", "folder" (a local model),
    "function" (module:function), or None for none of them."""
    if is_url(spec):
        return "url"
    if os.path.isdir(spec):
        return "folder"
    if ":" in spec and "://" not in spec and not spec.startswith((".", "/", "~")):
        return "function"
    return None
