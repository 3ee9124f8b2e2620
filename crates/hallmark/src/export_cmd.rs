//! `hallmark export aas ID [--audience public|legitimate-interest|authority] [--out FILE]`:
//! a passport's current version as one audience's AAS V3.0 Environment
//! (`GET /api/v1/passports/{id}/aas?audience=…`, read scope; `docs/aas.md`), written as
//! pretty JSON to stdout or FILE. Credentials and exit codes as for `hallmark passport`
//! (406 `aas-unsupported-sector`, a sector without an AAS mapping: exit 5).

use crate::client::{AdminClient, CliError, Exit, GlobalOpts, Method};
use crate::output;
use crate::passport_cmd::escape;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hallmark export`.
#[derive(Args)]
#[command(after_long_help = crate::client::EXIT_CODES_HELP)]
pub struct ExportArgs {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: ExportCommand,
}

/// Whose view is exported.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AudienceArg {
    /// What anyone may see (built from the verified public credential).
    Public,
    /// Persons with a legitimate interest (repairers, recyclers, …).
    LegitimateInterest,
    /// Notified bodies, market surveillance authorities, the Commission: everything.
    Authority,
}

impl AudienceArg {
    /// The admin API's `audience` value.
    fn wire(self) -> &'static str {
        match self {
            AudienceArg::Public => "public",
            AudienceArg::LegitimateInterest => "legitimateInterest",
            AudienceArg::Authority => "authority",
        }
    }
}

/// The `export` subcommands.
#[derive(Subcommand)]
enum ExportCommand {
    /// A battery passport's current version as an AAS V3.0 Environment (JSON) with the
    /// IDTA 02035 Digital Battery Passport submodels, for one audience (docs/aas.md). Not
    /// signed: the credential is the evidence.
    Aas {
        /// The passport id.
        id: String,
        /// Whose view: public, legitimate-interest or authority (the default).
        #[arg(long, value_enum, default_value = "authority")]
        audience: AudienceArg,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Runs `hallmark export` (exit codes: [`crate::client::EXIT_CODES_HELP`]).
pub fn run(args: &ExportArgs) -> ExitCode {
    let name = match args.command {
        ExportCommand::Aas { .. } => "hallmark export aas",
    };
    output::run(name, args.global.json, execute(args))
}

async fn execute(args: &ExportArgs) -> Result<Exit, CliError> {
    let ExportCommand::Aas { id, audience, out } = &args.command;
    let client = AdminClient::from_env(&args.global)?;
    let path = format!(
        "/api/v1/passports/{}/aas?audience={}",
        escape(id.trim()),
        audience.wire()
    );
    let answer = client.send(Method::GET, &path, None).await?.ok()?;
    let env: Value = answer.json()?;
    if !env.is_object() {
        return Err(CliError::Unexpected {
            url: answer.url,
            detail: "not a JSON object".into(),
        });
    }
    let mut text = serde_json::to_string_pretty(&env).map_err(|e| CliError::Unexpected {
        url: answer.url.clone(),
        detail: e.to_string(),
    })?;
    text.push('\n');
    match out {
        Some(file) => std::fs::write(file, text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| CliError::Usage(format!("stdout: {e}")))?;
        }
    }
    Ok(Exit::Ok)
}
