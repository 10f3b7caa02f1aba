//! The command line: `serve` (default), `healthcheck`, `metrics`, `export`, `report`,
//! `analyze`, `evaluate`, `sentiment`, `generate`.
//!
//! Exit status: 0 on success, 2 on bad input or usage, with a one-line message on stderr.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use powerpulse_shared::csv_out::ExportType;
use powerpulse_shared::evaluate;
use powerpulse_shared::report::ReportParams;
use powerpulse_shared::report_html::{report_csv, report_html, REPORT_TITLE};
use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{sentiment::SentimentAnalyzer, Dataset, Filter, FilterParams, Options};

use crate::pipeline::process;

/// PowerPulse: honest support metrics from Facebook Messenger exports.
#[derive(Debug, Parser)]
#[command(name = "powerpulse", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: REST API, web app, background analysis (configuration from the
    /// environment and `.env`; see the README).
    Serve,
    /// Check that a running server answers `/health` (exit 0 when healthy, 1 otherwise).
    Healthcheck {
        /// The server's base URL (default from BIND/PORT).
        #[arg(long)]
        url: Option<String>,
    },
    /// Analyse an export with the configured AI provider (prints one JSON result per line), or
    /// with --dry-run print exactly what would be sent, for privacy review.
    Analyze {
        /// The export (JSON).
        #[arg(required_unless_present = "check")]
        file: Option<PathBuf>,
        /// Print the requests instead of sending them.
        #[arg(long)]
        dry_run: bool,
        /// Only check that the provider lists the configured model (exit 0 when it does, 1
        /// when it does not, naming the closest ids; 2 when the list cannot be read).
        #[arg(long, conflicts_with = "dry_run")]
        check: bool,
        /// For a dry run without a configured provider: gemini or openai.
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        pipeline: PipelineArgs,
    },
    /// Compute the dataset metrics of an export (as `GET /api/metrics` would).
    Metrics {
        /// The export (JSON).
        file: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Print the JSON object of `GET /api/metrics` instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Write a CSV export (conversations, messages or metrics).
    Export {
        /// The export (JSON).
        file: PathBuf,
        /// conversations, messages or metrics.
        #[arg(long = "type", value_name = "TYPE")]
        export_type: ExportType,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        pipeline: PipelineArgs,
    },
    /// Score an analysis of an export against reference labels (satisfaction kappa, FCR
    /// balanced accuracy, topic hit, CSAT % and FCR %, sentiment r; overall and per language).
    Evaluate {
        /// The export (JSON).
        file: PathBuf,
        /// The labels (JSON: chat id -> satisfaction, fcr, topics, customer_sentiment, language).
        #[arg(long)]
        labels: PathBuf,
        /// A conversations CSV (as the server and the app export it) to evaluate instead of the
        /// built-in analyzer, e.g. a stored AI analysis.
        #[arg(long)]
        analysis: Option<PathBuf>,
        /// Print the evaluation as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        pipeline: PipelineArgs,
    },
    /// Write the report (business hours, service levels, periods compared, Meta
    /// responsiveness) of one export or of several merged, as one self-contained HTML page
    /// (as `GET /api/report?format=html` would) or as JSON.
    Report {
        /// The export(s) (JSON); messages found in more than one are counted once.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
        /// Print the JSON object of `GET /api/report` instead of the page.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the figures by period as CSV (`GET /api/report?format=csv`).
        #[arg(long)]
        csv: bool,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        pipeline: PipelineArgs,
    },
    /// Score sentiment: one text per line on stdin, one score per line on stdout (empty = no signal).
    Sentiment,
    /// Generate a realistic synthetic export (for tests, benchmarks and demos).
    Generate {
        /// Number of chats.
        #[arg(long, default_value_t = 1000)]
        conversations: usize,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Days the chats spread over, from 2025-08-01.
        #[arg(long, default_value_t = 14)]
        days: u32,
        /// Write the flat array form instead of the grouped object.
        #[arg(long)]
        flat: bool,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Filters shared by `metrics` and `export`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// First day (YYYY-MM-DD, inclusive) of the conversations' first message.
    #[arg(long)]
    pub start_date: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive).
    #[arg(long)]
    pub end_date: Option<String>,
    /// Time zone the days are counted in (IANA name, default UTC).
    #[arg(long, env = "TIMEZONE")]
    pub tz: Option<String>,
    /// Only conversations this agent replied in.
    #[arg(long)]
    pub agent: Option<String>,
    /// Only conversations with this topic.
    #[arg(long)]
    pub topic: Option<String>,
    /// Only satisfied conversations.
    #[arg(long)]
    pub satisfied_only: bool,
    /// Lowest satisfaction score (1-5).
    #[arg(long)]
    pub min_satisfaction: Option<i64>,
    /// Highest satisfaction score (1-5).
    #[arg(long)]
    pub max_satisfaction: Option<i64>,
}

