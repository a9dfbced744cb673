"""Configuration of the emulator.

A plain dataclass (not pydantic settings) so that tests, the CLI and ``make demo`` can build one in a line,
and so that every field has a *demo* default: the emulator must start with zero configuration and the
values must be obviously fake, so nobody mistakes them for real tenant credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEMO_CLIENT_ID = "cs-emulator-demo-client"
DEMO_CLIENT_SECRET = "emulator-demo-secret-not-for-production-use-0123456789"
DEMO_IID = "st-emulator-demo-app"
DEMO_ACCOUNT_ID = "0123456789abcdef01234567"
DEMO_ORG_ID = "o-emulator-demo-org"
DEMO_USER_ID = "u-emulator-demo-user"


@dataclass
class EmulatorSettings:
    """What the emulator accepts and how it behaves.

    ``extra_clients`` maps further client ids to their secrets, for tests that need more than one JWT app.
    ``rate_limit_per_minute`` of 0 disables rate limiting. ``ingestion_delay_seconds`` is how long after an
    ``addContacts`` call the records appear in the list (0 applies them before the response is sent).
    ``dial_rate`` is how many contacts per second the simulated dialer of a running campaign works
    through (0: it never dials, so a campaign stays Active until stopped), and
    ``campaign_preparation_seconds`` how long a new voice campaign stays ``Preparing`` before it is
    ``Ready`` (0: Ready at once); both are read from the emulator's clock (:mod:`.campaigns`).
    """

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    iid: str = DEMO_IID
    account_id: str = DEMO_ACCOUNT_ID
    rate_limit_per_minute: int = 60
    ingestion_delay_seconds: float = 0.5
    seed_demo_data: bool = True
    dial_rate: float = 5.0
    campaign_preparation_seconds: float = 1.0
    org_id: str = DEMO_ORG_ID
    user_id: str = DEMO_USER_ID
    extra_clients: dict[str, str] = field(default_factory=dict)
    jwt_leeway_seconds: float = 5.0
    max_jti_lifetime_seconds: int = 3600

    def __post_init__(self) -> None:
        if self.dial_rate < 0:
            raise ValueError(f"dial_rate must be >= 0 contacts per second, not {self.dial_rate}")
        if self.campaign_preparation_seconds < 0:
            raise ValueError(
                f"campaign_preparation_seconds must be >= 0, not {self.campaign_preparation_seconds}"
            )

    def airflow_connection(self, base_url: str) -> dict[str, Any]:
        """A ``koreai`` connection (``AIRFLOW_CONN_*`` JSON form) that this emulator accepts."""
        return {
            "conn_type": "koreai",
            "host": base_url,
            "login": self.client_id,
            "password": self.client_secret,
            "extra": {
                "iid": self.iid,
                "account_id": self.account_id,
                # The account's limit as this emulator enforces it (0: none), for the client's budget.
                "rate_limit_per_minute": self.rate_limit_per_minute,
            },
        }

    def clients(self) -> dict[str, str]:
        """Every accepted client id mapped to the secret its tokens must be signed with."""
        return {**self.extra_clients, self.client_id: self.client_secret}
