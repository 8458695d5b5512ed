# devexbot's image: Debian's Python, the bot in a virtual environment, run as a user of its own.
#   docker build -t devexbot .
#   docker run --rm -e DATABASE_URL=... devexbot devexbot db upgrade    (once per release)
#   docker run -p 8000:8000 --env-file .env devexbot                    (the bot)

# The build stage: pip and the build tools stay here.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/devexbot
# The dependencies and build tools first, in a layer of their own: rebuilt only when
# pyproject.toml changes.
COPY pyproject.toml /src/
RUN python3 -c 'import tomllib; p = tomllib.load(open("/src/pyproject.toml", "rb")); print(*p["build-system"]["requires"], *p["project"]["dependencies"], sep="\n")' > /src/requirements.txt \
 && /opt/devexbot/bin/pip install --no-cache-dir --no-compile -r /src/requirements.txt
COPY README.md /src/
COPY correlation /src/correlation
COPY handlers /src/handlers
COPY devexbot /src/devexbot
RUN /opt/devexbot/bin/pip install --no-cache-dir --no-compile --no-deps --no-build-isolation /src \
 && /opt/devexbot/bin/pip uninstall -y -q setuptools wheel pip \
 && /opt/devexbot/bin/python -m compileall -q /opt/devexbot/lib

# What runs: Debian's Python, the virtual environment, nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --home-dir /var/lib/devexbot --create-home \
        --shell /usr/sbin/nologin devexbot
COPY --from=build /opt/devexbot /opt/devexbot
ENV PATH=/opt/devexbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    DEVEXBOT_CONFIG=/etc/devexbot/devexbot.yaml
USER devexbot
# The embedded default (SQLite) keeps its file here; set DATABASE_URL for PostgreSQL.
WORKDIR /var/lib/devexbot
VOLUME /var/lib/devexbot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
CMD ["devexbot", "serve", "--host", "0.0.0.0"]
