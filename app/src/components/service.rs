//! Service levels: the business hours and targets (kept in this browser), response times in
//! calendar and business time side by side, the share within target, two periods compared,
//! Meta's responsiveness, and the report page to share.

use leptos::prelude::*;
use powerpulse_shared::evidence::Evidence;
use powerpulse_shared::periods::Direction;
use powerpulse_shared::report::{Report, ReportParams};
use powerpulse_shared::response_time::Stats;
use powerpulse_shared::service::{Level, Target};

use crate::bridge;
use crate::format;
use crate::state::{keep_report_params, Ui};

/// Applies a change of the report's settings: kept, and everything redrawn (timed as a filter
/// change).
fn change(ui: Ui, edit: impl FnOnce(&mut ReportParams)) {
    let started = bridge::now();
    ui.report_params.update(edit);
    keep_report_params(&ui.report_params.get_untracked());
    bridge::query(ui, Some(started));
}

fn text(v: String) -> Option<String> {
    let v = v.trim().to_owned();
    (!v.is_empty()).then_some(v)
}

fn level(l: &Level) -> String {
    l.percentage.map_or("–".to_owned(), |p| {
        format!("{} ({} of {})", format::pct(p), l.within, l.n)
    })
}

fn raw(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn kpi_name(k: &str) -> &'static str {
    match k {
        "csat_percentage" => "CSAT %",
        "fcr_percentage" => "FCR %",
        "avg_response_time_minutes" => "Average reply gap (min)",
        "median_first_response_minutes" => "Median first response (min)",
        "avg_sentiment_score" => "Average sentiment",
        "total_conversations" => "Conversations",
        _ => "",
    }
}

fn times_row(name: &'static str, id: &'static str, cal: Stats, bus: Stats) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{name}</th>
            <td class="num" data-testid=format!("time-calendar-{id}") data-value=raw(cal.median)>{format::minutes(cal.median)}</td>
            <td class="num" data-testid=format!("time-business-{id}") data-value=raw(bus.median)>{format::minutes(bus.median)}</td>
            <td class="num">{format::minutes(cal.p90)}</td>
            <td class="num">{format::minutes(bus.p90)}</td>
            <td class="num">{format::count(cal.n)}</td>
        </tr>
    }
}