/// The report's settings (the query parameters of `GET /api/report`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Weekly business hours, e.g. "Mon-Fri 08:00-17:00, Sat 09:00-13:00" (default: around the
    /// clock), read in the --tz zone.
    #[arg(long, env = "BUSINESS_HOURS")]
    pub business_hours: Option<String>,
    /// Days closed: YYYY-MM-DD, separated by commas.
    #[arg(long, env = "HOLIDAYS")]
    pub holidays: Option<String>,
    /// day, week (ISO, the default) or month.
    #[arg(long)]
    pub period: Option<String>,
    /// The period to compare (2025-W49, 2025-12-02, 2025-12; default the last).
    #[arg(long)]
    pub compare: Option<String>,
    /// The period it is compared with (default the one before).
    #[arg(long)]
    pub against: Option<String>,
    /// First-response target in minutes (default 15).
    #[arg(long, env = "FIRST_RESPONSE_TARGET")]
    pub first_response_target: Option<f64>,
    /// Reply-gap target in minutes (default 60).
    #[arg(long, env = "REPLY_GAP_TARGET")]
    pub reply_gap_target: Option<f64>,
    /// business (the default) or calendar: the clock the targets are measured in.
    #[arg(long)]
    pub target_clock: Option<String>,
    /// Name agents and list the chats that missed a target.
    #[arg(long)]
    pub identifiers: bool,
}

impl ReportArgs {
    /// The settings as the API takes them.
    pub fn to_params(&self) -> ReportParams {
        ReportParams {
            business_hours: self.business_hours.clone(),
            holidays: self.holidays.clone(),
            period: self.period.clone(),
            compare: self.compare.clone(),
            against: self.against.clone(),
            first_response_target: self.first_response_target,
            reply_gap_target: self.reply_gap_target,
            target_clock: self.target_clock.clone(),
            identifiers: Some(self.identifiers),
        }
    }
}

/// Pipeline settings shared by `metrics` and `export`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Comma-separated autoresponse patterns (default `*977#`).
    #[arg(long, env = "AUTORESPONSE_PATTERNS")]
    pub autoresponse_patterns: Option<String>,
    /// A topic taxonomy file (`label: keyword, keyword` lines) replacing the default.
    #[arg(long, env = "TOPICS_FILE")]
    pub topics: Option<PathBuf>,
}

/// A failure the CLI reports in one line (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or usage.
    #[error("{0}")]
    Input(String),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl FilterArgs {
    /// The filter these arguments describe.
    pub fn to_filter(&self) -> Result<Filter, CliError> {
        FilterParams {
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            tz: self.tz.clone(),
            agent: self.agent.clone(),
            topic: self.topic.clone(),
            satisfied_only: Some(self.satisfied_only),
            min_satisfaction: self.min_satisfaction,
            max_satisfaction: self.max_satisfaction,
        }
        .to_filter(None)
        .map_err(CliError::Input)
    }
}

impl PipelineArgs {
    /// The pipeline options these arguments describe.
    pub fn to_options(&self) -> Result<Options, CliError> {
        crate::pipeline::options(
            self.autoresponse_patterns.as_deref(),
            self.topics.as_deref(),
        )
        .map_err(CliError::Input)
    }
}

/// Reads and processes an export; errors name the file and, for JSON, the place.
pub fn load(path: &PathBuf, opts: &Options) -> Result<Dataset, CliError> {
    let bytes = open_input(path)?;
    process(&bytes, opts).map_err(|e| in_file(path)(e.to_string()))
}

/// Runs the CLI; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help and --version go to stdout with status 0.
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid usage");
            eprintln!("powerpulse: {}", line.trim_start_matches("error: "));
            return 2;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    match command {
        Command::Serve => crate::cli_server::serve(),
        Command::Healthcheck { url } => crate::cli_server::healthcheck(url),
        Command::Analyze { check: true, .. } => crate::cli_server::check_model(),
        Command::Analyze {
            file,
            dry_run,
            service,
            pipeline,
            ..
        } => {
            let file = file.expect("clap requires the file without --check");
            match pipeline
                .to_options()
                .and_then(|o| load(&file, &o))
                .map(|d| crate::cli_server::analyze(&d, dry_run, service.as_deref()))
            {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("powerpulse: {e}");
                    2
                }
            }
        }
        other => match run(other) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("powerpulse: {e}");
                2
            }
        },
    }
}

