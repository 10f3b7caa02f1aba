//! The shared pipeline on native threads: the export's top-level entries are parsed, its chats
//! cleaned, and its conversations measured and analysed (each independent of the others) on all
//! cores. The result is the same as `powerpulse_shared::process`, which the browser runs.

use std::path::Path;

use rayon::prelude::*;

use powerpulse_shared::cleaning::{ChatCleaner, CleanChat, CleanedChat};
use powerpulse_shared::export::{self, RawExport};
use powerpulse_shared::report::{Report, ReportBuilder, ReportOptions};
use powerpulse_shared::{
    build_conversation, BuiltinAnalyzer, CleaningOptions, Conversation, Dataset, Filter, Options,
    ParseError, Runner, Taxonomy,
};

/// The pipeline options of the settings: autoresponse patterns (comma-separated) and a topic
/// taxonomy file. The error names the file and what is wrong in it.
pub fn options(
    autoresponse_patterns: Option<&str>,
    topics_file: Option<&Path>,
) -> Result<Options, String> {
    let mut opts = Options::default();
    if let Some(p) = autoresponse_patterns {
        opts.cleaning = CleaningOptions::from_list(p);
    }
    if let Some(path) = topics_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let taxonomy = Taxonomy::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        opts.analyzer = BuiltinAnalyzer::new(taxonomy);
    }
    Ok(opts)
}

/// Parses, cleans, measures and analyses an export using all cores.
pub fn process(input: &[u8], opts: &Options) -> Result<Dataset, ParseError> {
    powerpulse_shared::process_with(input, opts, &Threads)
}

/// Several exports as one dataset (`powerpulse_shared::process_merged`) using all cores; the
/// error names the file by its index.
pub fn process_merged(inputs: &[&[u8]], opts: &Options) -> Result<Dataset, (usize, ParseError)> {
    powerpulse_shared::process_merged_with(inputs, opts, &Threads)
}

/// `Dataset::report` on all cores: each run of conversations counted apart, the parts merged in
/// order (`ReportBuilder::merge`), so the report is the sequential one.
pub fn report(d: &Dataset, filter: &Filter, opts: &ReportOptions) -> Report {
    let range = filter.time_range();
    d.conversations
        .par_iter()
        .with_min_len(REPORT_PER_TASK)
        .fold(
            || ReportBuilder::new(filter, opts),
            |mut b, c| {
                if filter.matches(&c.summary, range) {
                    b.add(&c.summary);
                }
                b
            },
        )
        .reduce_with(|mut a, b| {
            a.merge(b);
            a
        })
        .unwrap_or_else(|| ReportBuilder::new(filter, opts))
        .finish(d.report.filtered)
}

/// Conversations per report part: each part has its own business clock and tallies to merge.
const REPORT_PER_TASK: usize = 1024;

/// The pipeline's steps on rayon's threads. rayon keeps the input's order and balances uneven
/// chats across the cores; a few dozen chats per task keep its overhead small.
struct Threads;

const MIN_PER_TASK: usize = 64;

impl Runner for Threads {
    fn parse<'a>(&self, input: &'a [u8]) -> Result<RawExport<'a>, ParseError> {
        export::parse_export_by(input, |text, entries| {
            entries
                .par_iter()
                .with_min_len(MIN_PER_TASK)
                .map(|e| export::parse_entry(text, e))
                .collect()
        })
    }

    fn clean_chats<'r>(
        &self,
        raw: &'r RawExport<'_>,
        opts: &'r CleaningOptions,
    ) -> Vec<CleanedChat> {
        raw.chats
            .par_iter()
            .with_min_len(MIN_PER_TASK)
            .map_init(|| ChatCleaner::new(opts), |c, (id, v)| c.clean(id, v))
            .collect()
    }

    fn build(&self, chats: Vec<CleanChat>, opts: &Options) -> Vec<Conversation> {
        chats
            .into_par_iter()
            .with_min_len(MIN_PER_TASK)
            .map(|c| build_conversation(c, opts))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use powerpulse_shared::report::ReportParams;
    use powerpulse_shared::synth::{generate, SynthOptions};

    use super::*;

    #[test]
    fn threaded_pipeline_equals_the_shared_one() {
        let bytes = generate(&SynthOptions {
            conversations: 1500,
            ..SynthOptions::default()
        });
        let opts = Options::default();
        let a = process(&bytes, &opts).unwrap();
        let b = powerpulse_shared::process(&bytes, &opts).unwrap();
        assert_eq!(a.conversations, b.conversations);
        assert_eq!(a.report, b.report);
        assert_eq!(a.metrics(&Filter::default()), b.metrics(&Filter::default()));
    }

    #[test]
    fn threaded_report_equals_the_shared_one() {
        let bytes = generate(&SynthOptions {
            conversations: 5000,
            seed: 4,
            ..SynthOptions::default()
        });
        let d = process(&bytes, &Options::default()).unwrap();
        let params = ReportParams {
            business_hours: Some("Mon-Fri 08:00-17:00, Sat 09:00-13:00".into()),
            holidays: Some("2025-08-15".into()),
            identifiers: Some(true),
            ..ReportParams::default()
        };
        for (filter, period) in [(Filter::default(), "week"), (Filter::default(), "day")] {
            let opts = ReportParams {
                period: Some(period.into()),
                ..params.clone()
            }
            .to_options(filter.tz)
            .unwrap();
            let threaded = report(&d, &filter, &opts);
            assert!(threaded.breaches > 0);
            assert_eq!(threaded, d.report(&filter, &opts), "by {period}");
        }
        let agent = d.summaries().find_map(|s| s.agents.first().cloned());
        assert!(agent.is_some());
        let filter = Filter {
            agent: agent.clone(),
            ..Filter::default()
        };
        let opts = params.to_options(filter.tz).unwrap();
        let threaded = report(&d, &filter, &opts);
        assert!(threaded.metrics.core.total_conversations < d.conversations.len() as u64);
        assert_eq!(threaded, d.report(&filter, &opts), "one agent");
    }

    #[test]
    fn threaded_merge_equals_the_shared_one() {
        let (x, y) = (
            generate(&SynthOptions {
                conversations: 400,
                seed: 1,
                ..SynthOptions::default()
            }),
            generate(&SynthOptions {
                conversations: 400,
                seed: 2,
                ..SynthOptions::default()
            }),
        );
        let opts = Options::default();
        let a = process_merged(&[&x, &y, &x], &opts).unwrap();
        let b = powerpulse_shared::process_merged(&[&x, &y, &x], &opts).unwrap();
        assert_eq!(a.conversations, b.conversations);
        assert_eq!(a.report, b.report);
        assert!(
            a.report.filtered.duplicate > 0,
            "the third file repeats the first"
        );
    }
}
