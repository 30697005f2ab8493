"""Keeping bots off the public forms without a third-party CAPTCHA: an ALTCHA proof of work (the browser
spends a moment of CPU finding a number; the server checks it with one hash), each solution accepted once,
and a per-IP rate limit on top (django-ratelimit, counted in the shared Redis cache)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import altcha
import redis
from django.conf import settings

CHALLENGE_TTL = timedelta(minutes=20)  # a citizen may take a while to write
USED_KEY = "registre:altcha:used:{}"


def _hmac_key() -> str:
    return settings.ALTCHA_HMAC_KEY or f"altcha:{settings.SECRET_KEY}"


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def client_ip(group: str, request) -> str:
    """The citizen's address for the rate limit. Behind N trusted proxies it is the N-th address from the
    end of X-Forwarded-For (each proxy appends the address it saw; what the client wrote comes first)."""
    if settings.TRUSTED_PROXIES:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= settings.TRUSTED_PROXIES:
            return chain[-settings.TRUSTED_PROXIES]
    return request.META.get("REMOTE_ADDR", "")


def new_challenge() -> dict:
    """The JSON the widget fetches: what to solve, signed, expiring."""
    challenge = altcha.create_challenge_v1(
        hmac_key=_hmac_key(),
        max_number=settings.ALTCHA_MAX_NUMBER,
        expires=datetime.now(UTC) + CHALLENGE_TTL,
    )
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "maxnumber": challenge.max_number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    }


def solution_is_valid(payload: str) -> bool:
    """A correct, unexpired solution never seen before (a bot may not replay one solution 500 times)."""
    if not payload or len(payload) > 2_000:
        return False
    try:
        valid, _ = altcha.verify_solution_v1(payload, _hmac_key(), check_expires=True)
        signature = json.loads(base64.b64decode(payload))["signature"]
    except (ValueError, KeyError, TypeError):
        return False
    if not valid:
        return False
    return bool(_redis().set(USED_KEY.format(signature), 1, nx=True, ex=int(CHALLENGE_TTL.total_seconds())))


def solve(challenge: dict) -> str:
    """The payload a browser's widget would post: for tests, benchmarks and the demo's probes."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"], 0
    )
    fields = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps(fields | {"number": solution.number}).encode()).decode()
