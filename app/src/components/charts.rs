//! Charts drawn as SVG by the components themselves (no chart library): conversations per day,
//! reply-gap histogram, sentiment distribution, top topics, weekday x hour heatmap.

use leptos::prelude::*;

use powerpulse_shared::evidence::Evidence;

use crate::bridge;
use crate::format;
use crate::state::Ui;

const W: f64 = 640.0;
const H: f64 = 220.0;
const PAD_L: f64 = 44.0;
const PAD_B: f64 = 28.0;
const PAD_T: f64 = 12.0;
const PAD_R: f64 = 40.0;

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

/// Conversations per day (bars) and CSAT (line, right axis).
#[component]
pub fn Daily() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <figure class="panel chart" data-testid="chart-daily">
            <figcaption>"Conversations per day" <span class="legend"><i class="swatch bar"></i>"conversations" <i class="swatch line"></i>"CSAT %"</span></figcaption>
            {move || ui.view.with(|v| v.as_ref().map(|v| {
                let days = &v.daily;
                let n = days.len().max(1) as f64;
                let max = nice_max(days.iter().map(|d| d.core.total_conversations as f64).fold(0.0, f64::max));
                let plot_w = W - PAD_L - PAD_R;
                let plot_h = H - PAD_T - PAD_B;
                let bw = plot_w / n;
                let y = |c: f64| PAD_T + plot_h * (1.0 - c / max);
                let bars = days.iter().enumerate().map(|(i, d)| {
                    let c = d.core.total_conversations as f64;
                    let title = format!("{}: {} conversations, CSAT {}", d.date, d.core.total_conversations, format::pct(d.core.csat_percentage));
                    let date = d.date;
                    // The whole column is the target, so a quiet day's bar can be clicked too.
                    view! {
                        <g class="clickable" data-testid="daily-bar" data-date=date.to_string() data-count=d.core.total_conversations.to_string()
                            on:click=move |_| bridge::evidence(ui, Evidence::Day { date }, format!("Conversations of {date}"))>
                            <rect class="hit" x=PAD_L + i as f64 * bw y=PAD_T width=bw.max(0.5) height=plot_h></rect>
                            <rect class="bar" x=PAD_L + i as f64 * bw + bw * 0.1 y=y(c) width=(bw * 0.8).max(0.5) height=(PAD_T + plot_h - y(c)).max(0.0)>
                                <title>{title}</title>
                            </rect>
                        </g>
                    }
                }).collect_view();
                let line: String = days.iter().enumerate().filter(|(_, d)| d.core.n.csat > 0).map(|(i, d)| {
                    format!("{:.1},{:.1}", PAD_L + (i as f64 + 0.5) * bw, PAD_T + plot_h * (1.0 - d.core.csat_percentage / 100.0))
                }).collect::<Vec<_>>().join(" ");
                let label_every = (days.len() / 6).max(1);
                let labels = days.iter().enumerate().filter(|(i, _)| i % label_every == 0).map(|(i, d)| {
                    view! { <text class="axis" x=PAD_L + (i as f64 + 0.5) * bw y=H - 8.0 text-anchor="middle">{format::day_month(d.date)}</text> }
                }).collect_view();
                view! {
                    <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=format!("Conversations per day over {} days", days.len())>
                        <line class="grid" x1=PAD_L x2=W - PAD_R y1=y(max) y2=y(max)></line>
                        <line class="grid" x1=PAD_L x2=W - PAD_R y1=y(max / 2.0) y2=y(max / 2.0)></line>
                        <line class="axis-line" x1=PAD_L x2=W - PAD_R y1=y(0.0) y2=y(0.0)></line>
                        <text class="axis" x=PAD_L - 6.0 y=y(max) + 4.0 text-anchor="end">{format!("{max}")}</text>
                        <text class="axis" x=PAD_L - 6.0 y=y(max / 2.0) + 4.0 text-anchor="end">{format!("{}", max / 2.0)}</text>
                        <text class="axis" x=W - PAD_R + 6.0 y=PAD_T + 4.0>"100%"</text>
                        <text class="axis" x=W - PAD_R + 6.0 y=PAD_T + plot_h>"0%"</text>
                        {bars}
                        <polyline class="line" points=line fill="none"></polyline>
                        {labels}
                    </svg>
                }
            }))}
        </figure>
    }
}

/// Reply gaps by duration.
#[component]
pub fn Histogram() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <figure class="panel chart" data-testid="chart-histogram">
            <figcaption>"Reply gaps"</figcaption>
            {move || ui.view.with(|v| v.as_ref().map(|v| {
                let b = &v.histogram;
                let total: u64 = b.iter().map(|x| x.count).sum();
                let max = nice_max(b.iter().map(|x| x.count as f64).fold(0.0, f64::max));
                let plot_h = H - PAD_T - PAD_B - 10.0;
                let bw = (W - PAD_L - 10.0) / b.len().max(1) as f64;
                view! {
                    <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=format!("Histogram of {total} reply gaps")>
                        <line class="axis-line" x1=PAD_L x2=W - 10.0 y1=PAD_T + plot_h y2=PAD_T + plot_h></line>
                        {b.iter().enumerate().map(|(i, x)| {
                            let h = plot_h * x.count as f64 / max;
                            let share = if total == 0 { 0.0 } else { x.count as f64 * 100.0 / total as f64 };
                            let label = x.label.clone();
                            view! {
                                <g class="clickable" data-testid="gap-bar" data-bucket=i.to_string() data-count=x.count.to_string()
                                    on:click=move |_| bridge::evidence(ui, Evidence::GapBucket { bucket: i }, format!("Reply gaps of {label}"))>
                                    <rect class="hit" x=PAD_L + i as f64 * bw y=PAD_T width=bw height=plot_h></rect>
                                    <rect class="bar alt" x=PAD_L + i as f64 * bw + 3.0 y=PAD_T + plot_h - h width=bw - 6.0 height=h>
                                        <title>{format!("{}: {} replies ({:.1}%)", x.label, x.count, share)}</title>
                                    </rect>
                                    <text class="axis small" x=PAD_L + (i as f64 + 0.5) * bw y=H - 14.0 text-anchor="middle">{x.label.clone()}</text>
                                    <text class="axis small" x=PAD_L + (i as f64 + 0.5) * bw y=PAD_T + plot_h - h - 3.0 text-anchor="middle">{format!("{share:.0}%")}</text>
                                </g>
                            }
                        }).collect_view()}
                    </svg>
                }
            }))}
        </figure>
    }
}

