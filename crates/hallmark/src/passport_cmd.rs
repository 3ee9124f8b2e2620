//! `hallmark passport …`: the passport control plane over the admin API (issue 18, WP4).
//! Stub: the commands land with the CLI control plane.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `hallmark passport`.
#[derive(Args)]
pub struct PassportArgs {}

/// Runs `hallmark passport`.
pub fn run(_args: &PassportArgs) -> ExitCode {
    eprintln!("hallmark passport: not implemented yet");
    ExitCode::from(2)
}
