# The web and worker image: Python 3.13 slim, dependencies from the hashed lock file, non-root.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY --chown=app:app . .
# collectstatic needs settings to load; this throw-away key exists only during the build.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && chown -R app:app /app/staticfiles

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# On its own (docker run), the image migrates and loads SkinPen first; compose runs that once
# in its `migrate` service and starts web containers with plain gunicorn.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py createcachetable && python manage.py load_question_set intake/question_sets/skinpen.json --cases intake/question_sets/skinpen.cases.json --publish && exec gunicorn clinic.wsgi"]
