"""A tiny random-weight LTX-2 (video with synchronized sound), built offline.

Components follow diffusers' own LTX-2 fast tests
(tests/pipelines/ltx2/testing_utils.py), with two changes: the Gemma 3 text
encoder and its tokenizer are built here from a config and an inline
character vocabulary (the tests download hf-internal-testing/tiny-gemma3),
and the vocoder upsamples by the audio VAE's hop length (8 x 20 = 160), as
the real one does, so the track it makes lasts about as long as the picture.
The sound is noise; its shape, rate and plumbing are real.
"""

from __future__ import annotations

import string

import torch
from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    FlowMatchEulerDiscreteScheduler,
    LTX2Pipeline,
    LTX2VideoTransformer3DModel,
)
from diffusers.pipelines.ltx2 import LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    Gemma3TextConfig,
    GemmaTokenizer,
    SiglipVisionConfig,
)

SEED = 0
TEXT_DIM = 32  # Gemma's hidden size = the connectors' width (4 heads x 8)
TEXT_LAYERS = 2  # the connectors read every hidden state: layers + 1
SAMPLE_RATE = 16_000
HOP = 160  # audio VAE mel hop = vocoder upsampling (8 x 20)

TINY_LTX2: dict[str, object] = {
    "name": "Tiny LTX-2 (random weights, with sound)",
    "modes": ["text_to_video", "image_to_video"],
    "pipelines": {
        "text_to_video": "LTX2Pipeline",
        "image_to_video": "LTX2ImageToVideoPipeline",
    },
    # LTX-2: sides multiples of 32, 8k+1 frames.
    "ratios": {"1280:720": [64, 32], "960:960": [32, 32]},
    "durations": {1: 9, 2: 17},
    "default_guidance": 3.0,
    "negative_prompt": True,
    "camera_move": "prompt",
    "motion_strength": False,
    "audio": True,
}


def gemma_tokenizer() -> GemmaTokenizer:
    """A Gemma tokenizer over single characters (no merges, nothing from the hub)."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    chars = " " + string.ascii_letters + string.digits + string.punctuation
    pieces = [*specials, "\u2581", *chars]
    vocab = {piece: index for index, piece in enumerate(dict.fromkeys(pieces))}
    return GemmaTokenizer(vocab=vocab, merges=[], model_max_length=128)


def gemma_text_encoder(vocab_size: int) -> Gemma3ForConditionalGeneration:
    text = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=TEXT_DIM,
        intermediate_size=32,
        num_hidden_layers=TEXT_LAYERS,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=128,
        sliding_window=16,
        pad_token_id=0,
    )
    vision = SiglipVisionConfig(
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=28,
        patch_size=14,
    )
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4)
    return Gemma3ForConditionalGeneration(config).eval()


def build_ltx2() -> LTX2Pipeline:
    torch.manual_seed(SEED)
    tokenizer = gemma_tokenizer()
    text_encoder = gemma_text_encoder(len(tokenizer.get_vocab()))
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=TEXT_DIM,
        rope_double_precision=False,
        rope_type="split",
    )
    connectors = LTX2TextConnectors(
        caption_channels=TEXT_DIM,
        text_proj_in_factor=TEXT_LAYERS + 1,
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    )
    vae = AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=SAMPLE_RATE,
        mel_hop_length=HOP,
        is_causal=True,
        mel_bins=8,
    )
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,  # audio VAE output channels x mel bins
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[16, 40],
        upsample_factors=[8, 20],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=SAMPLE_RATE,
    )
    return LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )
