//! The command line: the only module that knows about clap, anyhow, the terminal and exit codes.
//!
//! Exit codes: 0 when no finding is at or above `--fail-on`, 1 when one is, 2 on any error
//! (including bad arguments). A closed pipe on output counts as success.

#![allow(clippy::disallowed_macros)]

mod explain;
mod scan;
mod sweep;
mod taskdef;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when findings at or above `--fail-on` remain.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for every error.
pub const EXIT_ERROR: u8 = 2;

/// Container image hardening scanner: setuid files, root users, secrets, bloat and more, from one
/// streaming pass over each layer.
#[derive(Debug, Parser)]
#[command(name = "layerguard", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan one image and report findings.
    Scan(Box<ScanArgs>),
    /// Sweep registries: every repository's settings and its images, each shared layer read
    /// once.
    #[command(subcommand)]
    Sweep(SweepCommand),
    /// Lint an ECS task definition: privileges, secrets, limits, logging, images.
    Taskdef(Box<TaskdefArgs>),
    /// List every rule.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only the image rules or only the task-definition checks.
        #[arg(long, value_enum)]
        only: Option<RuleSet>,
    },
    /// Print a rule's full documentation.
    Explain {
        /// Rule name (`setuid-file`, `task-privileged`) or code (`LG001`, `LG101`).
        rule: String,
    },
}

/// Which rules `rules` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RuleSet {
    /// The image rules, `scan`'s.
    Image,
    /// The task-definition checks, `taskdef`'s.
    Taskdef,
}

/// Report formats of `taskdef`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskdefFormat {
    Table,
    Json,
    Sarif,
    Junit,
}

#[derive(Debug, clap::Args)]
struct TaskdefArgs {
    /// The task definition: a JSON file, either the register-task-definition input or the
    /// describe-task-definition output (`-` reads standard input); or a registered one,
    /// `ecs:FAMILY[:REVISION]` (the latest active revision without one) or its ARN, fetched with
    /// ecs:DescribeTaskDefinition.
    #[arg(value_name = "FILE|-|ecs:FAMILY[:REVISION]|ARN")]
    file: PathBuf,
    /// Report format.
    #[arg(long, short, value_enum, default_value_t = TaskdefFormat::Table)]
    format: TaskdefFormat,
    #[command(flatten)]
    report: ReportArgs,
    /// Deploy gate: pull each container's image (for the task's runtimePlatform) and scan it
    /// too; its findings count for --fail-on, and its USER and repository inform the checks.
    #[arg(long)]
    scan_images: bool,
    /// With --scan-images: how to reach the registries.
    #[command(flatten)]
    registry: RegistryArgs,
    /// With --scan-images: layer records are kept only when asked to.
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Sweep ECR registries.
    Ecr(Box<SweepEcrArgs>),
    /// Join shards' JSON Lines reports into one report.
    Merge(SweepMergeArgs),
}

/// Which images of each repository a sweep scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ImagesArg {
    /// The most recently pushed image.
    Latest,
    /// Every tagged image.
    Tagged,
    /// Every image.
    All,
}

/// Formats of a sweep report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SweepFormatArg {
    Table,
    Json,
    /// JSON Lines, what `sweep merge` reads.
    Jsonl,
    /// SARIF 2.1.0: one run for the whole sweep, for GitHub code scanning.
    Sarif,
}

#[derive(Debug, clap::Args)]
struct SweepEcrArgs {
    /// Region to sweep (repeatable; default AWS_REGION).
    #[arg(long)]
    region: Vec<String>,
    /// The registry (account ID) to sweep (default: the caller's own).
    #[arg(long)]
    registry_id: Option<String>,
    /// Only repositories whose name matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    repository: Vec<String>,
    /// Which images of each repository to scan.
    #[arg(long, value_enum, default_value_t = ImagesArg::Latest)]
    images: ImagesArg,
    /// Only images pushed within this long (30d, 12h, 90m).
    #[arg(long, value_name = "DURATION")]
    pushed_since: Option<String>,
    /// At most this many images per repository, newest first.
    #[arg(long, value_name = "N")]
    max_images_per_repo: Option<usize>,
    /// Layers read at once (default: number of CPUs).
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Images scanned together; fewer hold less memory, and a layer they share is still read
    /// once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    images_at_once: u16,
    /// This task's share of the repositories, I/N with 0 <= I < N (default: AWS Batch's
    /// AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE when set).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    #[command(flatten)]
    report: SweepReportArgs,
    /// Config file (default: ./layerguard.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Platform to pick from multi-platform images.
    #[arg(long)]
    platform: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Layer records are kept in the user cache directory unless told otherwise.
    #[command(flatten)]
    cache: CacheArgs,
}

