"""Tiny random-weight diffusers pipelines, built offline, for tests and demos.

`make_tiny(directory)` writes one folder per pipeline family with
`save_pretrained` plus a `models.toml` in the registry format that points at
them. Component configs follow diffusers' own fast tests
(tests/pipelines/<family>/test_<family>.py), shrunk further where that keeps a
2-step CPU run well under a second. Tokenizers are built from an inline
vocabulary, so nothing touches the model hub. Weights are seeded: the same
call writes the same tensors.

The pictures are noise; only shapes, plumbing and determinism are real.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AnimateDiffPipeline,
    AutoencoderKL,
    AutoencoderKLLTXVideo,
    AutoencoderKLTemporalDecoder,
    AutoencoderKLWan,
    DDIMScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    MotionAdapter,
    StableDiffusionPipeline,
    StableVideoDiffusionPipeline,
    UNet2DConditionModel,
    UNetSpatioTemporalConditionModel,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

from studio.generation.engines import diffusers_tiny_current as current
from studio.generation.engines.diffusers_tiny_ltx2 import TINY_LTX2, build_ltx2
from studio.generation.engines.diffusers_tiny_parts import (
    SEED,
    TEXT_DIM,
    clip_text_encoder,
    clip_tokenizer,
    t5_text_encoder,
    t5_tokenizer,
)

ANIMATIC_ENTRY = """\
[models.animatic]
name = "Animatic (CPU storyboard)"
engine = "animatic"
modes = ["text_to_video", "image_to_video", "text_to_image"]
ratios = { "1280:720" = [128, 72], "720:1280" = [72, 128], "960:960" = [96, 96] }
durations = { 1 = 8, 2 = 16 }
fps = 8
camera_move = "native"
audio_file = true
default_steps = 1
memory_gb = 0
"""

# key -> registry fields. Sizes are what each family accepts: SD/SVD/AnimateDiff
# multiples of 8, LTX multiples of 32 (and 8k+1 frames), Wan multiples of 16
# (and 4k+1 frames).
TINY_MODELS: dict[str, dict[str, object]] = {
    "tiny-sd": {
        "name": "Tiny Stable Diffusion (random weights)",
        "modes": ["text_to_image"],
        "pipelines": {"text_to_image": "StableDiffusionPipeline"},
        "ratios": {"1280:720": [64, 40], "960:960": [48, 48]},
        "durations": {},
        "default_guidance": 7.5,
        "negative_prompt": True,
        "camera_move": "none",
        "motion_strength": False,
    },
    "tiny-ltx": {
        "name": "Tiny LTX-Video (random weights)",
        "modes": ["text_to_video", "image_to_video"],
        "pipelines": {
            "text_to_video": "LTXPipeline",
            "image_to_video": "LTXImageToVideoPipeline",
        },
        "ratios": {"1280:720": [64, 32], "960:960": [32, 32]},
        "durations": {1: 9, 2: 17},
        "default_guidance": 3.0,
        "negative_prompt": True,
        "camera_move": "prompt",
        "motion_strength": False,
    },
    "tiny-svd": {
        "name": "Tiny Stable Video Diffusion (random weights)",
        "modes": ["image_to_video"],
        "pipelines": {"image_to_video": "StableVideoDiffusionPipeline"},
        "ratios": {"1280:720": [64, 40], "960:960": [48, 48]},
        "durations": {1: 8, 2: 16},
        "default_guidance": 2.5,
        "prompt": False,
        "negative_prompt": False,
        "camera_move": "none",
        "motion_strength": True,
    },
    "tiny-animatediff": {
        "name": "Tiny AnimateDiff (random weights)",
        "modes": ["text_to_video"],
        "pipelines": {"text_to_video": "AnimateDiffPipeline"},
        "ratios": {"1280:720": [64, 40], "960:960": [48, 48]},
        "durations": {1: 8, 2: 16},
        "default_guidance": 7.5,
        "negative_prompt": True,
        "camera_move": "prompt",
        "motion_strength": False,
    },
    "tiny-wan": {
        "name": "Tiny Wan 2.1 (random weights)",
        "modes": ["text_to_video", "video_to_video"],
        "pipelines": {"text_to_video": "WanPipeline", "video_to_video": "WanVideoToVideoPipeline"},
        "ratios": {"1280:720": [64, 32], "960:960": [32, 32]},
        "durations": {1: 9, 2: 17},
        "default_guidance": 5.0,
        "negative_prompt": True,
        "camera_move": "prompt",
        "motion_strength": False,
    },
    "tiny-ltx2": TINY_LTX2,
}


# ------------------------------------------------------------------ families


def _sd_unet(motion: bool = False) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D")
        if motion
        else ("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")
        if not motion
        else ("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        norm_num_groups=8,
    )


def _sd_vae() -> AutoencoderKL:
    return AutoencoderKL(  # three blocks: latents are 1/4 of the picture
        block_out_channels=[16, 16, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 3,
        up_block_types=["UpDecoderBlock2D"] * 3,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=64,
    )


def _ddim() -> DDIMScheduler:
    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def build_sd() -> StableDiffusionPipeline:
    torch.manual_seed(SEED)
    unet = _sd_unet()
    vae = _sd_vae()
    tokenizer = clip_tokenizer()
    text_encoder = clip_text_encoder(tokenizer)
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_ddim(),
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )


def build_animatediff() -> AnimateDiffPipeline:
    torch.manual_seed(SEED)
    unet = _sd_unet(motion=True)
    vae = _sd_vae()
    tokenizer = clip_tokenizer()
    text_encoder = clip_text_encoder(tokenizer)
    adapter = MotionAdapter(
        block_out_channels=(32, 64),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
        motion_max_seq_length=32,
    )
    return AnimateDiffPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        motion_adapter=adapter,
        scheduler=DDIMScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False
        ),
        feature_extractor=None,
        image_encoder=None,
    )


def build_ltx() -> LTXPipeline:
    torch.manual_seed(SEED)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    tokenizer = t5_tokenizer()
    text_encoder = t5_text_encoder(tokenizer)
    return LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )


def build_svd() -> StableVideoDiffusionPipeline:
    torch.manual_seed(SEED)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=4,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    vae = AutoencoderKLTemporalDecoder(  # its GroupNorms have 32 groups
        block_out_channels=[32, 32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 3,
        latent_channels=4,
        layers_per_block=1,
    )
    # The pipeline resizes the reference picture to 224x224 for the image
    # encoder, whatever the output size; big patches keep that cheap.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    )
    feature_extractor = CLIPImageProcessor(crop_size=224, size=224)
    return StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=image_encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=feature_extractor,
    )


def build_wan() -> WanPipeline:
    torch.manual_seed(SEED)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    tokenizer = t5_tokenizer()
    text_encoder = t5_text_encoder(tokenizer, umt5=True)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
    )


BUILDERS: dict[str, Callable[[], Any]] = {
    "tiny-sd": build_sd,
    "tiny-ltx": build_ltx,
    "tiny-svd": build_svd,
    "tiny-animatediff": build_animatediff,
    "tiny-wan": build_wan,
    "tiny-ltx2": build_ltx2,
}


def all_families() -> tuple[dict[str, dict[str, object]], dict[str, Callable[[], Any]]]:
    """Registry fields and builders of every tiny family: these and the current
    models' (Wan 2.2, HunyuanVideo 1.5, FLUX.2), which live in their own module."""
    return {**TINY_MODELS, **current.TINY_MODELS}, {**BUILDERS, **current.BUILDERS}


