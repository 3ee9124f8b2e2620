//! `hallmark api-key …`: API keys over the admin API (issue 18, WP4).
//! Stub: the commands land with the CLI control plane.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `hallmark api-key`.
#[derive(Args)]
pub struct ApiKeyArgs {}

/// Runs `hallmark api-key`.
pub fn run(_args: &ApiKeyArgs) -> ExitCode {
    eprintln!("hallmark api-key: not implemented yet");
    ExitCode::from(2)
}
