# coursefed web app and worker. Meilisearch, S3 and PostgreSQL run as their own
# containers (see docker-compose.yml); here they are external services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    COURSEFED_DATA_DIR=/var/lib/coursefed \
    COURSEFED_HOST=0.0.0.0 \
    COURSEFED_PORT=8000

WORKDIR /srv/coursefed
COPY pyproject.toml README.md ./
COPY app ./app
COPY harvesters ./harvesters
COPY metadata ./metadata
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /var/lib/coursefed --create-home coursefed
USER coursefed
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
CMD ["sh", "-c", "coursefed db upgrade && coursefed serve"]
