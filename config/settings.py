"""Settings (pydantic-settings): environment variables ``COLLECTDESK_*`` and
the desk's config files (the user's, and the desk host's system-wide one). The
default policy files live beside this module."""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from config import CONFIG_DIR  # noqa: F401 - one CONFIG_DIR, named here too


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("collectdesk", appauthor=False)


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("collectdesk", appauthor=False)


SYSTEM_CONFIG = Path("/etc/collectdesk/desk.toml")
"""The desk host's config file, for every user of the machine (``deploy/ssh/desk.toml``)."""


def system_config_file() -> Path:
    """The system-wide desk config file: ``COLLECTDESK_SYSTEM_CONFIG``, else ``SYSTEM_CONFIG``."""
    return Path(os.environ.get("COLLECTDESK_SYSTEM_CONFIG") or SYSTEM_CONFIG)


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'collectdesk.db'}"


class BackendSettings(BaseSettings):
    """The backend's settings; ``COLLECTDESK_DB`` names the database."""

    model_config = SettingsConfigDict(env_prefix="COLLECTDESK_", extra="ignore")

    db: str = Field(default_factory=default_db_url)
    token_ttl_hours: float = 12.0
    """A token is refused (401) this long after the sign-in that made it, however busy."""
    session_idle_minutes: float = 30.0
    """A token with no request for this long is refused (401): the session ended while its desk sat
    idle. 0 turns idle expiry off (the absolute ``token_ttl_hours`` still holds)."""
    session_touch_seconds: float = 60.0
    """A token's last use is written again at most this often (each request would be a write)."""
    lease_minutes: int = 15
    idempotency_hours: int = 24
    default_country: str = "US"
    policies: list[str] = ["default"]
    """Policies every account is held to whatever its jurisdiction (ids in config/policies)."""
    bank_name: str = "Collectdesk Demo Bank"
    bank_contact: str = "Customer care: +1 800 555 0100 · care@bank.example · 1 Bank Plaza, New York, NY"
    """Who letters come from (plan confirmations, demand letters)."""
    config_dir: Path | None = None
    """The folder of the configuration that can be reloaded while serving: ``policies/``,
    ``strategies/`` and ``authority.toml`` (``backend.services.configuration``). Unset: the
    package's own ``config/``. ``collectdesk serve`` reloads it on SIGHUP."""
    config_check_seconds: float = Field(default=1.0, ge=0)
    """How often each worker looks whether its configuration was reloaded; 0: never."""
    recheck_seconds: float = 30.0
    """How often the backend evaluates again the accounts whose contactability has lapsed
    (a call window opened or closed); 0 turns the loop off (the worklist still does it for its page)."""
    treatments_minutes: float = 0.0
    """How often the backend runs the treatments (issue 20: the reminders each strategy sends by
    e-mail, SMS and letter), once per deployment however many workers or hosts; each day's first
    run finds the steps due. 0 (the default) turns it off, so that a fresh installation never
    writes to customers until the bank says so; ``collectdesk treat`` runs it by hand."""
    opt_out_url: str = "https://bank.example/opt-out"
    """Where a customer opts out of e-mails (an ``https:`` or ``mailto:`` address): shown in
    every treatment e-mail and its ``List-Unsubscribe`` (Reg F §1006.6(e))."""
    sweep_hours: float = 24.0
    """How often the backend runs the sweep (plan items and plans kept or broken, SPEC §2), the
    first time at start-up; 0 turns it off (``collectdesk sweep`` and each payment still run it)."""

    # -- capacity: sized together, per worker process (issue 19) -----------------------------
    # A request holds at most one pooled connection at a time (the token check ends its
    # transaction before the route takes one), and every route body runs in one of
    # ``threads``; with ``threads`` ≤ ``db_pool_size`` + ``db_max_overflow`` no thread waits
    # for a connection. PostgreSQL's ``max_connections`` must exceed the connections of every
    # worker of every host: workers × (pool size + overflow) + a few for maintenance.
    threads: int = Field(default=2, ge=1)
    """Threads that run the routes' bodies (and their dependencies) in each worker. Two: the
    routes are CPU-bound, and more threads only fight over the interpreter with each other and
    with the event loop (bench/README, "Fewer route threads")."""
    db_pool_size: int = Field(default=10, ge=1)
    """Connections to PostgreSQL each worker keeps open."""
    db_max_overflow: int = Field(default=10, ge=0)
    """Connections each worker may open beyond ``db_pool_size`` at busy moments (closed after)."""
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long a request waits for a free connection; then it is answered 503 with Retry-After
    at once (never a 30-second hang)."""
    max_in_flight: int = Field(default=50, ge=0)
    """Requests each worker handles at once; one more is answered 503 with Retry-After at once,
    so that latency stays bounded when more is offered than the server can do. 0: no limit.
    Fifty: two workers on two CPUs answer about 155 requests a second, so 100 in flight are
    answered within about 0.7 s; with 100 a worker, 2,000 agents waited 1.4 s (p50) for fewer
    answers (bench/README, "Simulated agents")."""
    max_queue_seconds: float = Field(default=2.0, ge=0)
    """How long an admitted request may wait for one of the worker's ``threads``: one that
    waited longer is answered 503 with Retry-After when its turn comes, before it takes a
    connection or does anything, so that under overload the requests served are served
    quickly and the rest refused. The wait is counted from admission (``max_in_flight``),
    so not the time a request spent in the kernel before the worker read it. 0: no bound."""

    # -- the front door: signing in (SPEC §5) --------------------------------------------
    # Failed sign-ins are counted per user name (as typed, whether or not it exists) and per
    # client address; after ``*_backoff_after`` failures each further one makes the next attempt
    # wait ``login_backoff_seconds``, doubled each time up to ``login_backoff_max_seconds``;
    # after ``*_lock_after`` the name or address is locked for ``login_lock_minutes``. An attempt
    # that must wait is answered 429 with Retry-After, and its password is never checked. A
    # success clears the name's count; failures older than ``login_forget_minutes`` are
    # forgotten. 0 for an ``*_after`` turns that step off.
    login_name_backoff_after: int = Field(default=3, ge=0)
    login_name_lock_after: int = Field(default=10, ge=0)
    login_address_backoff_after: int = Field(default=20, ge=0)
    """Higher than a name's: many agents may share one address (an office behind NAT)."""
    login_address_lock_after: int = Field(default=100, ge=0)
    login_backoff_seconds: float = Field(default=1.0, gt=0)
    login_backoff_max_seconds: float = Field(default=60.0, gt=0)
    login_lock_minutes: float = Field(default=15.0, gt=0)
    login_forget_minutes: float = Field(default=60.0, gt=0)
    """Longer than the lock: a name that was locked is locked again at its next failure."""
    # Only a password known to be wrong counts. So that attempts made at the same moment
    # cannot all slip in before the first has failed, no more are checked at once than the
    # failures a name or address may still take before its back-off (one at least); the others
    # wait their turn on the event loop, up to ``login_turn_wait_seconds`` (then 429).
    login_turn_wait_seconds: float = Field(default=5.0, gt=0)
    login_checking_stale_seconds: float = Field(default=30.0, gt=0)
    """An attempt still counted as being checked after this long was cut off (a backend
    killed, a client gone): it holds no turn any more and never counts as a failure."""
    trusted_proxies: list[str] = []
    """Addresses or networks of reverse proxies and load balancers in front of the backend
    (``["127.0.0.1", "10.0.0.0/8"]``): a request from one of them is throttled by the client
    address its ``X-Forwarded-For`` names. Empty: the connection's own address, always."""
    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError: "… does not appear to be an IPv4 or IPv6 network"
        return value

    # -- TLS (issue 18): ``collectdesk serve`` speaks HTTPS itself when given a certificate -----
    tls_certfile: Path | None = None
    """The server's certificate (PEM; the chain after it, and the key too if ``tls_keyfile`` is
    unset). Unset: plain HTTP, for loopback or behind a reverse proxy that terminates TLS."""
    tls_keyfile: Path | None = None
    """The certificate's private key (PEM)."""
    tls_keyfile_password: str | None = Field(default=None, repr=False)
    """The key's passphrase, if it is encrypted (from the environment: never on a command line)."""

    # -- e-mail (issue 20 item 2): the SMTP relay treatments send through (backend.channels.email) --
    smtp_host: str | None = None
    """The relay's host name; unset: no e-mail can be sent (a send says so, naming this setting)."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """587: message submission, with STARTTLS."""
    smtp_starttls: bool = True
    """Upgrade the connection with STARTTLS before anything else is said (the relay's certificate
    checked against the system's CAs, or ``smtp_ca_bundle``'s); false only for a relay on loopback
    or a trusted network."""
    smtp_ca_bundle: Path | None = None
    """The CA certificates (PEM) the relay's certificate is checked against, for a relay signed by
    the bank's own CA; unset: the system's CAs."""
    smtp_username: str | None = None
    """Set: sign in (AUTH) with it and ``smtp_password``; unset: send without signing in."""
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    """From the environment (``COLLECTDESK_SMTP_PASSWORD``); never logged nor shown in an error."""
    smtp_from: str | None = None
    """The From address, bare or with a name: ``Demo Bank Collections <collections@bank.example>``."""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long to wait for the relay, at connecting and at each reply; then a temporary failure."""

    @field_validator("smtp_from")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from email.utils import parseaddr

        if "\r" in value or "\n" in value:
            raise ValueError("an address is one line")
        _, address = parseaddr(value)
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain or " " in address:
            raise ValueError(f"{value!r} is not an e-mail address (name@domain, or Name <name@domain>)")
        return value

    # -- SMS (issue 20 item 2): the HTTP gateway treatments text through (backend.channels.sms) --
    sms_gateway_url: str | None = None
    """Where a text is POSTed (the gateway's send endpoint); ``https://`` unless its host is
    loopback. Unset: no text can be sent (a send says so, naming this setting)."""
    sms_auth_header: str = "Authorization"
    """The header that carries ``sms_auth_value`` (``Authorization``, ``X-Api-Key``…)."""
    sms_auth_value: SecretStr | None = Field(default=None, repr=False)
    """The header's value (``Bearer …``), from the environment (``COLLECTDESK_SMS_AUTH_VALUE``);
    never logged nor shown in an error. Unset: no such header is sent."""
    sms_body_template: str = '{"to": "$to", "text": "$text", "from": "$sender", "reference": "$key"}'
    """The JSON the gateway is sent. It is parsed as JSON, and every string value that is exactly
    ``"$to"`` (the number, E.164), ``"$text"``, ``"$key"`` (the idempotency key) or ``"$sender"``
    (``sms_sender``) is replaced by that value, so whatever a value holds stays one JSON string;
    a placeholder inside a longer string is refused. ``$to`` and ``$text`` are required."""
    sms_sender: str | None = None
    """The sender id the gateway shows (a short code, a number, an alphanumeric name)."""
    sms_message_id_field: str = "id"
    """Where the gateway's message id is in its JSON answer, as a dotted path (``id``,
    ``data.message_id``, ``messages.0.id``): receipts come back under that id."""
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long to wait for the gateway, to connect and to answer; then a temporary failure."""
    sms_max_segments: int = Field(default=3, ge=1, le=10)
    """A text longer than this many SMS segments (160 GSM-7 characters, or 70 UCS-2 for Chinese,
    alone; 153 and 67 each in a longer one) is refused, not sent."""
    sms_webhook_secret: SecretStr | None = Field(default=None, repr=False)
    """The key the gateway signs its receipts and replies with (HMAC-SHA256, see
    ``backend.channels.sms``); unset: every inbound post is refused."""
    sms_webhook_tolerance_seconds: int = Field(default=300, gt=0)
    """An inbound post signed more than this far from now (before or after) is refused."""

    @field_validator("sms_gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import ipaddress
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - a port out of range raises here
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a URL: {exc}") from exc
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(f"{value!r} is not an http(s) URL")
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if parts.scheme != "https" and not loopback:
            raise ValueError(f"{value!r}: https:// is required (plain http only to a gateway on loopback)")
        return value.strip()

    @field_validator("sms_auth_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value):
            raise ValueError(f"{value!r} is not a header name")
        return value

    @field_validator("sms_body_template")
    @classmethod
    def _body_template(cls, value: str) -> str:
        import json
        import re

        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        found: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if re.search(r"\$(to|text|key|sender)\b", k):
                        raise ValueError(f"{k!r}: a placeholder is a value, not a key")
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
            elif isinstance(node, str):
                if node in ("$to", "$text", "$key", "$sender"):
                    found.add(node)
                elif re.search(r"\$(to|text|key|sender)\b", node):
                    raise ValueError(f"{node!r}: a placeholder must be a whole JSON string (\"$to\"), "
                                     "not part of one")

        walk(parsed)
        missing = sorted({"$to", "$text"} - found)
        if missing:
            raise ValueError(f"has no {missing[0]} (a string value that is exactly \"{missing[0]}\")")
        return value

    @field_validator("sms_message_id_field")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not value or any(not part for part in value.split(".")):
            raise ValueError(f"{value!r} is not a dotted path (id, data.message_id)")
        return value

    hash_workers: int = Field(default=1, ge=1)
    """Threads that check passwords (argon2id, about 20 ms of CPU each), off the event loop: a
    flood of sign-ins takes at most this many CPUs from the requests of those signed in."""
    hash_queue: int = Field(default=64, ge=0)
    """Sign-ins that may wait for a hashing thread; more at once are answered 503 with Retry-After."""
    login_db_concurrency: int = Field(default=1, ge=1)
    """Sign-ins that may be at the database at once (each of their steps is a short transaction);
    the others wait on the event loop, so a flood of them, refused 429 or not, leaves the server's
    threads and SQLite's one write lock to the requests of those signed in."""
    hash_nice: int = Field(default=10, ge=0, le=19)
    """How many steps below the server's the hashing threads' CPU priority is (Linux ``nice``;
    0: the same): on a busy CPU the requests of those signed in go first."""


