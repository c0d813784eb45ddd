# The image every wildwatch service runs (Airflow's services and workers, the review app, the demo
# marketplaces): the project, its locked dependencies, Chromium for browser sites, CJK fonts for screenshots
# and pg_dump for backups. (libatomic1: Playwright's bundled Node.js needs it.)
# BASE_IMAGE: the official Python image by default; deploy/images/build-local.sh builds on a Debian 12 image
# made with debootstrap instead (Debian's own Python 3.11), for machines that cannot pull from a registry.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk curl ca-certificates libatomic1 \
        postgresql-client-15 $(command -v python3 >/dev/null || echo python3 python3-venv) \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir uv && ln -s /opt/uv/bin/uv /usr/local/bin/uv \
    && useradd --create-home --uid 50000 airflow \
    && mkdir -p /opt/wildwatch /opt/airflow/logs /opt/airflow/passwords /srv/wildwatch \
    && chown -R airflow /opt/wildwatch /opt/airflow /srv/wildwatch
WORKDIR /opt/wildwatch
USER airflow
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/wildwatch/.venv PATH=/opt/wildwatch/.venv/bin:$PATH \
    WILDWATCH_VAR_DIR=/srv/wildwatch WILDWATCH_CHROMIUM=/usr/bin/chromium
COPY --chown=airflow pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY --chown=airflow . .
RUN uv sync --frozen --no-dev
