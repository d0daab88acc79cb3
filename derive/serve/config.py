"""What `derive serve` was started with, as one `Settings` value that survives the trip to uvicorn's worker
processes: they import the app by name (`derive.serve.app:app_from_environment`) and read the settings from
the environment variable `DERIVE_SERVE_SETTINGS` (JSON), which the command sets before starting them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from ..core.errors import DeriveError

VARIABLE = "DERIVE_SERVE_SETTINGS"


@dataclass(frozen=True)
class Settings:
    """The problem files, the limits on deciding one answer (as `derive verify`'s), the answer log (None:
    answers are not stored), whether `syntax: sympy` problems are trusted, and the checks a client may ask
    for per minute."""

    problems: list = field(default_factory=list)
    time_limit: float = 20.0  # seconds per answer
    memory_limit: int = 2048  # MB of address space for the process deciding an answer
    log: str | None = None
    trust_problem: bool = False
    checks_per_minute: float = 20.0
    seed: int = 0

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls, environ=os.environ) -> "Settings":
        text = environ.get(VARIABLE)
        if not text:
            raise DeriveError(f"the practice page's settings are missing (start it with 'derive serve', which sets {VARIABLE})")
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as error:
            raise DeriveError(f"the practice page's settings in {VARIABLE} cannot be read: {error}") from None
