"""Day 124 reference: the build context of the demo service — Dockerfile, compose.yaml,
.dockerignore, pinned requirements and the service itself — as one dict of files."""

APP_MAIN = '''\
"""The demo service: a health endpoint and a tiny prediction endpoint."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="digits-api")


class Pixels(BaseModel):
    pixels: list[float]


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/predict")
def predict(body: Pixels) -> dict:
    # a stand-in for the model of days 110-114: the brightest of ten bands
    bands = [sum(body.pixels[i::10]) for i in range(10)]
    return {"label": max(range(10), key=bands.__getitem__)}
'''

REQUIREMENTS = """\
fastapi==0.165.0
pydantic==2.11.10
uvicorn==0.55.0
"""

# dependencies first, code last: editing app/ reuses the cached pip layer
DOCKERFILE = """\
FROM python:3.11.9-slim-bookworm
WORKDIR /srv
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ app/
RUN useradd --create-home --uid 10001 appuser
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\
  CMD ["python", "-c", \\
       "import urllib.request as u; u.urlopen('http://localhost:8000/health', timeout=2)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

COMPOSE = """\
services:
  api:
    build: .
    image: digits-api:1.0.0
    ports:
      - "8080:8000"
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "python", "-c",
             "import urllib.request as u; u.urlopen('http://localhost:8000/health', timeout=2)"]
      interval: 30s
      timeout: 3s
      retries: 3
"""

DOCKERIGNORE = """\
.git
**/__pycache__
*.pyc
.venv
tests/
*.env
"""


def bundle() -> dict[str, str]:
    return {"Dockerfile": DOCKERFILE, "compose.yaml": COMPOSE, ".dockerignore": DOCKERIGNORE,
            "requirements.txt": REQUIREMENTS, "app/__init__.py": "", "app/main.py": APP_MAIN}
