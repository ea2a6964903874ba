"""A tiny GPT-2 built offline for runtime tests: random weights from a fixed seed and a
byte-level tokenizer with no merges (one token per byte, any UTF-8 text encodes)."""

from __future__ import annotations

from pathlib import Path

from assay_worker.runtimes import RuntimeSpec, weights_digest

EOS = "<|endoftext|>"
PAD = "<pad>"


def build_tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    """Write config, tokenizer and `model.safetensors` of a 2-layer GPT-2 into `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {EOS: 0, PAD: 1}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, pad_token=PAD).save_pretrained(
        folder
    )
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def tiny_gpt2_spec(folder: Path, **options: object) -> RuntimeSpec:
    """A manifest for the model at `folder`, bound to its current weights."""
    return RuntimeSpec(
        kind="hf-textgen",
        name="test/tiny-gpt2",
        weights_digest=weights_digest(folder),
        verification="llm-greedy",
        path=folder,
        options={"device": "cpu", **options},
    )
