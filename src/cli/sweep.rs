//! `layerguard sweep ecr` and `layerguard sweep merge`.

use super::{EXIT_FINDINGS, SweepEcrArgs, SweepFormatArg, SweepMergeArgs, SweepReportArgs};
use crate::ScanOptions;
use crate::finding::Severity;
use crate::source::Platform;
use crate::sweep::render::SweepFormat;
use crate::sweep::report::read_lines;
use crate::sweep::{self, Selection, Shard, SweepLine, SweepOptions, SweepReport, SweepStep};
use anyhow::{Context, Result};
use std::io::Write;

fn format_of(format: SweepFormatArg) -> SweepFormat {
    match format {
        SweepFormatArg::Table => SweepFormat::Table,
        SweepFormatArg::Json => SweepFormat::Json,
        SweepFormatArg::Jsonl => SweepFormat::JsonLines,
        SweepFormatArg::Sarif => SweepFormat::Sarif,
    }
}

/// Where the report goes: a file, an S3 object (`s3://`), or standard output (`None`).
fn output_of(how: &SweepReportArgs, shard: Option<Shard>) -> Option<std::path::PathBuf> {
    how.output
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
        .map(|p| with_shard(p, shard))
}

fn is_s3(path: &std::path::Path) -> bool {
    path.to_string_lossy().starts_with("s3://")
}

/// The exit code for findings of these severities, as `scan` gives it.
fn exit_code(fail_on: super::FailOn, mut severities: impl Iterator<Item = Severity>) -> u8 {
    let failing = super::scan::threshold(fail_on).is_some_and(|t| severities.any(|s| s >= t));
    if failing { EXIT_FINDINGS } else { 0 }
}

/// Writes the report and turns its findings into the exit code, as `scan` does.
fn finish(report: &SweepReport, how: &SweepReportArgs, shard: Option<Shard>) -> Result<u8> {
    let format = how.format;
    let output = output_of(how, shard);
    match output.as_deref() {
        Some(path) if path.to_string_lossy().starts_with("s3://") => {
            let mut bytes = Vec::new();
            report.render(format_of(format), &mut bytes)?;
            crate::cache::S3Cache::write_object(&path.to_string_lossy(), bytes)?;
        }
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("output {}", path.display()))?,
            );
            report.render(format_of(format), &mut file)?;
            file.flush()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            report.render(format_of(format), &mut out)?;
            out.flush()?;
        }
    }
    Ok(exit_code(how.fail_on, report.severities()))
}

