# syntax=docker/dockerfile:1
# Build: docker build -t triage-bot .   Run: docker run -e SLACK_BOT_TOKEN=... -p 8080:8080 triage-bot
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app triage
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY triage.example.yml /app/triage.example.yml
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PORT=8080
USER 10001
EXPOSE 8080
# Cloud Run sets PORT; the bot reads it (Settings.port).
ENTRYPOINT ["triage-bot", "serve"]
