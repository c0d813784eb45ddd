# The image every Airflow service of docker-compose.yml runs: the project, its locked dependencies,
# Chromium for browser sites and CJK fonts for screenshots.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk curl \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv && useradd --create-home --uid 50000 airflow \
    && mkdir -p /opt/wildwatch /opt/airflow && chown airflow /opt/wildwatch /opt/airflow
WORKDIR /opt/wildwatch
USER airflow
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/wildwatch/.venv PATH=/opt/wildwatch/.venv/bin:$PATH
COPY --chown=airflow pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY --chown=airflow . .
RUN uv sync --frozen --no-dev
