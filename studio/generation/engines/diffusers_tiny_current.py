"""Tiny random-weight versions of the current open models (Wan 2.2, HunyuanVideo 1.5,
FLUX.2 [klein]), built offline like the older families in diffusers_tiny.

Each builder mirrors the real model's pipeline class and component layout
(Wan 2.2 TI2V-5B: the 48-channel residual VAE and per-token timesteps; A14B:
two experts and a boundary; HunyuanVideo 1.5: Qwen2.5-VL + ByT5 text encoders
and the guider; FLUX.2 [klein]: a Qwen3 text encoder read at three depths),
shrunk to a few thousand parameters. Component configs follow diffusers' own
fast tests. Tokenizers are built from inline vocabularies: nothing touches the
model hub.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import (
    AutoencoderKLFlux2,
    AutoencoderKLHunyuanVideo15,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    Flux2KleinPipeline,
    Flux2Transformer2DModel,
    HunyuanVideo15ImageToVideoPipeline,
    HunyuanVideo15Pipeline,
    HunyuanVideo15Transformer3DModel,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.guiders import ClassifierFreeGuidance
from transformers import (
    ByT5Tokenizer,
    Qwen2_5_VLTextConfig,
    Qwen2_5_VLTextModel,
    Qwen2Tokenizer,
    Qwen3Config,
    Qwen3ForCausalLM,
    SiglipImageProcessor,
    SiglipVisionConfig,
    SiglipVisionModel,
    T5Config,
    T5EncoderModel,
)

from studio.generation.engines.diffusers_tiny_parts import (
    SEED,
    TEXT_DIM,
    _byte_chars,
    t5_text_encoder,
    t5_tokenizer,
)

# The chat layout Qwen tokenizers use; the pipelines call apply_chat_template.
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def qwen_tokenizer() -> Qwen2Tokenizer:
    """A byte-level Qwen2 tokenizer with no merges: every byte is one token."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = _byte_chars() + specials
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[], model_max_length=4096)
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


# ------------------------------------------------------------------ Wan 2.2


def _wan_transformer(channels_in: int, channels_out: int) -> WanTransformer3DModel:
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=channels_in,
        out_channels=channels_out,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )


def _wan21_vae() -> AutoencoderKLWan:
    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def build_wan22_5b() -> WanPipeline:
    """TI2V-5B: one transformer over the 48-channel Wan 2.2 VAE (16x spatial),
    per-token timesteps (the first frame clean for image to video)."""
    torch.manual_seed(SEED)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    tokenizer = t5_tokenizer()
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=t5_text_encoder(tokenizer, umt5=True),
        transformer=_wan_transformer(48, 48),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        expand_timesteps=True,
    )


def build_wan22_t2v_a14b() -> WanPipeline:
    """A14B text to video: a high-noise and a low-noise expert, switched at the boundary."""
    torch.manual_seed(SEED)
    tokenizer = t5_tokenizer()
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=t5_text_encoder(tokenizer, umt5=True),
        transformer=_wan_transformer(16, 16),
        transformer_2=_wan_transformer(16, 16),
        vae=_wan21_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=12.0),
        boundary_ratio=0.875,
    )


def build_wan22_i2v_a14b() -> WanImageToVideoPipeline:
    """A14B image to video (first frame, or first and last): the condition latents and
    their mask ride in 20 extra input channels; no CLIP image encoder in Wan 2.2."""
    torch.manual_seed(SEED)
    tokenizer = t5_tokenizer()
    return WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=t5_text_encoder(tokenizer, umt5=True),
        transformer=_wan_transformer(36, 16),
        transformer_2=_wan_transformer(36, 16),
        vae=_wan21_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        image_encoder=None,
        image_processor=None,
        boundary_ratio=0.9,
    )


# ------------------------------------------------------------------ HunyuanVideo 1.5


def _hunyuan_parts(task: str) -> dict[str, Any]:
    torch.manual_seed(SEED)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=1,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        patch_size=1,
        patch_size_t=1,
        text_embed_dim=16,
        text_embed_2_dim=TEXT_DIM,
        image_embed_dim=12,
        rope_axes_dim=(2, 2, 4),
        target_size=32,
        task_type=task,
    )
    vae = AutoencoderKLHunyuanVideo15(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(16, 16),
        layers_per_block=1,
        spatial_compression_ratio=4,
        temporal_compression_ratio=2,
        downsample_match_channel=False,
        upsample_match_channel=False,
    )
    text_encoder = Qwen2_5_VLTextModel(
        Qwen2_5_VLTextConfig(
            hidden_size=16,
            intermediate_size=16,
            num_hidden_layers=3,
            num_attention_heads=2,
            num_key_value_heads=2,
            vocab_size=len(qwen_tokenizer()),
            rope_parameters={
                "mrope_section": [1, 1, 2],
                "rope_type": "default",
                "rope_theta": 1000000.0,
            },
        )
    )
    byt5 = ByT5Tokenizer()
    text_encoder_2 = T5EncoderModel(
        T5Config(
            vocab_size=len(byt5),
            d_model=TEXT_DIM,
            d_kv=8,
            d_ff=37,
            num_layers=1,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    )
    return {
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=7.0),
        "text_encoder": text_encoder,
        "tokenizer": qwen_tokenizer(),
        "text_encoder_2": text_encoder_2,
        "tokenizer_2": byt5,
        "guider": ClassifierFreeGuidance(guidance_scale=6.0),
    }


