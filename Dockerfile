# Registre application image (web, worker, beat and migrate use it; see compose.yaml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config ./config
COPY apps ./apps
RUN pip install .
COPY . .
# collectstatic needs no database; DEBUG=false selects the hashed, compressed storage.
RUN DEBUG=false python manage.py collectstatic --noinput \
    && useradd --system --home /app registre \
    && mkdir -p /var/lib/registre/media && chown registre /var/lib/registre/media
USER registre
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
