#!/usr/bin/env python3
"""The independent oracle: computes from export.json and judgement.json, by the rules of
docs/definitions.md only (no PowerPulse code), the figures that expected.json holds. Written
separately from the Rust implementation, in another language, so that a wrong rule in `shared`
cannot pass by agreeing with itself. Sentiment is left out (it comes from the VADER lexicon,
which has its own reference test). Run: python3 oracle.py > expected.json"""
import json, math
from datetime import datetime, timezone, timedelta
from zoneinfo import ZoneInfo

export = json.load(open("export.json"))
judged = {k: v for k, v in json.load(open("judgement.json")).items() if not k.startswith("_")}

def parse_time(s):
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        return None
    if t.tzinfo is None:
        return None
    if not (datetime(2000, 1, 1, tzinfo=timezone.utc) <= t < datetime(2100, 1, 1, tzinfo=timezone.utc)):
        return None
    return t

def blank(v):
    return not isinstance(v, str) or v.strip() == ""

filtered = dict(missing_field=0, bad_direction=0, bad_timestamp=0, empty_content=0,
                autoresponse=0, duplicate=0, empty_chats=0, invalid_chats=0)
conversations = []
for chat, msgs in export.items():
    if not isinstance(msgs, list):
        filtered["invalid_chats"] += 1
        continue
    kept, seen_ids, seen_keys = [], set(), set()
    for m in msgs:
        d, ts = m.get("DIRECTION"), m.get("SOCIAL_CREATE_TIME")
        if d is None or ts is None:
            filtered["missing_field"] += 1; continue
        if d not in ("to_company", "to_client"):
            filtered["bad_direction"] += 1; continue
        t = parse_time(ts)
        if t is None:
            filtered["bad_timestamp"] += 1; continue
        text = m.get("MESSAGE_CONTENT")
        if blank(text):
            filtered["empty_content"] += 1; continue
        agent = m.get("AGENT_USERNAME") if not blank(m.get("AGENT_USERNAME")) else (
            m.get("AGENT_EMAIL") if not blank(m.get("AGENT_EMAIL")) else None)
        if d == "to_client" and agent is None and "*977#" in text.lower():
            filtered["autoresponse"] += 1; continue
        pid = m.get("UNIQUE_POST_ID")
        key = (d, ts, text)
        if (pid is not None and pid in seen_ids) or (pid is None and key in seen_keys):
            filtered["duplicate"] += 1; continue
        if pid is not None:
            seen_ids.add(pid)
        seen_keys.add(key)
        role = "customer" if d == "to_company" else ("agent" if agent else "bot")
        kept.append(dict(t=t, role=role, agent=agent, text=text))
    kept.sort(key=lambda m: m["t"])  # stable: equal times keep file order
    if not kept:
        filtered["empty_chats"] += 1
        continue
    minutes = lambda a, b: (b - a).total_seconds() / 60
    gaps, turns, unanswered, first = [], [], 0, None
    last_customer, turn_start, turn_no = None, None, 0
    for m in kept:
        if m["role"] == "customer":
            last_customer = m["t"]
            if turn_start is None:
                turn_start = m["t"]
        elif m["role"] == "agent":
            if last_customer is not None:
                gaps.append((m["agent"], minutes(last_customer, m["t"])))
            if turn_start is not None:
                turns.append((m["agent"], minutes(turn_start, m["t"])))
                if turn_no == 0:
                    first = (m["agent"], minutes(turn_start, m["t"]))
                turn_no += 1
                turn_start = None
    if turn_start is not None:
        unanswered += 1
    j = judged[chat]
    conversations.append(dict(
        chat=chat, first=kept[0]["t"], messages=len(kept),
        agents=sorted({m["agent"] for m in kept if m["role"] == "agent"}),
        replies=[m["agent"] for m in kept if m["role"] == "agent"],
        gaps=gaps, turns=turns, unanswered=unanswered, first_response=first,
        avg_gap=(sum(g for _, g in gaps) / len(gaps)) if gaps else None,
        satisfaction=j["satisfaction"], fcr=j["fcr"], topics=j["topics"],
        # The list's search reads customer and agent texts (not bots'), ignoring case.
        searchable="\n".join(m["text"].lower() for m in kept if m["role"] != "bot")))

def r2(x):
    # Half away from zero, to 2 decimals (docs/definitions.md "Rounding").
    if x is None:
        return None
    return math.copysign(math.floor(abs(x) * 100 + 0.5) / 100, x) + 0.0

