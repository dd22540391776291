# Studio image: the web app (`studio serve`, the default command) and the
# Celery workers (`studio worker ...`) all run from this one Dockerfile.
#
# TORCH_VARIANT picks the machine-learning stack baked in:
#   none (default)  no torch at all: the web app and CPU (ffmpeg) workers
#   cpu             the `ml` extra with CPU-only torch from the PyTorch CPU index
#                   (GPU code paths on a CPU)
#   cuda            the `ml` extra with CUDA torch from PyPI (several GB): the
#                   image for GPU workers
#
#   docker build -t studio:latest .
#   docker build --build-arg TORCH_VARIANT=cuda -t studio:cuda .
#
# torch and the diffusers stack are the project's `ml` extra (pinned in
# pyproject.toml); only TORCH_VARIANT cpu or cuda install it. compose.yaml builds
# each image once (studio:latest by `web`, studio:cuda by `worker-gpu`).

FROM python:3.11-slim

ARG TORCH_VARIANT=none
ARG TORCH_CPU_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False

# ffmpeg for the CPU (media) workers, from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# Non-root user with a fixed uid/gid (1000), so bind mounts and shared storage
# can be given the right owner. /data is created owned by it: Docker copies
# that ownership into an empty named volume mounted there.
RUN groupadd --gid 1000 studio \
    && useradd --uid 1000 --gid studio --create-home --home-dir /home/studio \
       --shell /usr/sbin/nologin studio \
    && mkdir -p /data \
    && chown studio:studio /data

WORKDIR /app

# The project's dependencies, read from pyproject.toml, in their own layer so
# editing the code does not reinstall them. With TORCH_VARIANT cpu or cuda the
# `ml` extra comes too, with the pins pyproject.toml gives it (diffusers,
# transformers, ...); for cpu, torch is taken first from the PyTorch CPU index
# (a bare `torch` from PyPI is the multi-GB CUDA build), and the extra's torch
# requirement is then already met.
COPY pyproject.toml ./
RUN set -eu; \
    case "$TORCH_VARIANT" in \
      none|cpu|cuda) ;; \
      *) echo "TORCH_VARIANT must be none, cpu or cuda (got '$TORCH_VARIANT')" >&2; exit 1 ;; \
    esac; \
    python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
ml = p['optional-dependencies']['ml'] if os.environ['TORCH_VARIANT'] != 'none' else []; \
print(*p['dependencies'], *ml, sep=chr(10))" > /tmp/requirements.txt; \
    if [ "$TORCH_VARIANT" = cpu ]; then \
      pip install --index-url "$TORCH_CPU_INDEX_URL" "$(grep -E '^torch([<>=!~ ]|$)' /tmp/requirements.txt)"; \
    fi; \
    pip install -r /tmp/requirements.txt; \
    rm /tmp/requirements.txt

# The source tree stays at /app and is installed editable: the app finds
# migrations/ and static/ next to the studio/ package (Path(__file__).parents),
# which a plain `pip install .` into site-packages would lose.
COPY . .
RUN pip install --no-deps -e . \
    && test -d /app/migrations && test -d /app/static

ENV STUDIO_HOST=0.0.0.0 \
    STUDIO_PORT=7860 \
    STUDIO_DATA_DIR=/data \
    HF_HOME=/data/cache/huggingface

USER studio

EXPOSE 7860

# The web app (checks the media store, runs the migrations under a lock, then
# serves on 0.0.0.0:7860). Workers override the command, e.g.
# `studio worker --queues gpu --pool solo --concurrency 1` (healthcheck:
# `studio worker-health`, a ping through the broker).
CMD ["studio", "serve"]
