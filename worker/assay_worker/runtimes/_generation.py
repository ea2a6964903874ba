"""The job input of text-generation runtimes, shared by the local (`hf-textgen`) and remote
(`openai-http`) ones so a requester writes the same bytes for either.

The input is either plain UTF-8 text, the prompt, decoded greedily; or, when its first
non-blank character is `{`, a JSON object:

    {"prompt": "Once upon a time", "max_new_tokens": 32, "seed": 7, "temperature": 0.8}

- `prompt` (required): non-blank text.
- `max_new_tokens`: 1 to the runtime's limit; the runtime's default when absent.
- `seed`: an integer in [0, 2**63); present means sampling, absent means greedy decoding.
- `temperature`: > 0, only with a seed (default 1.0). A sampled result is reproducible (and so
  checkable by a verifier) only because the seed comes from the job itself.

Unknown keys are refused, so a misspelt option cannot silently change what is computed."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

MAX_SEED = 2**63
_KEYS = {"prompt", "max_new_tokens", "seed", "temperature"}


@dataclass(frozen=True)
class GenerationRequest:
    """One decoded job input."""

    prompt: str
    max_new_tokens: int
    seed: int | None = None
    temperature: float = 1.0

    @property
    def sampled(self) -> bool:
        return self.seed is not None


def parse_request(data: bytes, default_max_new_tokens: int, max_new_tokens_limit: int) -> GenerationRequest:
    """The request `data` encodes; ValueError saying what is wrong otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"input is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.lstrip().startswith("{"):
        return _checked(GenerationRequest(text, default_max_new_tokens), max_new_tokens_limit)
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"input starts with '{{' but is not valid JSON ({exc.msg})") from None
    if not isinstance(fields, dict):
        raise ValueError("a JSON input must be an object")
    if unknown := sorted(set(fields) - _KEYS):
        raise ValueError(f"unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    prompt = fields.get("prompt")
    if not isinstance(prompt, str):
        raise ValueError("'prompt' must be a string")
    max_new_tokens = _integer(fields, "max_new_tokens", default_max_new_tokens)
    seed = fields.get("seed")
    if seed is not None:
        seed = _integer(fields, "seed", 0)
        if not 0 <= seed < MAX_SEED:
            raise ValueError(f"'seed' must be in [0, 2**63), got {seed}")
    temperature = fields.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise ValueError("'temperature' must be a number")
    if "temperature" in fields and seed is None:
        raise ValueError("'temperature' needs a 'seed': sampling without one could not be re-checked")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"'temperature' must be > 0, got {temperature}")
    return _checked(GenerationRequest(prompt, max_new_tokens, seed, float(temperature)), max_new_tokens_limit)


def _integer(fields: dict[str, object], key: str, default: int) -> int:
    value = fields.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"'{key}' must be an integer")
    return value


def _checked(request: GenerationRequest, limit: int) -> GenerationRequest:
    if not request.prompt.strip():
        raise ValueError("the prompt is blank")
    if not 1 <= request.max_new_tokens <= limit:
        raise ValueError(f"'max_new_tokens' must be in [1, {limit}], got {request.max_new_tokens}")
    return request