/// Runs one of the file subcommands.
pub fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve | Command::Healthcheck { .. } | Command::Analyze { .. } => {
            unreachable!("handled by cli::main")
        }
        Command::Metrics {
            file,
            filter,
            pipeline,
            json,
        } => {
            let f = filter.to_filter()?;
            let d = load(&file, &pipeline.to_options()?)?;
            let m = d.metrics(&f);
            let mut out = io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &m).map_err(io::Error::from)?;
                writeln!(out)?;
            } else {
                write_summary(&mut out, &d, &m)?;
            }
            out.flush()?;
            // The process ends next; freeing a large dataset piece by piece only costs time.
            std::mem::forget(d);
        }
        Command::Export {
            file,
            export_type,
            output,
            filter,
            pipeline,
        } => {
            let f = filter.to_filter()?;
            let d = load(&file, &pipeline.to_options()?)?;
            let bytes = d.csv(&f, export_type);
            write_output(output.as_ref(), &bytes)?;
        }
        Command::Evaluate {
            file,
            labels,
            analysis,
            json,
            pipeline,
        } => {
            let e = evaluation(&file, &labels, analysis.as_ref(), &pipeline)?;
            let mut out = io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &e).map_err(io::Error::from)?;
                writeln!(out)?;
            } else {
                write!(out, "{e}")?;
            }
            out.flush()?;
        }
        Command::Report {
            files,
            report,
            json,
            csv,
            output,
            filter,
            pipeline,
        } => {
            let f = filter.to_filter()?;
            let opts = report
                .to_params()
                .to_options(f.tz)
                .map_err(CliError::Input)?;
            let options = pipeline.to_options()?;
            let inputs = files
                .iter()
                .map(open_input)
                .collect::<Result<Vec<_>, _>>()?;
            let slices: Vec<&[u8]> = inputs.iter().map(|i| &**i).collect();
            let d = crate::pipeline::process_merged(&slices, &options)
                .map_err(|(i, e)| in_file(&files[i])(e.to_string()))?;
            let r = crate::pipeline::report(&d, &f, &opts);
            let bytes = if json {
                let mut b = serde_json::to_vec_pretty(&r).map_err(io::Error::from)?;
                b.push(b'\n');
                b
            } else if csv {
                report_csv(&r)
            } else {
                report_html(&r, REPORT_TITLE).into_bytes()
            };
            write_output(output.as_ref(), &bytes)?;
            // As for `metrics`: the process ends next.
            std::mem::forget(d);
        }
        Command::Sentiment => {
            let a = SentimentAnalyzer::care();
            let stdin = io::stdin().lock();
            let mut out = io::BufWriter::new(io::stdout().lock());
            for line in stdin.split(b'\n') {
                let line = line?;
                let text = String::from_utf8_lossy(&line);
                match a.score(text.trim_end_matches('\r')) {
                    Some(s) => writeln!(out, "{s}")?,
                    None => writeln!(out)?,
                }
            }
            out.flush()?;
        }
        Command::Generate {
            conversations,
            seed,
            days,
            flat,
            output,
        } => {
            let bytes = generate(&SynthOptions {
                conversations,
                seed,
                days,
                flat,
                ..SynthOptions::default()
            });
            write_output(output.as_ref(), &bytes)?;
        }
    }
    Ok(())
}

fn in_file(p: &Path) -> impl Fn(String) -> CliError + '_ {
    move |e| CliError::Input(format!("{}: {e}", p.display()))
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))
}

/// An export's bytes: the file mapped where it can be (no copy, no fresh pages to fault in:
/// a tenth of the pipeline's time on a 50 MB export), else read.
enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Read(v) => v,
        }
    }
}

fn open_input(path: &PathBuf) -> Result<Input, CliError> {
    let cannot = |e: io::Error| CliError::Input(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let regular = file.metadata().map_err(cannot)?;
    if regular.is_file() && regular.len() > 0 {
        // SAFETY: the map is read-only and lives only while the pipeline reads it (the dataset
        // owns its data). Another process truncating the file meanwhile would make a read
        // fault, the trade every mapping reader (ripgrep, git) makes for a file it was given.
        if let Ok(m) = unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            return Ok(Input::Mapped(m));
        }
    }
    read_file(path).map(Input::Read)
}

