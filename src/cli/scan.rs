//! `layerguard scan`: one image → report → exit code.

use super::{ColorChoice, EXIT_FINDINGS, FailOn, OutputFormat, ScanArgs};
use crate::config::{self, Settings};
use crate::finding::Severity;
use crate::report::{self, Format};
use crate::source::registry::{Credential, RegistryOptions, Secret};
use crate::source::{Platform, Source};
use crate::{ScanOptions, scan};
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};

pub(super) fn load_settings(path: Option<&std::path::Path>) -> Result<Settings> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (std::path::PathBuf::from(config::FILE_NAME), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Settings::from_toml(&text, &path.display().to_string())?),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(e).with_context(|| format!("config {}", path.display())),
    }
}

/// The settings an image scan runs with. One `layerguard.toml` serves `scan`, `sweep` and
/// `taskdef`, so ignores naming task-definition checks are set aside here rather than refused
/// as unknown rules: they are for `taskdef`.
pub(super) fn image_settings(mut settings: Settings) -> Settings {
    settings
        .ignores
        .retain(|ig| crate::taskdef::checks::find(&ig.rule).is_none());
    settings
}

pub(super) fn threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

/// A spinner on standard error while layers are read, when that is a terminal: daemon exports
/// and big archives take a while. Nothing on a pipe or in a CI log.
fn progress(options: &mut crate::ScanOptions) -> Option<indicatif::ProgressBar> {
    let bar = spinner("reading layers")?;
    let done = std::sync::Arc::new(std::sync::Mutex::new((0usize, 0u64, 0usize)));
    let shown = bar.clone();
    options.progress = Some(std::sync::Arc::new(move |layer: crate::scan::LayerDone| {
        let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
        if layer.from_cache {
            d.2 += 1;
        } else {
            d.0 += 1;
            d.1 += layer.tar_bytes;
        }
        let mut message = format!(
            "{} layer{} read, {}",
            d.0,
            if d.0 == 1 { "" } else { "s" },
            crate::text::human_size(d.1)
        );
        if d.2 > 0 {
            message.push_str(&format!(", {} from cache", d.2));
        }
        shown.set_message(message);
    }));
    Some(bar)
}

/// A spinner with `message` on standard error, when that is a terminal; `None` on a pipe or in
/// a CI log.
pub(super) fn spinner(message: &'static str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar.set_message(message);
    Some(bar)
}

/// The registry flags as the source needs them; the password is read from standard input.
pub(super) fn registry_options(args: &super::RegistryArgs) -> Result<RegistryOptions> {
    let credential = match &args.username {
        Some(username) => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                anyhow::bail!("--password-stdin: standard input held no password");
            }
            Some(Credential::Basic {
                username: username.clone(),
                password: Secret::new(password),
            })
        }
        None => None,
    };
    let ca_certs = args
        .ca_cert
        .iter()
        .map(|path| {
            std::fs::read(path)
                .with_context(|| format!("--ca-cert {}", path.display()))
                .map(|pem| (path.clone(), pem))
        })
        .collect::<Result<Vec<_>>>()?;
    let mirrors = args
        .registry_mirror
        .iter()
        .map(|m| {
            let (host, url) = m
                .split_once('=')
                .with_context(|| format!("--registry-mirror {m:?}: expected HOST=URL"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!(
                    "--registry-mirror {m:?}: the URL must start with http:// or https://"
                );
            }
            Ok((host.to_owned(), url.to_owned()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RegistryOptions {
        credential,
        logins: Vec::new(),
        skip_repository_checks: false,
        ca_certs,
        insecure: args.insecure_registry.clone(),
        mirrors,
        timeout: Some(std::time::Duration::from_secs(args.registry_timeout.max(1))),
    })
}

/// The file `--output` names; `-o -` is standard output, as for most tools that write files.
pub(super) fn output_file(output: Option<&std::path::Path>) -> Option<&std::path::Path> {
    output.filter(|p| *p != std::path::Path::new("-"))
}

/// Whether the table is coloured: `auto` only on a terminal that wants colour.
pub(super) fn colour(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Writes a report to `output`, or standard output when it is `None`.
pub(super) fn write_report(
    output: Option<&std::path::Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("output {}", path.display()))?,
            );
            render(&mut file)?;
            file.flush()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            render(&mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

pub(super) fn run(args: ScanArgs) -> Result<u8> {
    let source = Source::parse(&args.image)?;
    if matches!(source, Source::DockerArchive(None)) && args.registry.password_stdin {
        anyhow::bail!("--password-stdin and docker-archive:- both want standard input");
    }
    let mut options = ScanOptions {
        settings: image_settings(load_settings(args.report.config.as_deref())?),
        registry: registry_options(&args.registry)?,
        ..ScanOptions::default()
    };
    if let Some(p) = &args.platform {
        options.platform = Some(Platform::parse(p).map_err(anyhow::Error::msg)?);
    }
    if args.no_inventory {
        options = options.without_inventory();
    }
    options.hash_binaries = args.hash_binaries
        || matches!(
            args.format,
            OutputFormat::CycloneDx | OutputFormat::SpdxJson
        );
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    // A scan caches only when asked to: one image seldom repeats, and a gate in CI should
    // leave nothing behind on the runner.
    options.cache = args.cache.open(false)?;
    let spinner = progress(&mut options);
    let report = scan(&source, &args.image, &options);
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let report = report?;

    let output = output_file(args.report.output.as_deref());
    let colour = colour(args.report.color, output.is_some());
    let format = match args.format {
        OutputFormat::Table => Format::Table {
            colour,
            fail_on: threshold(args.report.fail_on),
            quiet: args.report.quiet,
        },
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Junit => Format::Junit {
            fail_on: threshold(args.report.fail_on),
        },
        OutputFormat::CycloneDx => Format::CycloneDx,
        OutputFormat::SpdxJson => Format::SpdxJson,
    };
    write_report(output, |out| report::render(&report, format, out))?;
    let failing = threshold(args.report.fail_on)
        .is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if failing { EXIT_FINDINGS } else { 0 })
}
