"""Causal-LM text generation with Hugging Face transformers, from a local model directory.

Input: see `_generation` (plain-text prompt for greedy decoding, or a JSON request with a seed
for sampling). Output: canonical JSON
`{"finish_reason": "stop"|"length", "model": name, "text": completion, "tokens": [ids]}`;
the token ids let an `llm-greedy` verifier teacher-force exactly the claimed tokens.

Decoding is a small loop of our own rather than `generate()`, so that each row of a batch
draws from its own `torch.Generator` seeded by its job: a sampled result depends only on its
own input, never on which other jobs shared the batch. Prompts are left-padded, with position
ids counted from each row's first real token, so a batched row sees what it would see alone."""

from __future__ import annotations

import threading
from typing import Any

from ._base import RuntimeLoadError, canonical, check_weights, module_bytes, not_loaded
from ._generation import GenerationRequest, parse_request
from .spec import RuntimeSpec

OPTIONS: dict[str, Any] = {
    "device": "auto",  # "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    "dtype": "float32",  # or "bfloat16" / "float16" on GPUs
    "default_max_new_tokens": 32,
    "max_new_tokens_limit": 256,
}


class HFTextGenRuntime:
    """A causal LM from `spec.path` (config, tokenizer and safetensors weights, as written by
    `save_pretrained`); `spec.weights_digest` must be `weights_digest(spec.path)`."""

    def __init__(self, spec: RuntimeSpec) -> None:
        self.manifest = spec.manifest
        self.path = spec.require_path()
        self.settings = spec.settings(OPTIONS)
        self._model: Any = None
        self._tokenizer: Any = None
        self._context = 0
        # inputs are checked on the worker's main thread while a batch generates on the model
        # thread; a fast tokenizer used from two threads at once fails ("Already borrowed")
        self._tokenizer_lock = threading.Lock()

    def load(self) -> None:
        check_weights(self.manifest, self.path)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise RuntimeLoadError(f"{self.manifest.name} needs torch and transformers ({exc})") from exc
        device = self.settings["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=getattr(torch, self.settings["dtype"]))
        except (OSError, ValueError) as exc:
            raise RuntimeLoadError(f"cannot load {self.manifest.name} from {self.path}: {exc}") from exc
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:  # GPT-2 style vocabularies have none; padding is masked anyway
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer = tokenizer
        self._model = model.to(device).eval()
        self._context = int(getattr(model.config, "max_position_embeddings", 0) or 0)

    def _request(self, data: bytes) -> GenerationRequest:
        request = parse_request(data, self.settings["default_max_new_tokens"], self.settings["max_new_tokens_limit"])
        if self._tokenizer is not None and self._context:
            with self._tokenizer_lock:
                needed = len(self._tokenizer(request.prompt).input_ids) + request.max_new_tokens
            if needed > self._context:
                raise ValueError(f"prompt + max_new_tokens is {needed} tokens; the model's context is {self._context}")
        return request

    def unload(self) -> None:
        # the tokenizer stays (small): inputs can still be checked against the context length
        self._model = None

    def memory_bytes(self) -> int:
        return 0 if self._model is None else module_bytes(self._model)

    def check_input(self, data: bytes) -> str | None:
        try:
            self._request(data)
        except ValueError as exc:
            return str(exc)
        return None

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if self._model is None:
            raise not_loaded(self.manifest)
        requests = [self._request(data) for data in inputs]
        if not requests:
            return []
        generated = self._generate(requests)
        with self._tokenizer_lock:
            texts = [self._tokenizer.decode(tokens, skip_special_tokens=True) for tokens, _ in generated]
        return [
            canonical(
                {
                    "model": self.manifest.name,
                    "text": text,
                    "tokens": tokens,
                    "finish_reason": reason,
                }
            )
            for (tokens, reason), text in zip(generated, texts, strict=True)
        ]

    def _generate(self, requests: list[GenerationRequest]) -> list[tuple[list[int], str]]:
        import torch

        device = self._model.device
        with self._tokenizer_lock:
            batch = self._tokenizer([r.prompt for r in requests], return_tensors="pt", padding=True).to(device)
        mask = batch.attention_mask
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        step_ids = batch.input_ids
        generators = [
            torch.Generator(device=device).manual_seed(r.seed) if r.seed is not None else None for r in requests
        ]
        eos = self._tokenizer.eos_token_id
        tokens: list[list[int]] = [[] for _ in requests]
        reasons: list[str | None] = [None] * len(requests)
        cache = None
        with torch.inference_mode():
            for _ in range(max(r.max_new_tokens for r in requests)):
                out = self._model(
                    input_ids=step_ids,
                    attention_mask=mask,
                    position_ids=positions,
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=1,  # only the last position's logits: vocab x prompt would not fit for large models
                )
                cache = out.past_key_values
                logits = out.logits[:, -1, :].float()
                chosen = [_choose(logits[i], r, generators[i]) for i, r in enumerate(requests)]
                for i, token in enumerate(chosen):
                    if reasons[i] is not None:
                        continue  # finished rows keep decoding in the batch; their tokens are dropped
                    if token == eos:
                        reasons[i] = "stop"
                        continue
                    tokens[i].append(token)
                    if len(tokens[i]) == requests[i].max_new_tokens:
                        reasons[i] = "length"
                if all(reason is not None for reason in reasons):
                    break
                step_ids = torch.tensor(chosen, device=device).unsqueeze(-1)
                positions = positions[:, -1:] + 1
                mask = torch.cat([mask, mask.new_ones((len(requests), 1))], dim=-1)
        return [(row, reason or "length") for row, reason in zip(tokens, reasons, strict=True)]


def _choose(logits: Any, request: GenerationRequest, generator: Any) -> int:
    import torch

    if generator is None:
        return int(torch.argmax(logits))
    probabilities = torch.softmax(logits / request.temperature, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))