def stats(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return dict(n=0, mean=None, median=None, p90=None)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return dict(n=n, mean=r2(sum(v) / n), median=r2(median), p90=r2(v[math.ceil(0.9 * n) - 1]))

def pct(a, b):
    return r2(a * 100 / b) if b else 0.0

def figures(cs):
    scored = [c for c in cs if c["satisfaction"] is not None]
    valued = [c for c in cs if c["fcr"] is not None]
    with_topics = [c for c in cs if c["topics"]]
    counts = {}
    for c in cs:
        for t in c["topics"]:
            counts[t] = counts.get(t, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    avgs = [c["avg_gap"] for c in cs if c["avg_gap"] is not None]
    return dict(
        total_conversations=len(cs),
        total_messages=sum(c["messages"] for c in cs),
        csat_percentage=pct(sum(c["satisfaction"] >= 4 for c in scored), len(scored)),
        fcr_percentage=pct(sum(c["fcr"] is True for c in valued), len(valued)),
        avg_response_time_minutes=r2(sum(avgs) / len(avgs)) if avgs else None,
        response_time=dict(
            reply_gap=stats([g for c in cs for _, g in c["gaps"]]),
            turn=stats([t for c in cs for _, t in c["turns"]]),
            first_response=stats([c["first_response"][1] for c in cs if c["first_response"]]),
            unanswered_turns=sum(c["unanswered"] for c in cs)),
        most_common_topics=[dict(topic=t, count=n, percentage=pct(n, len(with_topics))) for t, n in top],
        n=dict(csat=len(scored), fcr=len(valued), response_time=len(avgs), topics=len(with_topics)))

def local_day(t, tz):
    return t.astimezone(ZoneInfo(tz)).date()

def daily(cs, tz):
    days = sorted({local_day(c["first"], tz) for c in cs})
    rows, d = [], days[0]
    while d <= days[-1]:
        row = figures([c for c in cs if local_day(c["first"], tz) == d])
        del row["most_common_topics"]  # a day's row carries no topic list
        row["date"] = d.isoformat()
        rows.append(row)
        d += timedelta(days=1)
    return rows

def agents(cs):
    names = sorted({a for c in cs for a in c["agents"]})
    rows = []
    for a in names:
        mine = [c for c in cs if a in c["agents"]]
        scored = [c for c in mine if c["satisfaction"] is not None]
        valued = [c for c in mine if c["fcr"] is not None]
        rows.append(dict(
            agent=a, conversations=len(mine),
            replies=sum(r == a for c in cs for r in c["replies"]),
            reply_gap=stats([g for c in cs for who, g in c["gaps"] if who == a]),
            turn=stats([t for c in cs for who, t in c["turns"] if who == a]),
            first_response=stats([c["first_response"][1] for c in cs if c["first_response"] and c["first_response"][0] == a]),
            csat_n=len(scored),
            csat_percentage=pct(sum(c["satisfaction"] >= 4 for c in scored), len(scored)),
            fcr_percentage=pct(sum(c["fcr"] is True for c in valued), len(valued))))
    return sorted(rows, key=lambda r: (-r["conversations"], r["agent"]))

def order(value, desc):
    """Chat ids as the list sorts them (docs/architecture.md): by value, ties by arrival (file)
    order, the whole order reversed when descending, except that conversations without a value
    come last in both directions."""
    have = [(i, c) for i, c in enumerate(conversations) if value(c) is not None]
    have.sort(key=lambda ic: (value(ic[1]), ic[0]), reverse=desc)
    none = [c["chat"] for c in conversations if value(c) is None]
    return [c["chat"] for _, c in have] + (none[::-1] if desc else none)

nairobi_13th = [c for c in conversations if local_day(c["first"], "Africa/Nairobi").isoformat() == "2025-08-13"]
out = dict(
    _about="Worked out by oracle.py from export.json and judgement.json by the rules of docs/definitions.md; no PowerPulse code involved.",
    filtered=filtered,
    metrics=figures(conversations),
    metrics_nairobi_2025_08_13=figures(nairobi_13th),
    metrics_agent_amina=figures([c for c in conversations if "amina" in c["agents"]]),
    metrics_topic_outage=figures([c for c in conversations if "outage" in c["topics"]]),
    metrics_satisfied_only=figures([c for c in conversations if c["satisfaction"] is not None and c["satisfaction"] >= 4]),
    sort_reply_gap_desc=order(lambda c: c["avg_gap"], True),
    sort_reply_gap_asc=order(lambda c: c["avg_gap"], False),
    sort_messages_desc=order(lambda c: c["messages"], True),
    search_token=sorted(c["chat"] for c in conversations if "token" in c["searchable"]),
    daily_nairobi=daily(conversations, "Africa/Nairobi"),
    agents=agents(conversations))
print(json.dumps(out, indent=1))