/// JSON Lines to a file or standard output: each line is written as the sweep hands it on, so
/// memory stays bounded however many images the account has.
fn stream(
    sweep: &SweepOptions,
    options: &ScanOptions,
    step: &(dyn Fn(SweepStep) + Sync),
    how: &SweepReportArgs,
    output: Option<&std::path::Path>,
) -> Result<u8> {
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("output {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut severities = Vec::new();
    let mut written: std::io::Result<()> = Ok(());
    sweep::run(sweep, options, step, &mut |line| {
        severities.extend(line.severities());
        if written.is_ok() {
            written = line.write(&mut out).and_then(|()| match line {
                // A line a reader can act on at once, not when a buffer fills.
                SweepLine::Repository(_) | SweepLine::Image(_) => out.flush(),
                _ => Ok(()),
            });
        }
    })?;
    written?;
    out.flush()?;
    Ok(exit_code(how.fail_on, severities.into_iter()))
}

/// `{shard}` in an output path is the shard, `I-of-N` (`all` without shards): the children of
/// a Batch array job get the same command, and each must write its own report.
fn with_shard(path: &std::path::Path, shard: Option<Shard>) -> std::path::PathBuf {
    let text = path.to_string_lossy();
    if !text.contains("{shard}") {
        return path.to_owned();
    }
    let name = shard.map_or_else(
        || "all".to_owned(),
        |s| format!("{}-of-{}", s.index, s.count),
    );
    text.replace("{shard}", &name).into()
}

/// `--shard`, or AWS Batch's array index and size when the job is an array job.
fn shard(args: &SweepEcrArgs) -> Result<Option<Shard>> {
    if let Some(s) = &args.shard {
        return Ok(Some(Shard::parse(s).map_err(anyhow::Error::msg)?));
    }
    let (Ok(index), Ok(size)) = (
        std::env::var("AWS_BATCH_JOB_ARRAY_INDEX"),
        std::env::var("AWS_BATCH_JOB_ARRAY_SIZE"),
    ) else {
        return Ok(None);
    };
    Shard::parse(&format!("{index}/{size}"))
        .map(Some)
        .map_err(|e| anyhow::anyhow!("AWS_BATCH_JOB_ARRAY_INDEX/SIZE: {e}"))
}

/// `30d`, `12h`, `90m`, `3600s` or plain seconds.
fn duration(text: &str) -> Result<std::time::Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .with_context(|| format!("--pushed-since {text:?}: expected a number and d, h, m or s"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 7 * 86_400,
        other => {
            anyhow::bail!("--pushed-since {text:?}: unknown unit {other:?} (use d, h, m or s)")
        }
    };
    Ok(std::time::Duration::from_secs(seconds))
}

pub(super) fn ecr(args: SweepEcrArgs) -> Result<u8> {
    let regions = if args.region.is_empty() {
        let from_env = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .context("no --region given and neither AWS_REGION nor AWS_DEFAULT_REGION is set")?;
        vec![from_env]
    } else {
        args.region.clone()
    };
    let this_shard = shard(&args)?;
    let sweep = SweepOptions {
        regions,
        registry_id: args.registry_id.clone(),
        repositories: args.repository.clone(),
        images: match args.images {
            super::ImagesArg::Latest => Selection::Latest,
            super::ImagesArg::Tagged => Selection::Tagged,
            super::ImagesArg::All => Selection::All,
        },
        pushed_since: args.pushed_since.as_deref().map(duration).transpose()?,
        max_images_per_repo: args.max_images_per_repo,
        images_at_once: usize::from(args.images_at_once),
        shard: this_shard,
        now: chrono::Utc::now().timestamp(),
    };
    let mut options = ScanOptions {
        settings: super::scan::image_settings(super::scan::load_settings(args.config.as_deref())?),
        registry: super::scan::registry_options(&args.registry)?,
        ..ScanOptions::default()
    };
    if let Some(p) = &args.platform {
        options.platform = Some(Platform::parse(p).map_err(anyhow::Error::msg)?);
    }
    if let Some(n) = args.concurrency {
        options.threads = n.max(1);
    }
    options.cache = args.cache.open(true)?;
    let shown = Progress::start(&mut options);
    let step = |step: SweepStep| {
        if let Some(p) = &shown {
            p.step(step);
        }
    };
    let output = output_of(&args.report, this_shard);
    let streamed =
        args.report.format == SweepFormatArg::Jsonl && !output.as_deref().is_some_and(is_s3);
    let code = if streamed {
        stream(&sweep, &options, &step, &args.report, output.as_deref())
    } else {
        let mut report = SweepReport::default();
        sweep::run(&sweep, &options, &step, &mut |line| report.push(line))
            .map_err(anyhow::Error::from)
            .and_then(|_| finish(&report, &args.report, this_shard))
    };
    if let Some(p) = shown {
        p.bar.finish_and_clear();
    }
    code
}

/// A status line on standard error while a sweep runs, when that is a terminal: repositories
/// judged, images to scan, layers read and what the cache saved.
struct Progress {
    bar: indicatif::ProgressBar,
    counts: std::sync::Arc<std::sync::Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    repositories: usize,
    judged: usize,
    images: Option<usize>,
    layers_read: usize,
    bytes_read: u64,
    layers_cached: usize,
    bytes_saved: u64,
}

impl Counts {
    fn line(&self) -> String {
        let mut line = format!("repositories {}/{}", self.judged, self.repositories);
        if let Some(images) = self.images {
            line.push_str(&format!(", images {images}"));
        }
        line.push_str(&format!(
            ", layers read {} ({})",
            self.layers_read,
            crate::text::human_size(self.bytes_read)
        ));
        if self.layers_cached > 0 {
            line.push_str(&format!(
                ", from cache {} ({} not downloaded)",
                self.layers_cached,
                crate::text::human_size(self.bytes_saved)
            ));
        }
        line
    }
}

impl Progress {
    fn start(options: &mut ScanOptions) -> Option<Progress> {
        let bar = super::scan::spinner("listing repositories")?;
        let counts = std::sync::Arc::new(std::sync::Mutex::new(Counts::default()));
        let (shown, layers) = (bar.clone(), counts.clone());
        options.progress = Some(std::sync::Arc::new(move |layer: crate::scan::LayerDone| {
            let mut c = layers.lock().unwrap_or_else(|p| p.into_inner());
            if layer.from_cache {
                c.layers_cached += 1;
                c.bytes_saved += layer.blob_bytes;
            } else {
                c.layers_read += 1;
                c.bytes_read += layer.blob_bytes;
            }
            shown.set_message(c.line());
        }));
        Some(Progress { bar, counts })
    }

    fn step(&self, step: SweepStep) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match step {
            SweepStep::RepositoriesListed(n) => c.repositories += n,
            SweepStep::RepositoryJudged => c.judged += 1,
            SweepStep::ImagesChosen(n) => c.images = Some(n),
        }
        self.bar.set_message(c.line());
    }
}

pub(super) fn merge(args: SweepMergeArgs) -> Result<u8> {
    let mut parts = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let part = if name.starts_with("s3://") {
            let bytes = crate::cache::S3Cache::read_object(&name)?;
            read_lines(&bytes[..], &name)
        } else {
            let file = std::fs::File::open(path).with_context(|| name.clone())?;
            read_lines(std::io::BufReader::new(file), &name)
        }
        .map_err(anyhow::Error::msg)?;
        parts.push(part);
    }
    let report = sweep::merge(parts);
    finish(&report, &args.report, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn each_shard_names_its_own_output() {
        let shard = Some(Shard { index: 3, count: 8 });
        assert_eq!(
            with_shard(Path::new("s3://b/night/shard-{shard}.jsonl"), shard),
            Path::new("s3://b/night/shard-3-of-8.jsonl")
        );
        assert_eq!(
            with_shard(Path::new("out-{shard}.jsonl"), None),
            Path::new("out-all.jsonl")
        );
        assert_eq!(
            with_shard(Path::new("out.jsonl"), shard),
            Path::new("out.jsonl")
        );
    }
}
