//! `hallmark import …`: bulk import of CSV, XLSX and JSON Lines files, and the sector
//! templates (issue 18, WP5). Stub: the importer lands with the import work package.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `hallmark import`.
#[derive(Args)]
pub struct ImportArgs {}

/// Runs `hallmark import`.
pub fn run(_args: &ImportArgs) -> ExitCode {
    eprintln!("hallmark import: not implemented yet");
    ExitCode::from(2)
}
