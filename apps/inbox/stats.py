"""The inbox's dashboard figures: how fast and how well the town hall answers, with and without the AI's
drafts. Small samples are common (a commune answers a few messages a week), so every satisfaction share
comes with its 95 % interval (Wilson's, which stays inside 0–100 % for small counts)."""

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from .models import Draft, Reply

SATISFIED_FROM = 4  # a rating of 4 or 5 out of 5 counts as satisfied (Services Publics+ reading)
Z95 = 1.959964


@dataclass(frozen=True)
class Interval:
    share: float  # 0–1
    low: float
    high: float
    count: int  # how many ratings it rests on


def wilson(successes: int, total: int) -> Interval | None:
    if total == 0:
        return None
    p = successes / total
    denominator = 1 + Z95**2 / total
    centre = (p + Z95**2 / (2 * total)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / total + Z95**2 / (4 * total**2)) / denominator
    return Interval(share=p, low=max(0.0, centre - half), high=min(1.0, centre + half), count=total)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear between ranks; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Group:
    """Replies sharing something (AI-assisted or not, a service, a month)."""

    replies: int = 0
    days: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def add(self, row: dict) -> None:
        self.replies += 1
        self.days.append(row["days"])
        if row["citizen_rating"] is not None:
            self.ratings.append(row["citizen_rating"])

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    @property
    def p90_days(self) -> float | None:
        return percentile(self.days, 90)

    @property
    def satisfaction(self) -> Interval | None:
        return wilson(sum(1 for r in self.ratings if r >= SATISFIED_FROM), len(self.ratings))


def period_start(months: int):
    """The first day of the month `months - 1` months ago: « the last 12 months » are 12 calendar months."""
    first = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first - relativedelta(months=months - 1)


def reply_rows(*, months: int = 12) -> list[dict]:
    """One row per reply sent in the last `months` months: no name, no address, no text."""
    since = period_start(months)
    rows = []
    replies = (
        Reply.objects.filter(sent_at__gte=since).select_related("message__service", "draft").order_by("sent_at", "id")
    )
    for reply in replies:
        message = reply.message
        rows.append(
            {
                "message_id": message.pk,
                "service": message.service.name if message.service_id else "",
                "received_at": message.received_at,
                "sent_at": reply.sent_at,
                "month": timezone.localtime(reply.sent_at).strftime("%Y-%m"),
                "days": (reply.sent_at - message.received_at).total_seconds() / 86_400,
                "ai_assisted": reply.ai_assisted,
                "ai_share": reply.ai_share,
                "citizen_rating": reply.citizen_rating,
                "draft_rating": reply.draft.rating if reply.draft_id else None,
            }
        )
    return rows


@dataclass
class Dashboard:
    ai: Group
    agent: Group
    by_service: dict[str, Group]
    by_month: dict[str, Group]
    ai_month_share: dict[str, float]
    draft_ratings: dict
    total: int

    @property
    def delay_bars(self) -> list[dict]:
        """The two median delays as bars of a chart drawn in CSS (no chart library, no script)."""
        values = [("Aidées par l'IA", self.ai.median_days), ("Rédigées par un agent", self.agent.median_days)]
        top = max((v for _, v in values if v is not None), default=0)
        if not top:
            return []
        return [{"label": label, "value": v, "width": max(1, round(100 * (v or 0) / top))} for label, v in values]

    @property
    def ai_share_of_replies(self) -> float | None:
        return self.ai.replies / self.total if self.total else None


def dashboard(*, months: int = 12) -> Dashboard:
    rows = reply_rows(months=months)
    ai, agent = Group(), Group()
    by_service, by_month, ai_by_month = defaultdict(Group), defaultdict(Group), Counter()
    for row in rows:
        (ai if row["ai_assisted"] else agent).add(row)
        by_service[row["service"] or "Sans service"].add(row)
        by_month[row["month"]].add(row)
        ai_by_month[row["month"]] += row["ai_assisted"]
    return Dashboard(
        ai=ai,
        agent=agent,
        by_service=dict(sorted(by_service.items())),
        by_month=dict(sorted(by_month.items())),
        ai_month_share={month: ai_by_month[month] / group.replies for month, group in by_month.items()},
        draft_ratings=draft_ratings(months=months),
        total=len(rows),
    )


def draft_ratings(*, months: int = 12) -> dict:
    since = period_start(months)
    rated = list(Draft.objects.filter(rated_at__gte=since).values_list("rating", "rating_reason"))
    labels = dict(Draft.Reason.choices)
    reasons = Counter(reason for _, reason in rated)
    return {
        "count": len(rated),
        "mean": statistics.fmean(r for r, _ in rated) if rated else None,
        "by_rating": {n: sum(1 for r, _ in rated if r == n) for n in range(1, 6)},
        "reasons": [(labels.get(reason, reason), count) for reason, count in reasons.most_common()],
        "requested": Draft.objects.filter(created_at__gte=since).count(),
    }
