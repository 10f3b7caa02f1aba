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
    for position, m in enumerate(msgs, 1):
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
        # A message's id: its UNIQUE_POST_ID, or "<chat>#<position in the chat's array>".
        mid = str(pid) if pid is not None else f"{chat}#{position}"
        kept.append(dict(t=t, role=role, agent=agent, text=text, direction=d, id=mid))
    kept.sort(key=lambda m: m["t"])  # stable: equal times keep file order
    if not kept:
        filtered["empty_chats"] += 1
        continue
    minutes = lambda a, b: (b - a).total_seconds() / 60
    gaps, turns, unanswered, first = [], [], 0, None
    last_customer, turn_start, turn_no = None, None, 0
    segments, previous = 0, None
    for m in kept:
        # A new segment after 24 hours or more of silence (docs/definitions.md section 3).
        if previous is None or minutes(previous, m["t"]) >= 24 * 60:
            segments += 1
        previous = m["t"]
        m["segment"] = segments - 1
        m["gap"] = None
        if m["role"] == "customer":
            last_customer = m["t"]
            if turn_start is None:
                turn_start = m["t"]
        elif m["role"] == "agent":
            if last_customer is not None:
                m["gap"] = minutes(last_customer, m["t"])
                gaps.append((m["agent"], m["gap"]))
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
        chat=chat, first=kept[0]["t"], last=kept[-1]["t"], messages=len(kept), kept=kept,
        segments=segments,
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

# The reply-gap histogram's buckets (docs/definitions.md section 6, "Charts"): upper bounds in
# minutes, each exclusive, then one open bucket.
BUCKETS = [(1, "< 1 min"), (5, "1-5 min"), (15, "5-15 min"), (30, "15-30 min"), (60, "30-60 min"),
           (120, "1-2 h"), (240, "2-4 h"), (480, "4-8 h"), (1440, "8-24 h"), (None, ">= 24 h")]

def histogram(cs):
    counts = [0] * len(BUCKETS)
    for c in cs:
        for _, g in c["gaps"]:
            counts[next(i for i, (u, _) in enumerate(BUCKETS) if u is None or g < u)] += 1
    return [dict(label=l, count=n) for (_, l), n in zip(BUCKETS, counts)]

def heatmap(cs, tz):
    """Customer messages by local weekday (0 = Monday) and hour: the cells that are not empty."""
    cells = {}
    for c in cs:
        for m in c["kept"]:
            if m["role"] == "customer":
                t = m["t"].astimezone(ZoneInfo(tz))
                cells[(t.weekday(), t.hour)] = cells.get((t.weekday(), t.hour), 0) + 1
    return [dict(weekday=d, hour=h, count=n) for (d, h), n in sorted(cells.items())]

def utc(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

def conversation_rows(cs):
    """The columns of the conversations CSV that do not come from the analyzer's sentiment."""
    rows = []
    for c in cs:
        roles = [m["role"] for m in c["kept"]]
        in_order = []
        for m in c["kept"]:
            if m["role"] == "agent" and m["agent"] not in in_order:
                in_order.append(m["agent"])
        rows.append(dict(
            chat_id=c["chat"], total_messages=c["messages"],
            customer_messages=roles.count("customer"), agent_messages=roles.count("agent"),
            bot_messages=roles.count("bot"), satisfaction_score=c["satisfaction"],
            is_satisfied=c["satisfaction"] is not None and c["satisfaction"] >= 4,
            first_contact_resolution=c["fcr"], avg_response_time_minutes=r2(c["avg_gap"]),
            first_message_time=utc(c["first"]), last_message_time=utc(c["last"]),
            common_topics="; ".join(c["topics"]) or None,
            first_response_minutes=r2(c["first_response"][1]) if c["first_response"] else None,
            segments=c["segments"], agents="; ".join(in_order) or None))
    return rows

def message_rows(cs):
    """The messages CSV without sentiment: one row per kept message, in time order."""
    return [dict(message_id=m["id"], chat_id=c["chat"], message_content=m["text"],
                 direction=m["direction"], social_create_time=utc(m["t"]),
                 agent_info=m["agent"], role=m["role"], reply_gap_minutes=r2(m["gap"]),
                 segment=m["segment"])
            for c in cs for m in c["kept"]]

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
    sort_messages_asc=order(lambda c: c["messages"], False),
    sort_started_desc=order(lambda c: c["first"], True),
    sort_started_asc=order(lambda c: c["first"], False),
    sort_score_desc=order(lambda c: c["satisfaction"], True),
    sort_score_asc=order(lambda c: c["satisfaction"], False),
    search_token=sorted(c["chat"] for c in conversations if "token" in c["searchable"]),
    daily_nairobi=daily(conversations, "Africa/Nairobi"),
    agents=agents(conversations),
    histogram=histogram(conversations),
    histogram_agent_amina=histogram([c for c in conversations if "amina" in c["agents"]]),
    heatmap_utc=heatmap(conversations, "UTC"),
    heatmap_nairobi=heatmap(conversations, "Africa/Nairobi"),
    csv_conversations=conversation_rows(conversations),
    csv_messages=message_rows(conversations))
print(json.dumps(out, indent=1))
