"""Parts every tiny family shares (tokenizers from an inline vocabulary, tiny text
encoders, the seed), so that the family modules import them from here and
never from each other."""

from __future__ import annotations

import string

from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    PreTrainedModel,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

SEED = 0
TEXT_DIM = 32  # hidden size of the tiny text encoders = cross-attention width


# ------------------------------------------------------------------ tokenizers


def _byte_chars() -> list[str]:
    """GPT-2/CLIP's reversible byte -> printable unicode table, in byte order."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def clip_tokenizer() -> CLIPTokenizer:
    """A byte-level CLIP tokenizer with no merges: every byte is one token."""
    chars = _byte_chars()
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def t5_tokenizer() -> T5Tokenizer:
    """A unigram T5 tokenizer over single characters (no sentencepiece model)."""
    pieces = ["<pad>", "</s>", "<unk>", "\u2581"]
    pieces += ["\u2581" + c for c in string.ascii_lowercase]
    pieces += list(string.ascii_letters + string.digits + string.punctuation)
    vocab = [(piece, 0.0 if index < 3 else -float(index)) for index, piece in enumerate(pieces)]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)


def clip_text_encoder(tokenizer: CLIPTokenizer) -> CLIPTextModel:
    config = CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=TEXT_DIM,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
    )
    return CLIPTextModel(config)


def t5_text_encoder(tokenizer: T5Tokenizer, umt5: bool = False) -> PreTrainedModel:
    """LTX uses T5; Wan's type hint asks for UMT5 (same layout, per-layer position bias)."""
    fields = dict(
        vocab_size=len(tokenizer),
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    if umt5:
        return UMT5EncoderModel(UMT5Config(**fields))
    return T5EncoderModel(T5Config(**fields))
