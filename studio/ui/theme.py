"""Studio's one Gradio theme: dark like an editing suite, one accent for actions."""

import gradio as gr

SYSTEM_FONTS = ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]
MONO_FONTS = ["JetBrains Mono", "ui-monospace", "SFMono-Regular", "Menlo", "monospace"]

# Gradio picks dark mode from the body class; editing suites are dark.
FORCE_DARK_JS = "() => { document.body.classList.add('dark'); }"


def studio_theme() -> gr.themes.Base:
    return gr.themes.Base(
        primary_hue=gr.themes.colors.amber,
        secondary_hue=gr.themes.colors.sky,
        neutral_hue=gr.themes.colors.zinc,
        radius_size=gr.themes.sizes.radius_sm,
        font=SYSTEM_FONTS,
        font_mono=MONO_FONTS,
    ).set(
        body_background_fill_dark="#0f0f12",
        block_background_fill_dark="#17171c",
        button_primary_background_fill_dark="#f59e0b",
        button_primary_text_color_dark="#111111",
    )
