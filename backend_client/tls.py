"""TLS from the desk to the backend (issue 18): what the desk trusts the server's certificate
by, and what it says when it cannot. Standard library only (httpx imports ``ssl`` anyway).

There is no way here to turn verification off, and no fall-back to plain HTTP: a server
whose certificate is not trusted is not talked to."""

from __future__ import annotations

import ssl
from pathlib import Path


class CABundleError(ValueError):
    """The configured CA bundle cannot be used; the message says why, in one line."""


def verify_context(ca_bundle: str | Path | None) -> ssl.SSLContext | bool:
    """What the client verifies the server with: a context trusting only the CA certificates in
    ``ca_bundle`` (PEM), with the host name checked; ``True`` (httpx's default trust store,
    certifi's public CAs) when none is configured. Never ``False``."""
    if ca_bundle is None or str(ca_bundle) == "":
        return True
    path = Path(ca_bundle).expanduser()
    if path.is_dir():
        raise CABundleError(f"the CA bundle {path} is a directory: name a PEM file of CA certificates")
    try:
        return ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        raise CABundleError(f"the CA bundle {path} does not exist") from None
    except ssl.SSLError as exc:
        raise CABundleError(f"the CA bundle {path} holds no usable PEM certificate "
                            f"({exc.reason or exc.strerror or exc})") from None
    except OSError as exc:
        raise CABundleError(f"cannot read the CA bundle {path}: {exc.strerror or exc}") from None


def certificate_problem(exc: BaseException) -> str | None:
    """Why a TLS handshake failed, if that is what ``exc`` (an httpx error) came from, in one
    line: the certificate verification's own words ("certificate has expired", "unable to get
    local issuer certificate", "Hostname mismatch, …"), or the TLS error's reason (a server that
    speaks no TLS: "wrong version number"); None for anything else."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        # (OpenSSL sets verify_message and reason; an SSLError made otherwise may lack them.)
        if isinstance(cause, ssl.SSLCertVerificationError):
            said = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or cause
            return f"its certificate is not trusted ({said})"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed ({getattr(cause, 'reason', None) or cause.strerror or cause})"
        cause = cause.__cause__ or cause.__context__
    return None
