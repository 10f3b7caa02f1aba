//! Benchmarks of the shared pipeline on generated data: `cargo bench -p powerpulse-shared`.
//! The end-to-end CLI figures on a 47 MB export are measured by `scripts/bench`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use powerpulse_shared::sentiment::SentimentAnalyzer;
use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{export, process, Filter, Options, Role};

fn customer_texts() -> Vec<String> {
    let bytes = generate(&SynthOptions {
        conversations: 3000,
        seed: 11,
        ..SynthOptions::default()
    });
    let d = process(&bytes, &Options::default()).unwrap();
    d.conversations
        .iter()
        .flat_map(|c| c.messages.iter())
        .filter(|m| m.role == Role::Customer)
        .map(|m| m.text.clone())
        .collect()
}

fn sentiment(c: &mut Criterion) {
    let texts = customer_texts();
    let care = SentimentAnalyzer::care();
    let mut g = c.benchmark_group("sentiment");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function(
        BenchmarkId::new("care", format!("{} customer messages", texts.len())),
        |b| b.iter(|| texts.iter().filter_map(|t| care.score(t)).count()),
    );
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let bytes = generate(&SynthOptions {
        conversations: 2000,
        seed: 5,
        ..SynthOptions::default()
    });
    let opts = Options::default();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| export::parse_export(&bytes).unwrap().chats.len())
    });
    g.bench_function("process", |b| {
        b.iter(|| process(&bytes, &opts).unwrap().conversations.len())
    });
    let d = process(&bytes, &opts).unwrap();
    g.bench_function("metrics", |b| {
        b.iter(|| d.metrics(&Filter::default()).core.total_conversations)
    });
    // The report with business hours: every gap through the business clock, per period, agent.
    let hours = powerpulse_shared::report::ReportParams {
        business_hours: Some("Mon-Fri 08:00-17:00, Sat 09:00-13:00".into()),
        holidays: Some("2025-08-15".into()),
        ..Default::default()
    };
    let opts = hours.to_options(Default::default()).unwrap();
    g.bench_function("report", |b| {
        b.iter(|| d.report(&Filter::default(), &opts).breaches)
    });
    g.finish();
}

criterion_group!(benches, sentiment, pipeline);
criterion_main!(benches);
