//! The report as one self-contained HTML file: aggregates, charts (inline SVG) and definitions,
//! no script, no external resource, and no message text (a [`Report`] holds none).

use std::fmt::Write;

use crate::report::Report;
use crate::response_time::Stats;
use crate::service::{Level, TimeStats};

/// The page's title when none is given.
pub const REPORT_TITLE: &str = "PowerPulse report";

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn num(v: Option<f64>, unit: &str) -> String {
    v.map_or("–".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn level(l: &Level) -> String {
    match l.percentage {
        Some(p) => format!("{p:.1} % <small>({} of {})</small>", l.within, l.n),
        None => "–".to_owned(),
    }
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;color:#1b1f24;background:#fff}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem .9rem;min-width:9rem}\
.card b{display:block;font-size:1.4rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eaeef2}\
td.n{text-align:right;font-variant-numeric:tabular-nums}small,.muted{color:#57606a}.up{color:#1a7f37}.down{color:#cf222e}\
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}.card,th,td{border-color:#30363d}small,.muted{color:#8b949e}}";

/// The report as a standalone HTML page.
pub fn report_html(r: &Report, title: &str) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let c = &r.metrics.core;
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\
         <h1>{t}</h1><p class=\"muted\">Business hours: <span id=\"schedule\">{s}</span>. \
         Targets: first response {fr} min, reply gap {rg} min, in {clock} time. Grouped by {p}.</p>",
        t = escape(title),
        s = escape(&r.schedule),
        fr = r.targets.first_response_minutes,
        rg = r.targets.reply_gap_minutes,
        clock = r.targets.clock(),
        p = r.period,
    );
    let _ = write!(
        h,
        "<div class=\"cards\">\
         <div class=\"card\">Conversations<b>{}</b></div>\
         <div class=\"card\">CSAT<b>{:.1} %</b><small>n = {}</small></div>\
         <div class=\"card\">FCR<b>{:.1} %</b><small>n = {}</small></div>\
         <div class=\"card\">First response within target<b>{}</b></div>\
         <div class=\"card\">Reply gaps within target<b>{}</b></div></div>",
        c.total_conversations,
        c.csat_percentage,
        c.n.csat,
        c.fcr_percentage,
        c.n.fcr,
        level(&r.service.first_response),
        level(&r.service.reply_gap),
    );
    h.push_str("<h2>Response times</h2>");
    times_table(&mut h, &r.service.calendar, &r.service.business);
    if r.service.without_instants > 0 {
        let _ = write!(
            h,
            "<p class=\"muted\">{} conversations were stored before their instants were kept and count in neither clock.</p>",
            r.service.without_instants
        );
    }
    if let Some(cmp) = &r.comparison {
        let _ = write!(
            h,
            "<h2>{} against {}</h2><table id=\"comparison\"><tr><th>Figure</th><th>{}</th><th>{}</th><th>Change</th><th></th></tr>",
            escape(&cmp.current),
            escape(&cmp.previous),
            escape(&cmp.current),
            escape(&cmp.previous)
        );
        for ch in &cmp.changes {
            let class = match ch.direction {
                crate::periods::Direction::Up => "up",
                crate::periods::Direction::Down => "down",
                _ => "",
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {class}\">{} {}</td><td>{}</td></tr>",
                escape(&ch.kpi),
                num(ch.current, ""),
                num(ch.previous, ""),
                ch.direction.arrow(),
                num(ch.delta, ""),
                ch.significance.verdict()
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(h, "<h2>By {}</h2>", r.period);
    period_chart(&mut h, r);
    h.push_str(
        "<table id=\"periods\"><tr><th>Period</th><th>Conversations</th><th>CSAT %</th><th>FCR %</th>\
         <th>First response, median (calendar / business)</th><th>Within target</th></tr>",
    );
    for p in &r.periods {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td></tr>",
            escape(&p.period),
            p.core.total_conversations,
            p.core.csat_percentage,
            p.core.fcr_percentage,
            num(p.service.calendar.first_response.median, " min"),
            num(p.service.business.first_response.median, " min"),
            level(&p.service.first_response)
        );
    }
    h.push_str("</table><h2>Agents</h2><table id=\"agents\"><tr><th>Agent</th><th>Conversations</th><th>Reply gap, median (business)</th><th>First response within target</th><th>Reply gaps within target</th></tr>");
    for a in &r.agents {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&a.agent),
            a.conversations,
            num(a.service.business.reply_gap.median, " min"),
            level(&a.service.first_response),
            level(&a.service.reply_gap)
        );
    }
    let m = &r.responsiveness;
    let _ = write!(
        h,
        "</table><h2>Meta responsiveness</h2><p id=\"responsiveness\">Response rate <b>{}</b>, response time <b>{}</b> \
         over {} thread openings. {}</p>",
        num(m.response_rate, " %"),
        num(m.response_time_minutes, " min"),
        m.messages,
        if m.very_responsive {
            "The page would show <b>Very responsive to messages</b>.".to_owned()
        } else {
            format!(
                "Not yet <b>Very responsive</b> (90 % and 15 minutes): the rate is {:.1} points short, the time {:.1} minutes over.",
                m.rate_short_by, m.minutes_over_by
            )
        }
    );
    let _ = write!(
        h,
        "<p class=\"muted\">{} first responses and reply gaps missed their target.</p>",
        r.breaches
    );
    if !r.breach_list.is_empty() {
        h.push_str("<h2>Longest waits</h2><table id=\"breaches\"><tr><th>Chat</th><th>Target</th><th>Business minutes</th><th>Calendar minutes</th></tr>");
        for b in &r.breach_list {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{:?}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&b.chat_id),
                b.target,
                num(b.business_minutes, ""),
                num(b.minutes, "")
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<h2>Definitions</h2><p class=\"muted\">Metric definitions {}. CSAT: share of judged conversations scored 4 or 5. \
         FCR: share of conversations with an issue resolved without the customer coming back. Business time: the clock runs \
         only inside the business hours above (holidays closed). A first response never given misses its target. Meta \
         responsiveness: the first message after 24 hours of silence on both sides, over the 30 days before the last one \
         (at least the last 10), the time being the mean of the fastest 90 % of responses. Changes between periods are \
         tested with a two-proportion z-test (shares only; \"too few to tell\" below 5 successes or failures a side).</p>\
         <p class=\"muted\">Made by PowerPulse. This file holds aggregates only: no message text.</p></body></html>",
        escape(&r.metrics.definitions)
    );
    h
}

/// The columns of the report's CSV: one row per period, then the whole selection, each with
/// the schedule and targets it was measured by.
pub const REPORT_COLUMNS: [&str; 17] = [
    "period",
    "start",
    "grouping",
    "business_hours",
    "target_clock",
    "conversations",
    "csat_percentage",
    "fcr_percentage",
    "first_response_median_calendar",
    "first_response_median_business",
    "reply_gap_median_calendar",
    "reply_gap_median_business",
    "first_response_within_target_percentage",
    "reply_gap_within_target_percentage",
    "first_response_target_minutes",
    "reply_gap_target_minutes",
    "definitions_version",
];

/// The report's figures by period as CSV (the file `format=csv`, `--csv` and the app write).
pub fn report_csv(r: &Report) -> Vec<u8> {
    let cell = |v: Option<f64>| crate::round::cell(v, 2);
    let row = |label: String,
               start: String,
               core: &crate::metrics::CoreMetrics,
               s: &crate::service::Service| {
        vec![
            label,
            start,
            r.period.to_string(),
            r.schedule.clone(),
            r.targets.clock().to_owned(),
            core.total_conversations.to_string(),
            cell((core.n.csat > 0).then_some(core.csat_percentage)),
            cell((core.n.fcr > 0).then_some(core.fcr_percentage)),
            cell(s.calendar.first_response.median),
            cell(s.business.first_response.median),
            cell(s.calendar.reply_gap.median),
            cell(s.business.reply_gap.median),
            cell(s.first_response.percentage),
            cell(s.reply_gap.percentage),
            r.targets.first_response_minutes.to_string(),
            r.targets.reply_gap_minutes.to_string(),
            r.metrics.definitions.clone(),
        ]
    };
    let mut rows: Vec<Vec<String>> = r
        .periods
        .iter()
        .map(|p| row(p.period.clone(), p.start.to_string(), &p.core, &p.service))
        .collect();
    rows.push(row(
        "all".into(),
        String::new(),
        &r.metrics.core,
        &r.service,
    ));
    let mut out = crate::csv_out::encode([REPORT_COLUMNS]);
    out.extend(crate::csv_out::encode(rows));
    out
}

fn stats_cells(h: &mut String, s: &Stats) {
    let _ = write!(
        h,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        s.n,
        num(s.mean, ""),
        num(s.median, ""),
        num(s.p90, "")
    );
}

fn times_table(h: &mut String, calendar: &TimeStats, business: &TimeStats) {
    h.push_str(
        "<table id=\"times\"><tr><th>Minutes</th><th>Clock</th><th>n</th><th>Mean</th><th>Median</th><th>p90</th></tr>",
    );
    for (name, cal, bus) in [
        (
            "First response",
            &calendar.first_response,
            &business.first_response,
        ),
        ("Reply gap", &calendar.reply_gap, &business.reply_gap),
        ("Customer turn", &calendar.turn, &business.turn),
    ] {
        let _ = write!(h, "<tr><td rowspan=\"2\">{name}</td><td>calendar</td>");
        stats_cells(h, cal);
        h.push_str("</tr><tr><td>business</td>");
        stats_cells(h, bus);
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// Conversations per period as bars, CSAT as the figure above each.
fn period_chart(h: &mut String, r: &Report) {
    let rows = &r.periods;
    if rows.is_empty() {
        h.push_str("<p class=\"muted\">No conversations.</p>");
        return;
    }
    let max = rows
        .iter()
        .map(|p| p.core.total_conversations)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (w, ht) = (720.0, 180.0);
    let bw = w / rows.len() as f64;
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {w} {}\" width=\"100%\" role=\"img\" aria-label=\"Conversations by {}\">",
        ht + 24.0,
        r.period
    );
    for (i, p) in rows.iter().enumerate() {
        let bh = p.core.total_conversations as f64 / max * (ht - 20.0);
        let x = i as f64 * bw;
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4c8dd6\"><title>{}: {} conversations, CSAT {:.1} %</title></rect>",
            x + bw * 0.1,
            ht - bh,
            bw * 0.8,
            bh,
            escape(&p.period),
            p.core.total_conversations,
            p.core.csat_percentage
        );
        if rows.len() <= 31 {
            let _ = write!(
                h,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"currentColor\">{}</text>",
                x + bw / 2.0,
                ht + 14.0,
                escape(&p.period)
            );
        }
    }
    h.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::Schedule;
    use crate::report::{build, ReportOptions};
    use crate::time::Tz;
    use crate::{process, Filter, Options};

    #[test]
    fn the_page_holds_figures_and_no_message_text() {
        let export = br#"{"c<1>": [
          {"MESSAGE_CONTENT": "SECRET-WORDS my token failed", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-02T07:00:00.000Z"},
          {"MESSAGE_CONTENT": "OTHER-SECRET fixed now", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-02T07:30:00.000Z", "AGENT_USERNAME": "amina@example.com"}
        ]}"#;
        let d = process(export, &Options::default()).unwrap();
        let opts = ReportOptions::new(Schedule::always(Tz::UTC));
        let r = build(d.summaries(), &Filter::default(), &opts, d.report.filtered);
        let page = report_html(&r, "Weekly <report>");
        for secret in [
            "SECRET-WORDS",
            "OTHER-SECRET",
            "amina",
            "c<1>",
            "<script",
            "http",
        ] {
            assert!(!page.contains(secret), "{secret} in the page");
        }
        assert!(page.contains("<title>Weekly &lt;report&gt;</title>"));
        assert!(page.contains("around the clock (UTC)"));
        assert!(page.contains("Agent 1"));
        assert!(
            page.contains("0.0 % <small>(0 of 1)</small>"),
            "30 min misses 15"
        );
        let named = ReportOptions {
            identifiers: true,
            ..opts
        };
        let page = report_html(
            &build(d.summaries(), &Filter::default(), &named, d.report.filtered),
            "r",
        );
        assert!(page.contains("amina@example.com") && page.contains("c&lt;1&gt;"));
        assert!(!page.contains("SECRET-WORDS"));
    }

    #[test]
    fn the_csv_carries_the_schedule_and_the_periods() {
        let export = br#"{"c1": [
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T07:00:00.000Z"},
          {"MESSAGE_CONTENT": "on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T07:10:00.000Z", "AGENT_USERNAME": "amina"}
        ], "c2": [
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-09T07:00:00.000Z"}
        ]}"#;
        let d = process(export, &Options::default()).unwrap();
        let opts = ReportOptions::new(Schedule::parse("Mon-Fri 08:00-17:00", "", Tz::UTC).unwrap());
        let csv = String::from_utf8(report_csv(&build(
            d.summaries(),
            &Filter::default(),
            &opts,
            d.report.filtered,
        )))
        .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], REPORT_COLUMNS.join(","));
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(
            lines[1].starts_with("2025-W49,2025-12-01,week,Mon-Fri 08:00-17:00 (UTC),business,1,"),
            "{}",
            lines[1]
        );
        // Written at 07:00, answered at 07:10: no business time passed; 10 calendar minutes.
        assert!(lines[1].contains(",10,0,"), "{}", lines[1]);
        assert!(lines[2].starts_with("2025-W50,"));
        assert!(lines[3].starts_with("all,,week,"));
    }
}
