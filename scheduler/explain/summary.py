"""The decision summary written on the pod: small enough for any cluster size.

Kubernetes caps all annotations of an object at 256 KiB, and a tool that wrote every
node's scores on the pod overflowed it at a few thousand nodes. The summary therefore
holds only what answers "why here?" and "why not there?" at a glance, with every list
bounded: the chosen node and its weighted score per plugin, the three best runners-up
with their totals, the rejection reasons (the eight most common, each cut to 120
characters, the rest counted together) and the node counts. If a pathological case
still exceeds 4 KiB, detail is dropped step by step until it fits. The full tables stay
behind the debug endpoint, whose path the summary names.
"""

from __future__ import annotations

from typing import Any

import orjson

from .record import DecisionRecord

MAX_SUMMARY_BYTES = 4096
MAX_REASONS = 8
MAX_REASON_CHARS = 120
RUNNERS_UP = 3


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reasons(record: DecisionRecord, limit: int, chars: int) -> dict[str, int]:
    counts = record.rejection_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out: dict[str, int] = {}
    for reason, count in ranked[:limit]:
        key = _cut(reason, chars)
        out[key] = out.get(key, 0) + count
    rest = sum(count for _, count in ranked[limit:])
    if rest:
        out["(other reasons)"] = rest
    return out


def _build(record: DecisionRecord, *, runners: int, reasons: int, chars: int, message: int) -> dict[str, Any]:
    summary: dict[str, Any] = {"result": record.result}
    if record.node:
        summary["node"] = record.node
        if record.totals:
            best = record.best(runners + 1)
            chosen_total = next((t for n, t in best if n == record.node), None)
            summary["score"] = {
                "total": chosen_total if chosen_total is not None else max(record.totals),
                "plugins": record.weighted_scores(record.node),
            }
            summary["runnersUp"] = [{"node": n, "total": t} for n, t in best if n != record.node][:runners]
        elif record.scoring_skipped:
            summary["scoring"] = record.scoring_skipped
    if record.nominated_node:
        summary["nominatedNode"] = record.nominated_node
    if record.message and record.result != "Scheduled":
        summary["message"] = _cut(record.message, message)
    rejected = _reasons(record, reasons, chars)
    if rejected:
        summary["rejected"] = rejected
    summary["nodes"] = {
        "all": record.num_all_nodes,
        "evaluated": record.evaluated_nodes,
        "feasible": record.feasible_nodes,
    }
    summary["profile"] = record.profile
    summary["details"] = f"/debug/decisions/{record.pod}"
    return summary


def summarize(record: DecisionRecord) -> str:
    """The annotation value: compact JSON, never longer than MAX_SUMMARY_BYTES."""
    steps = (
        {"runners": RUNNERS_UP, "reasons": MAX_REASONS, "chars": MAX_REASON_CHARS, "message": 1024},
        {"runners": 2, "reasons": 5, "chars": 80, "message": 512},
        {"runners": 1, "reasons": 3, "chars": 60, "message": 256},
        {"runners": 0, "reasons": 1, "chars": 40, "message": 128},
    )
    text = ""
    for step in steps:
        text = orjson.dumps(_build(record, **step)).decode()
        if len(text.encode()) <= MAX_SUMMARY_BYTES:
            return text
    minimal = {"result": record.result, "node": record.node, "details": f"/debug/decisions/{record.pod}"}
    return orjson.dumps(minimal).decode()[:MAX_SUMMARY_BYTES]