# ------------------------------------------------------------------ registry


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_key(key: object) -> str:
    text = str(key)
    bare = text and all(c.isalnum() or c in "-_" for c in text)
    return text if bare else _toml_value(text)


def registry_toml(keys: list[str]) -> str:
    parts = [ANIMATIC_ENTRY]
    for key in keys:
        fields = dict(all_families()[0][key])
        entry: dict[str, object] = {
            "name": fields["name"],
            "engine": "diffusers",
            "weights": f"./{key}",
            "modes": fields["modes"],
            "pipelines": fields["pipelines"],
            "ratios": fields["ratios"],
        }
        if fields["durations"]:
            entry["durations"] = fields["durations"]
        entry.update(
            fps=8,
            default_steps=2,
            default_guidance=fields["default_guidance"],
            prompt=fields.get("prompt", True),
            negative_prompt=fields["negative_prompt"],
            camera_move=fields["camera_move"],
            motion_strength=fields["motion_strength"],
            **({"audio": True} if fields.get("audio") else {}),
            last_frame=fields.get("last_frame", False),
            dtype="float32",
            memory_gb=0.05,
            description="Random weights for tests: the output is noise.",
        )
        lines = [f"[models.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def make_tiny(directory: Path, families: list[str] | None = None) -> Path:
    """Write the tiny pipelines and their models.toml under `directory`; return the toml path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    builders = all_families()[1]
    keys = list(families) if families is not None else list(builders)
    for key in keys:
        pipeline = builders[key]()
        pipeline.save_pretrained(directory / key)
    toml_path = directory / "models.toml"
    toml_path.write_text(registry_toml(keys))
    return toml_path


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(make_tiny(Path(sys.argv[1] if len(sys.argv) > 1 else "data/tiny-models")))
