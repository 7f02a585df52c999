"""Who may do what on one dashboard: the serving mode, the visitor, and the password list.

Local mode (the default) serves one person on this machine: no sign-in, every job is theirs, and the
dashboard refuses to serve beyond localhost. Shared mode (`PRUNE_SHARED=1`) serves a class or a
team: every visitor signs in — through Streamlit's OpenID Connect login when
`.streamlit/secrets.toml` configures `[auth]`, else against the password list kept here — every job
records its owner, and only its owner or an admin cancels, retries or deletes it. Everyone signed in
may view results.

The password list is `$PRUNE_HOME/users.json` (owner-only file mode): names with bcrypt hashes
(pyca's `bcrypt`, cost 12) and an admin flag, managed with `python -m prune_core users
add|remove|list`. Pure Python: the dashboard checks passwords without importing TensorFlow."""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from prune_core import paths
from prune_core.errors import SpecError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; a longer password is refused, not silently cut
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def mode() -> str:
    """ "shared" (PRUNE_SHARED=1: sign-in, owners), "open" (PRUNE_SHARED=0: no sign-in even when
    served beyond localhost, e.g. inside a container the user alone reaches) or "local" (unset: no
    sign-in, and only a loopback address is served)."""
    value = os.environ.get("PRUNE_SHARED", "").strip().lower()
    if value in _TRUE:
        return "shared"
    if value in _FALSE:
        return "open"
    return "local"


def shared() -> bool:
    return mode() == "shared"


def loopback(address: str | None) -> bool:
    """Whether a server address is reachable from this machine only ("" means every interface)."""
    return (address or "").strip() in ("127.0.0.1", "localhost", "::1") or (
        address or ""
    ).startswith("127.")


@dataclass(frozen=True)
class Visitor:
    """Who is using the dashboard. `name` None: the local user of a local-mode dashboard."""

    name: str | None
    admin: bool = False

    @property
    def owner_filter(self) -> str | None:
        """The owner whose jobs this visitor may act on; None: any job (an admin, or local mode)."""
        return None if self.admin or self.name is None else self.name

    def may_manage(self, owner: str | None) -> bool:
        return self.owner_filter is None or owner == self.name


LOCAL = Visitor(None, admin=True)


def oidc_admins() -> set[str]:
    """Admins among OpenID Connect visitors: e-mail addresses in PRUNE_ADMINS, comma-separated."""
    return {a.strip().lower() for a in os.environ.get("PRUNE_ADMINS", "").split(",") if a.strip()}


#: What Streamlit's OpenID Connect login needs under [auth] (the provider's three either there or in
#: one [auth.NAME] section).
AUTH_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def oidc_problem(auth: dict) -> str | None:
    """Why an [auth] section cannot sign anyone in (one line naming the missing keys), or None."""
    missing = [f"auth.{k}" for k in AUTH_KEYS if not auth.get(k)]
    providers = [v for v in auth.values() if isinstance(v, dict)] or [auth]
    named = [k for k in auth if isinstance(auth[k], dict)]
    for i, provider in enumerate(providers):
        where = f"auth.{named[i]}." if named else "auth."
        missing += [where + k for k in PROVIDER_KEYS if not provider.get(k)]
    if not missing:
        return None
    return (
        "shared mode's OpenID Connect sign-in is not fully configured in .streamlit/secrets.toml: "
        f"missing {', '.join(missing)}"
    )


def oidc_visitor(claims: dict) -> Visitor | None:
    """A signed-in OpenID Connect visitor from the provider's claims: known by a verified e-mail
    (and an admin only then, when PRUNE_ADMINS lists it), else by the provider's subject id, so an
    unverified address cannot take another visitor's runs or an admin's rights."""
    email, verified = claims.get("email"), claims.get("email_verified") is True
    if email and verified:
        name = str(email)
        return Visitor(name, admin=name.lower() in oidc_admins())
    subject = claims.get("sub")
    return Visitor(f"id:{subject}", admin=False) if subject else None


# ---- the password list ---------------------------------------------------------------------------
def users_path(root: Path | None = None) -> Path:
    return (root or paths.home()) / "users.json"


def load_users(root: Path | None = None) -> dict:
    """{name: {"hash": bcrypt hash, "admin": bool}}; {} when there is no list (or it is
    unreadable)."""
    try:
        data = json.loads(users_path(root).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        n: u
        for n, u in data.items()
        if isinstance(n, str)
        and NAME.match(n)
        and isinstance(u, dict)
        and isinstance(u.get("hash"), str)
    }


