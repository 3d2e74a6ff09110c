//! Placeholder.

use super::ScanReport;
use std::io::{self, Write};

pub(super) fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    super::json::render(report, out)
}
