"""The secret scan of a deployment: no file it wrote holds the connection's client secret or a JWT.

Both e2e deployments run it over everything their services and workers wrote (logs first of all): a JWT
signed with the secret is no more masked than any value Airflow does not know of, so finding none shows
that the hook registered its tokens with the masker and that no message of ours quotes one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: A JSON Web Token: three base64url parts, the first a JSON header (``{"`` -> ``eyJ``).
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


@dataclass
class ScanResult:
    """Every file scanned, and those (relative to their root) that hold the secret or a JWT."""

    files: list[Path] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


def scan_for_secrets(roots: Iterable[Path], secret: str, *, skip: Iterable[Path] = ()) -> ScanResult:
    """Read every file under ``roots`` (bytes decoded leniently: binary files are scanned too), less the
    trees under ``skip``, for ``secret`` and for anything shaped like a JWT."""
    if not secret:
        raise ValueError("no secret to scan for")
    skipped = [path.resolve() for path in skip]
    result = ScanResult()
    for root in roots:
        for path in sorted(root.rglob("*")):
            resolved = path.resolve()
            if not path.is_file() or any(resolved.is_relative_to(tree) for tree in skipped):
                continue
            result.files.append(path)
            text = path.read_bytes().decode("utf-8", errors="replace")
            if secret in text or JWT.search(text):
                result.leaks.append(f"{root.name}/{path.relative_to(root)}")
    return result
