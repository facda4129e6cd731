"""Day 124: containerise the demo service — its Dockerfile, compose.yaml, .dockerignore and
pinned requirements, returned as one build context by bundle()."""

# the service itself is given (you may change it): GET /health answers 200
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

# TODO: pin every requirement with == (at least fastapi and uvicorn)
REQUIREMENTS = ""

# TODO: a pinned base image (no :latest), requirements.txt copied and installed before the
#       code (pip install --no-cache-dir -r requirements.txt), a non-root USER, one EXPOSE,
#       a HEALTHCHECK that asks http://localhost:<port>/health, and an exec-form CMD running
#       uvicorn on --host 0.0.0.0 --port <the exposed port>
DOCKERFILE = ""

# TODO: one service: build: ., ports "HOST:CONTAINER", restart, a healthcheck
COMPOSE = ""

# TODO: keep .git and __pycache__ out of the build context (but not what the image needs)
DOCKERIGNORE = ""


def bundle() -> dict[str, str]:
    """The build context: relative path -> file text (Dockerfile, compose.yaml, .dockerignore,
    requirements.txt and the service's code, e.g. app/main.py)."""
    # TODO: return every file the image and compose need
    raise NotImplementedError("bundle")