_DESK_FILES: ContextVar[tuple[Path, Path] | None] = ContextVar("desk_config_files", default=None)


class DeskSettings(BaseSettings):
    """The desk's settings, each from the first of: what the command line says
    (``load``'s overrides), the environment (``COLLECTDESK_*``), ``config.toml`` in the
    user's config dir, the system-wide file (``system_config_file()``: on a desk host the
    backend's URL and CA bundle for every agent), the defaults. Read by pydantic-settings'
    own sources; a file that is not there is skipped.

    ``[keymap]`` in a file maps binding ids to keys (Textual's ``set_keymap``); the user's
    keys are laid over the system file's, table merged with table.
    """

    model_config = SettingsConfigDict(env_prefix="COLLECTDESK_", extra="ignore")

    server: str | None = None
    lang: str | None = None
    low_bandwidth: bool = False
    timeout_s: float = 10.0
    keymap: dict[str, str] = {}
    drafts_dir: Path | None = None
    ca_bundle: Path | None = None
    """The CA certificates (PEM) the desk trusts the backend's certificate by, for an
    ``https://`` server signed by the bank's own CA; unset: the usual public CAs (certifi's)."""
    exports_dir: Path | None = None
    """Where the desk writes exported reports; unset: the user's download directory
    (``XDG_DOWNLOAD_DIR`` on Linux, through platformdirs), else the home directory."""

    def exports_directory(self) -> Path:
        """Where exports go: ``exports_dir``, or the user's download directory."""
        if self.exports_dir is not None:
            return Path(self.exports_dir).expanduser()
        from platformdirs import user_downloads_dir

        downloads = Path(user_downloads_dir())
        return downloads if downloads.is_dir() else Path.home()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = _DESK_FILES.get()  # only ``load`` reads files: DeskSettings(...) is what it is given
        if files is None:
            return init_settings, env_settings
        user, system = files
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=user),
                TomlConfigSettingsSource(settings_cls, toml_file=system))

    @classmethod
    def load(cls, path: Path | None = None, *, system: Path | None = None, **overrides: object) -> DeskSettings:
        """The settings with ``path`` as the user's config file (default: ``config.toml`` in
        the user's config dir) over ``system`` (default: ``system_config_file()``);
        ``overrides`` that are not None come first."""
        token = _DESK_FILES.set((path or config_dir() / "config.toml", system or system_config_file()))
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        finally:
            _DESK_FILES.reset(token)