/// Customer messages by sentiment class.
#[component]
pub fn Sentiment() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <figure class="panel chart" data-testid="chart-sentiment">
            <figcaption>"Customer sentiment"</figcaption>
            {move || ui.view.with(|v| v.as_ref().map(|v| {
                let d = v.metrics.core.sentiment_distribution;
                let total = (d.positive + d.neutral + d.negative).max(1) as f64;
                let parts = [("positive", d.positive, "pos"), ("neutral", d.neutral, "neu"), ("negative", d.negative, "neg")];
                let mut x = 0.0;
                let segs = parts.iter().map(|(name, n, class)| {
                    let w = 600.0 * *n as f64 / total;
                    let seg = view! { <rect class=format!("seg {class}") x=20.0 + x y=20.0 width=w height=36.0><title>{format!("{name}: {n}")}</title></rect> };
                    x += w;
                    seg
                }).collect_view();
                view! {
                    <svg viewBox="0 0 640 70" role="img" aria-label="Sentiment distribution">{segs}</svg>
                    <ul class="legend-list">
                        {parts.iter().map(|(name, n, class)| view! {
                            <li><i class=format!("swatch {class}")></i>{format!("{name}: {} ({:.1}%)", format::count(*n), *n as f64 * 100.0 / total)}</li>
                        }).collect_view()}
                    </ul>
                }
            }))}
        </figure>
    }
}

/// The most common topics.
#[component]
pub fn Topics() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <figure class="panel chart" data-testid="chart-topics">
            <figcaption>"Top topics (share of conversations with a topic)"</figcaption>
            {move || ui.view.with(|v| v.as_ref().map(|v| {
                let topics = &v.metrics.most_common_topics;
                view! {
                    <ul class="hbars">
                        {topics.iter().map(|t| view! {
                            <li data-testid="topic-row" data-topic=t.topic.clone() data-count=t.count.to_string()>
                                <span class="hbar-label">{
                                    let topic = t.topic.clone();
                                    view! { <button class="link" on:click=move |_| bridge::evidence(ui, Evidence::Topic { topic: topic.clone() }, format!("Conversations about {topic}"))>{t.topic.clone()}</button> }
                                }</span>
                                <span class="hbar-track"><span class="hbar" style=format!("width: {:.1}%", t.percentage)></span></span>
                                <span class="hbar-value">{format!("{:.1}% · {}", t.percentage, format::count(t.count))}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }
            }))}
        </figure>
    }
}

/// Customer messages by weekday and hour, in the filter's time zone.
#[component]
pub fn Heatmap() -> impl IntoView {
    let ui = expect_context::<Ui>();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    view! {
        <figure class="panel chart" data-testid="chart-heatmap">
            <figcaption>{move || format!("When customers write (weekday x hour, {})", ui.filter.get().tz.name())}</figcaption>
            {move || ui.view.with(|v| v.as_ref().map(|v| {
                let max = v.heatmap.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
                let cell = 24.0;
                view! {
                    <svg viewBox=format!("0 0 {} {}", 40.0 + 24.0 * cell, 20.0 + 7.0 * cell) role="img" aria-label="Customer messages by weekday and hour">
                        {(0..24).step_by(3).map(|h| view! { <text class="axis small" x=40.0 + h as f64 * cell + cell / 2.0 y=12.0 text-anchor="middle">{format!("{h:02}")}</text> }).collect_view()}
                        {v.heatmap.iter().enumerate().map(|(d, row)| view! {
                            <g>
                                <text class="axis small" x=34.0 y=20.0 + d as f64 * cell + cell * 0.65 text-anchor="end">{DAYS.get(d).copied().unwrap_or("")}</text>
                                {row.iter().enumerate().map(|(h, n)| {
                                    let day = DAYS.get(d).copied().unwrap_or("");
                                    let (weekday, hour) = (d as u8, h as u8);
                                    view! {
                                        <rect class="heat clickable" data-testid="heat-cell" data-weekday=d.to_string() data-hour=h.to_string() data-count=n.to_string()
                                            x=40.0 + h as f64 * cell + 1.0 y=20.0 + d as f64 * cell + 1.0 width=cell - 2.0 height=cell - 2.0
                                            style=format!("opacity: {:.3}", 0.06 + 0.94 * *n as f64 / max)
                                            on:click=move |_| bridge::hour_evidence(ui, weekday, hour, format!("Customer messages of {day} {hour:02}:00-{:02}:00", hour + 1))>
                                            <title>{format!("{day} {h:02}:00 — {n} messages")}</title>
                                        </rect>
                                    }
                                }).collect_view()}
                            </g>
                        }).collect_view()}
                    </svg>
                }
            }))}
        </figure>
    }
}