/// Where and how a sweep's report is written.
#[derive(Debug, clap::Args)]
struct SweepReportArgs {
    /// Report format.
    #[arg(long, short, value_enum, default_value_t = SweepFormatArg::Table)]
    format: SweepFormatArg,
    /// Write the report to this file, or to an S3 object (`s3://BUCKET/KEY`), instead of
    /// standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    fail_on: FailOn,
}

#[derive(Debug, clap::Args)]
struct SweepMergeArgs {
    /// The shards' reports (`--format jsonl`): files, or S3 objects (`s3://BUCKET/KEY`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    report: SweepReportArgs,
}

/// Output format of `rules`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
    Markdown,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
    Sarif,
    Junit,
    /// CycloneDX 1.6 JSON SBOM.
    #[value(name = "cyclonedx")]
    CycloneDx,
    /// SPDX 2.3 JSON SBOM.
    #[value(name = "spdx-json")]
    SpdxJson,
}

/// When the table is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Severity threshold for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// The image: REGISTRY/REPO[:TAG][@DIGEST] (or docker://…), docker-archive:PATH (`-` for
    /// stdin), oci:DIR[:TAG], oci-archive:PATH[:TAG], docker-daemon:NAME[:TAG].
    image: String,
    /// Report format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    #[command(flatten)]
    report: ReportArgs,
    /// Platform to pick from a multi-platform image, os/arch[/variant] (default: this host's).
    #[arg(long)]
    platform: Option<String>,
    /// Layers read in parallel (default: number of CPUs).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the inventory (packages, binaries): rules only.
    #[arg(long)]
    no_inventory: bool,
    /// Record each binary's SHA-256 (always on for the cyclonedx and spdx-json formats).
    #[arg(long)]
    hash_binaries: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Where a report goes and what fails the gate: the same for an image and a task definition.
#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Write the report to this file instead of standard output (`-` is standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Table format: findings only, without the summary, the warnings and (for an image) the
    /// inventory line.
    #[arg(long, short)]
    quiet: bool,
    /// Colour in the table: `auto` on a terminal (not when NO_COLOR is set or TERM=dumb).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    fail_on: FailOn,
    /// Config file (default: ./layerguard.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Where layer records are kept between runs.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Layer cache")]
struct CacheArgs {
    /// Keep layer records in DIR and reuse them: a layer read before is not read again.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// A shared tier in S3 behind the directory, s3://BUCKET[/PREFIX] (AWS credential chain;
    /// AWS_ENDPOINT_URL_S3 is honoured).
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    cache: Option<String>,
    /// Use no layer cache.
    #[arg(long, conflicts_with_all = ["cache_dir", "cache"])]
    no_cache: bool,
    /// Bound on the cache directory; least recently used records are removed past it.
    #[arg(long, value_name = "SIZE", default_value = "2GiB")]
    cache_max_size: String,
}

impl CacheArgs {
    /// The cache these flags ask for. With `user_dir_by_default` and no `--cache-dir`, the
    /// directory is the user's cache directory (unless `--no-cache`).
    fn open(
        &self,
        user_dir_by_default: bool,
    ) -> anyhow::Result<Option<std::sync::Arc<dyn crate::cache::RecordCache>>> {
        if self.no_cache {
            return Ok(None);
        }
        let max = crate::config::parse_size(&self.cache_max_size)
            .map_err(|e| anyhow::anyhow!("--cache-max-size {:?}: {e}", self.cache_max_size))?;
        let dir = self.cache_dir.clone().or_else(|| {
            user_dir_by_default
                .then(crate::cache::default_dir)
                .flatten()
        });
        Ok(crate::cache::open(
            dir.as_deref(),
            self.cache.as_deref(),
            max,
        )?)
    }
}

/// How to reach registries.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Registry")]
struct RegistryArgs {
    /// Registry user name (with --password-stdin); otherwise Docker's config.json and its
    /// credential helpers are used, and ECR logs in with the AWS credential chain.
    #[arg(long, requires = "password_stdin")]
    username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Trust this PEM CA certificate (bundle) for registries, beside the system's (repeatable).
    #[arg(long, value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
    /// Allow plain HTTP to this registry, HOST[:PORT] (repeatable; loopback registries always
    /// may).
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure_registry: Vec<String>,
    /// Pull from URL instead of HOST, HOST=URL (repeatable): pull-through caches, mirrors.
    #[arg(long, value_name = "HOST=URL")]
    registry_mirror: Vec<String>,
    /// Seconds a registry connection or download may stall before it is retried.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "LAYERGUARD_REGISTRY_TIMEOUT_SECS",
        default_value_t = 60
    )]
    registry_timeout: u64,
}

/// Parses arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Sweep(SweepCommand::Ecr(args)) => sweep::ecr(*args),
        Command::Sweep(SweepCommand::Merge(args)) => sweep::merge(args),
        Command::Taskdef(args) => taskdef::run(*args),
        Command::Rules { format, only } => explain::list(format, only).map(|()| 0),
        Command::Explain { rule } => explain::explain(&rule).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
