//! Writing a sweep's report in the format asked for. The formats live beside the report
//! (`report.rs`: JSON, JSON Lines, the table; `sarif.rs`), and only this file knows them all, so
//! the report and its SARIF form do not import each other.

use super::report::{SweepLine, SweepReport};
use super::sarif;
use std::io::{self, Write};

/// How a sweep report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepFormat {
    /// People: the totals, then each repository's and image's findings by severity.
    Table,
    /// One JSON document.
    Json,
    /// JSON Lines, for `sweep merge`.
    JsonLines,
    /// SARIF, one run for the whole sweep.
    Sarif,
}

impl SweepReport {
    /// Writes the report.
    pub fn render(&self, format: SweepFormat, out: &mut dyn Write) -> io::Result<()> {
        match format {
            SweepFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.document())?;
                writeln!(out)
            }
            SweepFormat::JsonLines => {
                for r in &self.repositories {
                    SweepLine::Repository(r.clone()).write(out)?;
                }
                for i in &self.images {
                    SweepLine::Image(i.clone()).write(out)?;
                }
                for f in &self.failures {
                    SweepLine::Failure(f.clone()).write(out)?;
                }
                SweepLine::Totals(self.totals).write(out)
            }
            SweepFormat::Table => self.table(out),
            SweepFormat::Sarif => sarif::render(self, out),
        }
    }
}
