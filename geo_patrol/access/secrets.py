"""Passwords (Argon2id, memory-hard) and random bearer tokens (stored as SHA-256 hashes).

Tokens are 256 random bits, so a fast hash is enough to keep a stolen database from
yielding usable tokens; passwords are chosen by people and need a slow, memory-hard hash.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-mem)

DEVICE_PREFIX = "gpd_"
MEMBER_PREFIX = "gpt_"
SESSION_PREFIX = "gps_"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash never matches."""
    if not password_hash:
        _HASHER.hash(password)  # same work either way: no timing hint that the login exists
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A new random token with a prefix saying what it is for."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A random password for resets (shown once)."""
    return secrets.token_urlsafe(12)
