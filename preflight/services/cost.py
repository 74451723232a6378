"""What the chosen services will bill, from a dated price table kept as data.

Prices change; :data:`PRICES_READ` says when these were read. The estimate is per segment:
the services bill per second of video (rounded up to whole seconds per request here, the
conservative reading) or per request.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .table import Service

PRICES_READ = datetime.date(2026, 11, 28)


class BillingUnit(str, Enum):
    """What a service charges for."""

    SECOND = "second"
    REQUEST = "request"


@dataclass(frozen=True)
class Price:
    """One price: ``amount`` in ``currency`` per ``unit``; ``amount`` ``None`` when unknown."""

    unit: BillingUnit
    amount: float | None
    currency: str
    note: str = ""


PRICES: dict[str, Price] = {
    "runway": Price(BillingUnit.SECOND, 15.0, "credits", "about 15 credits per second"),
    "runway-gen4": Price(BillingUnit.SECOND, 15.0, "credits", "about 15 credits per second"),
    "runware": Price(BillingUnit.SECOND, 0.28, "USD", "about $0.28 per second"),
    "runware-gen4": Price(BillingUnit.SECOND, 0.28, "USD", "about $0.28 per second"),
    "cloudflare": Price(BillingUnit.SECOND, None, "USD", "no price in the table"),
    "cometapi": Price(BillingUnit.REQUEST, None, "USD", "billed per request; amount not in the table"),
}


@dataclass(frozen=True)
class CostEstimate:
    """The bill of one service for a whole fix: ``billed`` seconds or requests, ``total`` or ``None``."""

    service: str
    requests: int
    billed_seconds: int
    unit: BillingUnit
    amount: float | None
    currency: str
    total: float | None
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "requests": self.requests,
            "billed_seconds": self.billed_seconds,
            "unit": self.unit.value,
            "price": self.amount,
            "currency": self.currency,
            "estimate": None if self.total is None else round(self.total, 2),
            "note": self.note,
            "prices_read": PRICES_READ.isoformat(),
        }

    def describe(self) -> str:
        """One line for the plan printout."""
        if self.total is None:
            money = f"estimate unknown ({self.note})"
        elif self.currency == "USD":
            money = f"about ${self.total:.2f} (${self.amount:g} per {self.unit.value})"
        else:
            money = f"about {self.total:g} {self.currency} ({self.amount:g} per {self.unit.value})"
        return (
            f"{self.service:13s} {self.requests} request(s), {self.billed_seconds} billed s: {money}"
            f" [prices read {PRICES_READ.isoformat()}]"
        )


def billed_seconds(durations_s: Sequence[float]) -> int:
    """Whole seconds billed for requests of these durations (each rounded up; 1 ms tolerance)."""
    return sum(max(1, math.ceil(d - 1e-3)) for d in durations_s)


def estimate(service: Service, durations_s: Sequence[float]) -> CostEstimate:
    """The estimate for sending one request per segment of ``durations_s`` to ``service``."""
    price = PRICES[service.name]
    seconds = billed_seconds(durations_s)
    count = seconds if price.unit is BillingUnit.SECOND else len(durations_s)
    total = None if price.amount is None else price.amount * count
    return CostEstimate(
        service=service.name,
        requests=len(durations_s),
        billed_seconds=seconds,
        unit=price.unit,
        amount=price.amount,
        currency=price.currency,
        total=total,
        note=price.note,
    )