/// Every period's figures (the report page's and the CSV's rows); a row's button compares that
/// period with the one before.
fn period_table(ui: Ui, r: &Report) -> impl IntoView {
    let rows = r
        .periods
        .iter()
        .map(|p| {
            let (core, s) = (&p.core, &p.service);
            let csat = (core.n.csat > 0).then_some(core.csat_percentage);
            let fcr = (core.n.fcr > 0).then_some(core.fcr_percentage);
            let period = p.period.clone();
            view! {
                <tr data-testid="period-row" data-period=p.period.clone()
                    data-conversations=core.total_conversations.to_string() data-csat=raw(csat) data-fcr=raw(fcr)
                    data-first-response=raw(s.business.first_response.median)>
                    <th scope="row">{p.period.clone()}</th>
                    <td class="num">{format::count(core.total_conversations)}</td>
                    <td class="num">{csat.map(format::pct).unwrap_or_else(|| "–".into())}</td>
                    <td class="num">{fcr.map(format::pct).unwrap_or_else(|| "–".into())}</td>
                    <td class="num">{format!("{} / {}", format::minutes(s.calendar.first_response.median), format::minutes(s.business.first_response.median))}</td>
                    <td class="num">{level(&s.first_response)}</td>
                    <td class="num">{level(&s.reply_gap)}</td>
                    <td><button class="button ghost small" data-testid="period-compare"
                        on:click=move |_| { let v = Some(period.clone()); change(ui, |p| { p.compare = v; p.against = None; }) }>"Compare"</button></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="compact" data-testid="periods">
            <caption>{format!("By {}", r.period)}</caption>
            <thead><tr><th scope="col"></th><th scope="col" class="num">"Conversations"</th><th scope="col" class="num">"CSAT"</th>
                <th scope="col" class="num">"FCR"</th><th scope="col" class="num">"First response, median (calendar / business)"</th>
                <th scope="col" class="num">"First responses within target"</th><th scope="col" class="num">"Reply gaps within target"</th><th scope="col"></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn figures(ui: Ui, r: &Report) -> impl IntoView {
    let s = &r.service;
    let m = &r.responsiveness;
    let periods: Vec<String> = r.periods.iter().map(|p| p.period.clone()).collect();
    let cmp = r.comparison.clone();
    let (cur, prev) = cmp
        .as_ref()
        .map(|c| (c.current.clone(), c.previous.clone()))
        .unwrap_or_default();
    let options = move |selected: String| {
        periods
            .iter()
            .map(|p| view! { <option value=p.clone() selected=*p == selected>{p.clone()}</option> })
            .collect_view()
    };
    let misses = move |target: Target, title: &'static str| {
        move |_| bridge::evidence(ui, Evidence::Breaches { target }, title.to_owned())
    };
    view! {
        <p class="muted" data-testid="service-schedule">{format!("Business hours: {}", r.schedule)}</p>
        <div class="service-levels">
            <div class="kpi" data-testid="sla-first-response" data-value=raw(s.first_response.percentage)>
                <div class="kpi-label">{format!("First response within {} min", r.targets.first_response_minutes)}</div>
                <div class="kpi-value">{level(&s.first_response)}</div>
                <button class="button ghost small" data-testid="sla-first-response-misses"
                    on:click=misses(Target::FirstResponse, "First responses over target")>"Show the misses"</button>
            </div>
            <div class="kpi" data-testid="sla-reply-gap" data-value=raw(s.reply_gap.percentage)>
                <div class="kpi-label">{format!("Reply gaps within {} min", r.targets.reply_gap_minutes)}</div>
                <div class="kpi-value">{level(&s.reply_gap)}</div>
                <button class="button ghost small" data-testid="sla-reply-gap-misses"
                    on:click=misses(Target::ReplyGap, "Reply gaps over target")>"Show the misses"</button>
            </div>
            <div class="kpi" data-testid="responsiveness" data-rate=raw(m.response_rate)
                data-time=raw(m.response_time_minutes) data-very=m.very_responsive.to_string()>
                <div class="kpi-label">"Meta responsiveness"</div>
                <div class="kpi-value">{format!("{} · {}", m.response_rate.map(format::pct).unwrap_or_else(|| "–".into()), format::minutes(m.response_time_minutes))}</div>
                <div class="kpi-detail">{if m.very_responsive {
                    "Very responsive to messages".to_owned()
                } else {
                    format!("not yet Very responsive: {:.1} points short, {:.1} min over", m.rate_short_by, m.minutes_over_by)
                }}</div>
            </div>
        </div>
        <table class="compact" data-testid="times">
            <caption>"Response times, calendar and business time (the clock stops outside hours)"</caption>
            <thead><tr><th scope="col"></th><th scope="col" class="num">"Median, calendar"</th><th scope="col" class="num">"Median, business"</th>
                <th scope="col" class="num">"p90, calendar"</th><th scope="col" class="num">"p90, business"</th><th scope="col" class="num">"n"</th></tr></thead>
            <tbody>
                {times_row("First response", "first-response", s.calendar.first_response, s.business.first_response)}
                {times_row("Reply gap", "reply-gap", s.calendar.reply_gap, s.business.reply_gap)}
                {times_row("Customer turn", "turn", s.calendar.turn, s.business.turn)}
            </tbody>
        </table>
        {period_table(ui, r)}
        {cmp.map(|c| view! {
            <div class="compare">
                <label>"Compare "
                    <select data-testid="compare-current" on:change=move |ev| { let v = text(event_target_value(&ev)); change(ui, |p| p.compare = v) }>
                        {options(cur.clone())}
                    </select>
                </label>
                <label>" with "
                    <select data-testid="compare-against" on:change=move |ev| { let v = text(event_target_value(&ev)); change(ui, |p| p.against = v) }>
                        <option value="">"the period before"</option>
                        {options(prev.clone())}
                    </select>
                </label>
                <table class="compact" data-testid="comparison" data-current=c.current.clone() data-previous=c.previous.clone()>
                    <thead><tr><th scope="col"></th><th scope="col" class="num">{c.current.clone()}</th><th scope="col" class="num">{c.previous.clone()}</th><th scope="col" class="num">"Change"</th><th scope="col"></th></tr></thead>
                    <tbody>
                        {c.changes.iter().map(|ch| {
                            let class = match ch.direction { Direction::Up => "num up", Direction::Down => "num down", _ => "num" };
                            view! {
                                <tr data-kpi=ch.kpi.clone() data-delta=raw(ch.delta) data-current=raw(ch.current) data-previous=raw(ch.previous)>
                                    <th scope="row">{kpi_name(&ch.kpi)}</th>
                                    <td class="num">{ch.current.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())}</td>
                                    <td class="num">{ch.previous.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())}</td>
                                    <td class=class>{format!("{} {}", ch.direction.arrow(), ch.delta.map(|v| format!("{v:+.2}")).unwrap_or_default())}</td>
                                    <td class="muted" data-testid="verdict">{ch.significance.verdict()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}

/// The service-level panel.
#[component]
pub fn Service() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let p = move || ui.report_params.get();
    let number = |v: String| v.trim().parse::<f64>().ok();
    view! {
        <section class="panel service" aria-labelledby="service-title" data-testid="service">
            <h2 id="service-title">"Service levels and business hours"</h2>
            <div class="service-settings">
                <label>"Business hours"
                    <input data-testid="business-hours" placeholder="Mon-Fri 08:00-17:00, Sat 09:00-13:00 (empty: around the clock)"
                        prop:value=move || p().business_hours.unwrap_or_default()
                        on:change=move |ev| { let v = text(event_target_value(&ev)); change(ui, |p| p.business_hours = v) } />
                </label>
                <label>"Holidays"
                    <input data-testid="holidays" placeholder="2025-12-25, 2026-01-01"
                        prop:value=move || p().holidays.unwrap_or_default()
                        on:change=move |ev| { let v = text(event_target_value(&ev)); change(ui, |p| p.holidays = v) } />
                </label>
                <label>"First response target (min)"
                    <input type="number" min="1" data-testid="target-first-response"
                        prop:value=move || p().first_response_target.unwrap_or(15.0).to_string()
                        on:change=move |ev| { let v = number(event_target_value(&ev)); change(ui, |p| p.first_response_target = v) } />
                </label>
                <label>"Reply gap target (min)"
                    <input type="number" min="1" data-testid="target-reply-gap"
                        prop:value=move || p().reply_gap_target.unwrap_or(60.0).to_string()
                        on:change=move |ev| { let v = number(event_target_value(&ev)); change(ui, |p| p.reply_gap_target = v) } />
                </label>
                <label>"Periods"
                    <select data-testid="period" prop:value=move || p().period.unwrap_or_else(|| "week".into())
                        on:change=move |ev| { let v = text(event_target_value(&ev)); change(ui, |p| { p.period = v; p.compare = None; p.against = None; }) }>
                        <option value="day">"days"</option>
                        <option value="week">"ISO weeks"</option>
                        <option value="month">"months"</option>
                    </select>
                </label>
                <button class="button" data-testid="report-download" on:click=move |_| bridge::report_page(ui, false)>"Download the report (HTML)"</button>
                <button class="button ghost" data-testid="report-csv" on:click=move |_| bridge::report_page(ui, true)>"By period (CSV)"</button>
            </div>
            {move || ui.view.with(|v| v.as_ref().and_then(|v| v.report_error.clone())).map(|e| view! {
                <p class="field-error" role="alert" data-testid="service-error">{e}</p>
            })}
            {move || ui.view.with(|v| v.as_ref().and_then(|v| v.report.clone())).map(|r| figures(ui, &r))}
        </section>
    }
}
