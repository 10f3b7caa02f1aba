//! The shared pipeline on native threads: parsing and cleaning are sequential, measuring and
//! analysing conversations (independent of each other) is spread over the machine's cores.
//! The result is the same as `powerpulse_shared::process`, which the browser runs.

use std::path::Path;

use rayon::prelude::*;

use powerpulse_shared::cleaning::CleanChat;
use powerpulse_shared::{
    build_conversation, BuiltinAnalyzer, CleaningOptions, CleaningReport, Dataset, Options,
    ParseError, Taxonomy,
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
    let (chats, report) = powerpulse_shared::clean_export(input, opts)?;
    Ok(build(chats, report, opts))
}

/// Several exports as one dataset (`powerpulse_shared::process_merged`) using all cores; the
/// error names the file by its index.
pub fn process_merged(inputs: &[&[u8]], opts: &Options) -> Result<Dataset, (usize, ParseError)> {
    let (chats, report) = powerpulse_shared::clean_merged(inputs, opts)?;
    Ok(build(chats, report, opts))
}

fn build(chats: Vec<CleanChat>, report: CleaningReport, opts: &Options) -> Dataset {
    // rayon keeps the file order and balances uneven conversations across the cores.
    let conversations = chats
        .into_par_iter()
        .with_min_len(64)
        .map(|c| build_conversation(c, opts))
        .collect();
    Dataset {
        conversations,
        report,
    }
}

#[cfg(test)]
mod tests {
    use powerpulse_shared::synth::{generate, SynthOptions};
    use powerpulse_shared::Filter;

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