/// Evaluates the built-in analysis of an export, or a stored analysis CSV, against labels.
fn evaluation(
    file: &PathBuf,
    labels: &PathBuf,
    analysis: Option<&PathBuf>,
    pipeline: &PipelineArgs,
) -> Result<evaluate::Evaluation, CliError> {
    let labels = evaluate::parse_labels(&read_file(labels)?).map_err(in_file(labels))?;
    // The export is read even when a stored analysis is given: a broken export is an error.
    let dataset = load(file, &pipeline.to_options()?)?;
    let predictions = match analysis {
        Some(csv) => evaluate::predictions_from_csv(&read_file(csv)?).map_err(in_file(csv))?,
        None => evaluate::predictions_of(dataset.summaries()),
    };
    let mut e = evaluate::evaluate(&labels, &predictions);
    // The correction needs the analyzer's call on every conversation: the built-in one's.
    if analysis.is_none() {
        let summaries: Vec<_> = dataset.summaries().cloned().collect();
        e.corrected = Some(evaluate::labels_as_reviews(&summaries, &labels));
    }
    Ok(e)
}

fn write_output(path: Option<&PathBuf>, bytes: &[u8]) -> Result<(), CliError> {
    match path {
        Some(p) => std::fs::write(p, bytes)
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", p.display()))),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("n/a".to_owned(), |v| format!("{v:.2}{unit}"))
}

fn write_summary(
    out: &mut impl Write,
    d: &Dataset,
    m: &powerpulse_shared::MetricsReport,
) -> io::Result<()> {
    let c = &m.core;
    let r = &c.response_time;
    writeln!(out, "PowerPulse metrics (definitions {})", m.definitions)?;
    writeln!(
        out,
        "  read {} chats, {} messages; kept {} messages in {} conversations",
        d.report.chats_read,
        d.report.messages_read,
        d.report.messages_kept,
        d.conversations.len()
    )?;
    writeln!(out, "  conversations      {}", c.total_conversations)?;
    writeln!(out, "  messages           {}", c.total_messages)?;
    writeln!(
        out,
        "  CSAT               {:.2}% (n={})",
        c.csat_percentage, c.n.csat
    )?;
    writeln!(
        out,
        "  FCR                {:.2}% (n={})",
        c.fcr_percentage, c.n.fcr
    )?;
    writeln!(
        out,
        "  avg sentiment      {} (n={})",
        m.core
            .avg_sentiment_score
            .map_or("n/a".into(), |v| format!("{v:.4}")),
        c.n.sentiment
    )?;
    writeln!(
        out,
        "  reply gap          mean {} median {} p90 {} (n={})",
        fmt_opt(r.reply_gap.mean, " min"),
        fmt_opt(r.reply_gap.median, " min"),
        fmt_opt(r.reply_gap.p90, " min"),
        r.reply_gap.n
    )?;
    writeln!(
        out,
        "  turn response      mean {} median {} p90 {} (n={}, unanswered {})",
        fmt_opt(r.turn.mean, " min"),
        fmt_opt(r.turn.median, " min"),
        fmt_opt(r.turn.p90, " min"),
        r.turn.n,
        r.unanswered_turns
    )?;
    writeln!(
        out,
        "  first response     mean {} median {} p90 {} (n={})",
        fmt_opt(r.first_response.mean, " min"),
        fmt_opt(r.first_response.median, " min"),
        fmt_opt(r.first_response.p90, " min"),
        r.first_response.n
    )?;
    let s = &c.sentiment_distribution;
    writeln!(
        out,
        "  customer messages  {} positive, {} neutral, {} negative",
        s.positive, s.neutral, s.negative
    )?;
    let topics: Vec<String> = m
        .most_common_topics
        .iter()
        .map(|t| format!("{} {:.1}%", t.topic, t.percentage))
        .collect();
    writeln!(out, "  top topics         {}", topics.join(", "))?;
    let f = &m.filtered;
    writeln!(
        out,
        "  filtered           missing_field {}, bad_direction {}, bad_timestamp {}, empty_content {}, autoresponse {}, duplicate {}, empty_chats {}, invalid_chats {}",
        f.missing_field, f.bad_direction, f.bad_timestamp, f.empty_content, f.autoresponse, f.duplicate, f.empty_chats, f.invalid_chats
    )?;
    if d.report.truncated_messages > 0 {
        writeln!(
            out,
            "  truncated          {} messages judged on their first {} bytes only",
            d.report.truncated_messages,
            powerpulse_shared::analyzer::MAX_ANALYSED_BYTES
        )?;
    }
    Ok(())
}
