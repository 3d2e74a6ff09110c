//! The versioned JSON report: `ScanReport` serialised as it is.

use super::ScanReport;
use std::io::{self, Write};

pub(super) fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