def build_hunyuan15_t2v() -> HunyuanVideo15Pipeline:
    return HunyuanVideo15Pipeline(**_hunyuan_parts("t2v"))


def build_hunyuan15_i2v() -> HunyuanVideo15ImageToVideoPipeline:
    """Image to video: its own transformer (task i2v) plus a SigLIP image encoder."""
    parts = _hunyuan_parts("i2v")
    image_encoder = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=12,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=16,
        )
    )
    processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    return HunyuanVideo15ImageToVideoPipeline(
        **parts, image_encoder=image_encoder, feature_extractor=processor
    )


# ------------------------------------------------------------------ FLUX.2 [klein]


def build_flux2_klein() -> Flux2KleinPipeline:
    """FLUX.2 [klein]: the text encoder is read at layers 9, 18 and 27 (the
    pipeline's default), so the tiny one keeps 27 layers of width 16."""
    torch.manual_seed(SEED)
    tokenizer = qwen_tokenizer()
    text_encoder = Qwen3ForCausalLM(
        Qwen3Config(
            intermediate_size=16,
            hidden_size=16,
            num_hidden_layers=27,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=8,
            vocab_size=len(tokenizer),
            max_position_embeddings=512,
        )
    )
    transformer = Flux2Transformer2DModel(
        patch_size=1,
        in_channels=4,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=48,
        timestep_guidance_channels=256,
        axes_dims_rope=[4, 4, 4, 4],
        guidance_embeds=False,
    )
    vae = AutoencoderKLFlux2(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",),
        block_out_channels=(4,),
        layers_per_block=1,
        latent_channels=1,
        norm_num_groups=1,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    return Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
    )


# ------------------------------------------------------------------ registry

# key -> registry fields, as diffusers_tiny.TINY_MODELS. Sizes: Wan 2.2 5B takes
# multiples of 32 (16x VAE, 2x2 patches), the A14B multiples of 16, tiny
# HunyuanVideo 1.5 multiples of 4 (its image to video picks the bucket of the
# picture's shape: 40x24 for 16:9 at the tiny target size), FLUX.2 of 2.
_VIDEO_SIZES = {"1280:720": [64, 32], "960:960": [32, 32]}
_HUNYUAN_SIZES = {"1280:720": [40, 24], "960:960": [32, 32]}


def _video(name: str, pipelines: dict[str, str], **fields: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": name,
        "modes": list(pipelines),
        "pipelines": pipelines,
        "ratios": _VIDEO_SIZES,
        "durations": {1: 9, 2: 17},
        "default_guidance": 5.0,
        "negative_prompt": True,
        "camera_move": "prompt",
        "motion_strength": False,
    }
    entry.update(fields)
    return entry


TINY_MODELS: dict[str, dict[str, object]] = {
    "tiny-wan22-5b": _video(
        "Tiny Wan 2.2 TI2V 5B (random weights)",
        {"text_to_video": "WanPipeline", "image_to_video": "WanImageToVideoPipeline"},
    ),
    "tiny-wan22-t2v-a14b": _video(
        "Tiny Wan 2.2 T2V A14B (random weights)", {"text_to_video": "WanPipeline"}
    ),
    "tiny-wan22-i2v-a14b": _video(
        "Tiny Wan 2.2 I2V A14B (random weights)",
        {"image_to_video": "WanImageToVideoPipeline"},
        last_frame=True,
    ),
    "tiny-hunyuan15-t2v": _video(
        "Tiny HunyuanVideo 1.5 T2V (random weights)",
        {"text_to_video": "HunyuanVideo15Pipeline"},
        ratios=_HUNYUAN_SIZES,
        default_guidance=6.0,
    ),
    "tiny-hunyuan15-i2v": _video(
        "Tiny HunyuanVideo 1.5 I2V (random weights)",
        {"image_to_video": "HunyuanVideo15ImageToVideoPipeline"},
        ratios=_HUNYUAN_SIZES,
        default_guidance=6.0,
    ),
    "tiny-flux2-klein": {
        "name": "Tiny FLUX.2 [klein] (random weights)",
        "modes": ["text_to_image"],
        "pipelines": {"text_to_image": "Flux2KleinPipeline"},
        "ratios": {"1280:720": [64, 32], "960:960": [32, 32]},
        "durations": {},
        "default_guidance": 1.0,
        "negative_prompt": False,
        "camera_move": "none",
        "motion_strength": False,
    },
}

BUILDERS: dict[str, Any] = {
    "tiny-wan22-5b": build_wan22_5b,
    "tiny-wan22-t2v-a14b": build_wan22_t2v_a14b,
    "tiny-wan22-i2v-a14b": build_wan22_i2v_a14b,
    "tiny-hunyuan15-t2v": build_hunyuan15_t2v,
    "tiny-hunyuan15-i2v": build_hunyuan15_i2v,
    "tiny-flux2-klein": build_flux2_klein,
}
