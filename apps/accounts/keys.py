"""API key format: `rgk_<authority id>_<prefix>_<secret>`; all parts are hex or digits."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"^rgk_(?P<authority_id>\d{1,18})_(?P<prefix>[0-9a-f]{12})_(?P<secret>[0-9a-f]{40})$")


@dataclass(frozen=True)
class ParsedKey:
    authority_id: int
    prefix: str
    secret: str


def new_key(authority_id: int) -> tuple[str, str, str]:
    """Returns (plaintext key, prefix, secret hash)."""
    prefix, secret = secrets.token_hex(6), secrets.token_hex(20)
    return f"rgk_{authority_id}_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> ParsedKey | None:
    match = KEY_PATTERN.match(raw.strip())
    if not match:
        return None
    return ParsedKey(int(match["authority_id"]), match["prefix"], match["secret"])


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