def _write_users(users: dict, root: Path | None = None) -> None:
    """Write the list atomically, readable by its owner only."""
    paths.write_atomically(
        users_path(root), json.dumps(users, indent=1, sort_keys=True).encode(), mode=0o600
    )


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise SpecError(
            f"user name {str(name)[:70]!r} must be 1–64 letters, digits or . _ @ + - "
            "(starting with a letter or digit)"
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SpecError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise SpecError(
            f"a password may have at most {MAX_PASSWORD_BYTES} bytes (bcrypt reads no further)"
        )


def add_user(name: str, password: str, admin: bool = False, root: Path | None = None) -> None:
    """Add a user, or set an existing user's password and admin flag."""
    import bcrypt

    check_name(name)
    check_password(password)
    users = load_users(root)
    users[name] = {
        "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(12)).decode(),
        "admin": bool(admin),
    }
    _write_users(users, root)


def remove_user(name: str, root: Path | None = None) -> bool:
    users = load_users(root)
    if users.pop(name, None) is None:
        return False
    _write_users(users, root)
    return True


@functools.lru_cache(maxsize=1)
def _unknown_name_hash() -> bytes:
    """A hash to check against when the name is unknown, so a wrong name costs as long as a wrong
    password (the time taken says nothing about which names exist)."""
    import bcrypt

    return bcrypt.hashpw(os.urandom(16), bcrypt.gensalt(12))


def verify(name: str, password: str, root: Path | None = None) -> Visitor | None:
    """The visitor these credentials sign in, or None."""
    import bcrypt

    user = load_users(root).get(name) if isinstance(name, str) else None
    secret = password.encode() if isinstance(password, str) else b""
    if not secret or len(secret) > MAX_PASSWORD_BYTES:
        return None
    try:
        ok = bcrypt.checkpw(secret, user["hash"].encode() if user else _unknown_name_hash())
    except ValueError:  # a damaged hash in the file
        return None
    return Visitor(name, admin=bool(user.get("admin"))) if ok and user else None


@dataclass(frozen=True)
class Limit:
    """At most `count` failed sign-ins per `seconds` for one key (a browser session, a name)."""

    count: int
    seconds: float


class Throttle:
    """Slows guessing, atomically: `reserve` checks every limit and counts the attempt as a failure
    in one step (forty simultaneous attempts cannot all pass the check before any is recorded);
    `settle` forgives it when the password was right. Limits: failures per browser session (the
    hard one: a guesser's own session waits), failures per name (high enough that an attacker
    cannot keep the owner out for long, low enough to stop a spread of sessions guessing one
    name), and password checks per second for the whole server (bcrypt costs a quarter second of
    CPU; spraying across names is bounded by it). Kept in the server process's memory."""

    def __init__(
        self,
        per_session: Limit = Limit(5, 60.0),
        per_name: Limit = Limit(20, 600.0),
        checks_per_second: int = 3,
        clock=time.monotonic,
    ):
        self.limits = {"session": per_session, "name": per_name}
        self.checks_per_second, self.clock = checks_per_second, clock
        self._failures: dict[tuple, list[float]] = {}
        self._checks: list[float] = []
        self._lock = threading.Lock()

    def _recent(self, key: tuple, seconds: float, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if now - t < seconds]
        self._failures[key] = kept
        return kept

    def reserve(self, session: str, name: str) -> str | None:
        """None when this attempt may check a password (and it is counted as failed until
        `settle`); else why not, in a sentence for the page."""
        with self._lock:
            now = self.clock()
            keys = {"session": ("session", session), "name": ("name", name)}
            for kind, key in keys.items():
                limit = self.limits[kind]
                recent = self._recent(key, limit.seconds, now)
                if len(recent) >= limit.count:
                    wait = limit.seconds - (now - recent[-limit.count])
                    who = "from this browser" if kind == "session" else "for this name"
                    return f"Too many failed attempts {who}; try again in {max(1, wait):.0f} s."
            self._checks = [t for t in self._checks if now - t < 1.0]
            if len(self._checks) >= self.checks_per_second:
                return "The server is checking other sign-ins; try again in a second."
            self._checks.append(now)
            for key in keys.values():
                self._failures.setdefault(key, []).append(now)
            return None

    def settle(self, session: str, name: str, ok: bool) -> None:
        """After the check: a right password forgives this session's and this name's failures."""
        if not ok:
            return
        with self._lock:
            self._failures.pop(("session", session), None)
            self._failures.pop(("name", name), None)
