//! Times each pipeline stage on an export: `cargo run --release --example stages -- FILE`.
use std::time::Instant;

use powerpulse_shared::{
    cleaning, export, response_time, sentiment::SentimentAnalyzer, Filter, Options, Role,
};

fn main() {
    let path = std::env::args().nth(1).expect("usage: stages FILE");
    let t = Instant::now();
    let bytes = std::fs::read(&path).expect("readable file");
    println!("read      {:?}", t.elapsed());
    let opts = Options::default();
    let a = SentimentAnalyzer::care();
    let t = Instant::now();
    let raw = export::parse_export(&bytes).expect("valid export");
    println!("parse     {:?}", t.elapsed());
    let t = Instant::now();
    let (chats, report) = cleaning::clean(&raw, &opts.cleaning);
    println!(
        "clean     {:?} ({} kept)",
        t.elapsed(),
        report.messages_kept
    );
    drop(raw);
    let t = Instant::now();
    let mut convs: Vec<_> = chats
        .into_iter()
        .map(|c| {
            let mut m = c.messages;
            let s = response_time::time_facts(&c.chat_id, &mut m, opts.segment_gap_ms);
            (m, s)
        })
        .collect();
    println!("time      {:?}", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    for (m, _) in &convs {
        for x in m.iter().filter(|x| x.role == Role::Customer) {
            std::hint::black_box(a.score(&x.text));
            n += 1;
        }
    }
    let el = t.elapsed();
    println!(
        "sentiment {:?} ({n} msgs, {:.0} msgs/s)",
        el,
        n as f64 / el.as_secs_f64()
    );
    let t = Instant::now();
    for (m, s) in convs.iter_mut() {
        opts.analyzer.analyze(m, s);
    }
    println!("analyze   {:?} (sentiment included)", t.elapsed());
    let t = Instant::now();
    let m = powerpulse_shared::compute_metrics(
        convs.iter().map(|c| &c.1),
        &Filter::default(),
        report.filtered,
        None,
    );
    println!("metrics   {:?}", t.elapsed());
    std::hint::black_box(m);
}
