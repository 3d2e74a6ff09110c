//! `layerguard taskdef`: one task-definition file → lint → report → exit code.

use super::scan::{colour, load_settings, output_file, threshold, write_report};
use super::{EXIT_FINDINGS, TaskdefArgs, TaskdefFormat};
use crate::report::Format;
use crate::report::taskdef::{TaskDefinitionReport, render};
use crate::taskdef;
use anyhow::{Context, Result};
use std::io::Read;

/// An absolute path below the working directory, made relative to it: code scanning places results
/// by paths relative to the checkout, and CI steps often pass absolute ones.
fn in_checkout(file: &std::path::Path) -> Option<String> {
    let here = std::env::current_dir().ok()?;
    let relative = file.strip_prefix(&here).ok()?;
    Some(relative.display().to_string())
}

pub(super) fn run(args: TaskdefArgs) -> Result<u8> {
    let settings = load_settings(args.config.as_deref())?;
    let from_stdin = args.file.as_os_str() == "-";
    let (name, text) = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("standard input")?;
        ("-".to_owned(), text)
    } else {
        let name = args.file.display().to_string();
        let text = std::fs::read_to_string(&args.file).map_err(|e| crate::Error::io(&name, e))?;
        (name, text)
    };
    let shown = if from_stdin {
        "standard input"
    } else {
        name.as_str()
    };
    let loaded = taskdef::load(&text, shown)?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    // No image facts yet: each container is judged by its task definition alone.
    let lint = taskdef::lint(&loaded, &[], &settings, &today);
    let file = in_checkout(&args.file).unwrap_or(name);
    let report = TaskDefinitionReport::new(&file, &loaded, lint);

    let output = output_file(args.output.as_deref());
    let fail_on = threshold(args.fail_on);
    let format = match args.format {
        TaskdefFormat::Table => Format::Table {
            colour: colour(args.color, output.is_some()),
            fail_on,
            quiet: args.quiet,
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
