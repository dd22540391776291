# Studio image: the web app (`studio serve`, the default command) and the
# Celery workers (`studio worker ...`) all run from this one Dockerfile.
#
# TORCH_VARIANT picks the machine-learning stack baked in:
#   none (default)  no torch at all: the web app and CPU (ffmpeg) workers
#   cpu             CPU-only torch from the PyTorch CPU index, plus diffusers,
#                   transformers and accelerate (GPU code paths on a CPU)
#   cuda            CUDA torch from PyPI (several GB), plus diffusers,
#                   transformers and accelerate: the image for GPU workers
#
#   docker build -t studio:latest .
#   docker build --build-arg TORCH_VARIANT=cuda -t studio:cuda .
#
# torch is not a dependency in pyproject.toml; it is installed here, before the
# project's dependencies, so the torch layer stays cached across code changes.

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

# The ML stack, only when TORCH_VARIANT asks for it.
RUN set -eu; \
    case "$TORCH_VARIANT" in \
      none) echo "TORCH_VARIANT=none: no torch in this image" ;; \
      cpu) pip install --index-url "$TORCH_CPU_INDEX_URL" torch \
           && pip install diffusers transformers accelerate ;; \
      cuda) pip install torch diffusers transformers accelerate ;; \
      *) echo "TORCH_VARIANT must be none, cpu or cuda (got '$TORCH_VARIANT')" >&2; exit 1 ;; \
    esac

WORKDIR /app

# The project's dependencies, read from pyproject.toml, in their own layer so
# editing the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

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

# The web app (runs migrations, then serves on 0.0.0.0:7860). Workers override
# the command, e.g. `studio worker --queues gpu --pool solo --concurrency 1`.
CMD ["studio", "serve"]
