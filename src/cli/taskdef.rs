//! `layerguard taskdef`: one task definition (a file, or fetched from ECS) → lint → report →
//! exit code.

use super::scan::{colour, load_settings, output_file, registry_options, threshold, write_report};
use super::{EXIT_FINDINGS, TaskdefArgs, TaskdefFormat};
use crate::report::Format;
use crate::report::taskdef::{ImageEntry, TaskDefinitionReport, render};
use crate::source::ecs::{self, TaskDefinitionName};
use crate::taskdef;
use crate::{ScanOptions, deploy};
use anyhow::{Context, Result};
use std::io::Read;

/// An absolute path below the working directory, made relative to it: code scanning places results
/// by paths relative to the checkout, and CI steps often pass absolute ones.
fn in_checkout(file: &std::path::Path) -> Option<String> {
    let here = std::env::current_dir().ok()?;
    let relative = file.strip_prefix(&here).ok()?;
    Some(relative.display().to_string())
}

/// A task definition's text, the name errors use, and where reports locate it.
struct Input {
    text: String,
    shown: String,
    located: String,
    /// Fetched from ECS: there is no file whose lines findings could point at.
    fetched: bool,
}

fn read_input(file: &std::path::Path) -> Result<Input> {
    let named = file.to_str().and_then(TaskDefinitionName::parse);
    if let Some(name) = named {
        let fetched = ecs::fetch(&name?)?;
        return Ok(Input {
            text: fetched.text,
            shown: fetched.located.clone(),
            located: fetched.located,
            fetched: true,
        });
    }
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("standard input")?;
        return Ok(Input {
            text,
            shown: "standard input".to_owned(),
            located: "-".to_owned(),
            fetched: false,
        });
    }
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| crate::Error::io(&name, e))?;
    Ok(Input {
        text,
        located: in_checkout(file).unwrap_or_else(|| name.clone()),
        shown: name,
        fetched: false,
    })
}

/// The deploy gate's scans, with `scan`'s registry and cache flags.
fn scan_images(
    args: &TaskdefArgs,
    loaded: &taskdef::Loaded,
    settings: &crate::config::Settings,
) -> Result<Vec<deploy::ContainerImage>> {
    let options = ScanOptions {
        settings: super::scan::image_settings(settings.clone()),
        registry: registry_options(&args.registry)?,
        cache: args.cache.open(false)?,
        ..ScanOptions::default()
    };
    Ok(deploy::scan_images(loaded, &options))
}

fn entry(image: deploy::ContainerImage) -> ImageEntry {
    let (report, error) = match image.outcome {
        Ok((report, _)) => (Some(report), None),
        Err(error) => (None, Some(error)),
    };
    ImageEntry {
        container: image.container,
        reference: image.reference,
        report,
        error,
    }
}

pub(super) fn run(args: TaskdefArgs) -> Result<u8> {
    if args.scan_images && args.registry.password_stdin && args.file.as_os_str() == "-" {
        anyhow::bail!("--password-stdin and a task definition on standard input both want it");
    }
    let settings = load_settings(args.report.config.as_deref())?;
    // Ignores may name image rules (for the images `--scan-images` scans) or task checks;
    // anything else is a typo that would silently suppress nothing.
    if let Some(ig) = settings.ignores.iter().find(|ig| {
        taskdef::checks::find(&ig.rule).is_none() && crate::rules::find(&ig.rule).is_none()
    }) {
        anyhow::bail!(
            "config {}: ignore names unknown rule {:?}",
            settings.origin,
            ig.rule
        );
    }
    let input = read_input(&args.file)?;
    let mut loaded = taskdef::load(&input.text, &input.shown)?;
    if input.fetched {
        loaded.lines = Default::default();
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let images = if args.scan_images {
        Some(scan_images(&args, &loaded, &settings)?)
    } else {
        None
    };
    let facts = images
        .as_deref()
        .map(|images| deploy::container_facts(&loaded, images))
        .unwrap_or_default();
    let lint = taskdef::lint(&loaded, &facts, &settings, &today);
    let mut report = TaskDefinitionReport::new(&input.located, &loaded, lint);
    if let Some(images) = images {
        report = report.with_images(images.into_iter().map(entry).collect());
    }

    let output = output_file(args.report.output.as_deref());
    let fail_on = threshold(args.report.fail_on);
    let format = match args.format {
        TaskdefFormat::Table => Format::Table {
            colour: colour(args.report.color, output.is_some()),
            fail_on,
            quiet: args.report.quiet,
        },
        TaskdefFormat::Json => Format::Json,
        TaskdefFormat::Sarif => Format::Sarif,
        TaskdefFormat::Junit => Format::Junit { fail_on },
    };
    write_report(output, |out| render(&report, format, out))?;
    Ok(if report.fails(fail_on) {
        EXIT_FINDINGS
    } else {
        0
    })
}
