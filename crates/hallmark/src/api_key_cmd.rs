//! `hallmark api-key create | list | revoke`: the node's API keys over its admin API
//! (`/api/v1/api-keys…`, admin scope). Without an API key these use the admin login
//! (`HALLMARK_ADMIN_USERNAME` + `HALLMARK_ADMIN_PASSWORD[_FILE]`): the bootstrap of the
//! first key. `create` prints the new key alone on stdout — once: the node keeps only its
//! hash — and its metadata and a warning on stderr.

use crate::client::{AdminClient, CliError, Exit, GlobalOpts, Method};
use crate::output::{self, text, Block, Table};
use crate::passport_cmd::escape;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Arguments of `hallmark api-key`.
#[derive(Args)]
#[command(after_long_help = crate::client::EXIT_CODES_HELP)]
pub struct ApiKeyArgs {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: ApiKeyCommand,
}

/// What a key may do.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyScope {
    /// GETs.
    Read,
    /// Passport writes (and reads).
    Write,
    /// API keys and signing keys (and everything else).
    Admin,
}

impl KeyScope {
    fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::Write => "write",
            KeyScope::Admin => "admin",
        }
    }
}

/// The `api-key` subcommands.
#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key: prints it once on stdout (store it now: it cannot be shown again).
    Create {
        /// What the key may do.
        #[arg(long, value_enum)]
        scope: KeyScope,
        /// A name for people (1 to 200 characters).
        #[arg(long)]
        label: String,
        /// When the key stops working (RFC 3339, in the future); never, if absent.
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
    /// List every key (revoked and expired ones included); never the keys themselves.
    List,
    /// Revoke a key (by the id `list` shows); it stops working at once.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// Runs `hallmark api-key` (exit codes: [`crate::client::EXIT_CODES_HELP`]).
pub fn run(args: &ApiKeyArgs) -> ExitCode {
    let name = match args.command {
        ApiKeyCommand::Create { .. } => "hallmark api-key create",
        ApiKeyCommand::List => "hallmark api-key list",
        ApiKeyCommand::Revoke { .. } => "hallmark api-key revoke",
    };
    output::run(name, args.global.json, execute(args))
}

async fn execute(args: &ApiKeyArgs) -> Result<Exit, CliError> {
    let json = args.global.json;
    let client = AdminClient::from_env_or_admin_login(&args.global)?;
    match &args.command {
        ApiKeyCommand::Create {
            scope,
            label,
            expires_at,
        } => {
            let mut body = json!({ "scope": scope.as_str(), "label": label });
            if let Some(e) = expires_at {
                body["expiresAt"] = json!(e);
            }
            let a = client
                .send(Method::POST, "/api/v1/api-keys", Some(&body))
                .await?
                .ok()?;
            let v: Value = a.json()?;
            let key = v["key"].as_str().ok_or_else(|| CliError::Unexpected {
                url: a.url.clone(),
                detail: "no `key` in the answer".into(),
            })?;
            eprint!("{}", info_block(&v).render());
            eprintln!(
                "warning: the key is printed once, below on stdout; store it now (e.g. in a \
                 file of mode 0600 named by HALLMARK_API_KEY_FILE): the node keeps only its \
                 hash and cannot show it again"
            );
            if json {
                println!("{}", String::from_utf8_lossy(&a.body).trim_end());
            } else {
                println!("{key}");
            }
            Ok(Exit::Ok)
        }
        ApiKeyCommand::List => {
            let a = client
                .send(Method::GET, "/api/v1/api-keys", None)
                .await?
                .ok()?;
            let v: Value = a.json()?;
            let items = v["items"].as_array().ok_or_else(|| CliError::Unexpected {
                url: a.url.clone(),
                detail: "no `items` array".into(),
            })?;
            if json {
                println!("{}", String::from_utf8_lossy(&a.body).trim_end());
                return Ok(Exit::Ok);
            }
            let mut t = Table::new(&[
                "ID",
                "PREFIX",
                "SCOPE",
                "LABEL",
                "CREATED",
                "EXPIRES",
                "REVOKED",
                "LAST USED",
            ]);
            for k in items {
                t.row(
                    [
                        "id",
                        "prefix",
                        "scope",
                        "label",
                        "createdAt",
                        "expiresAt",
                        "revokedAt",
                        "lastUsedAt",
                    ]
                    .iter()
                    .map(|m| text(&k[*m]))
                    .collect(),
                );
            }
            t.print();
            Ok(Exit::Ok)
        }
        ApiKeyCommand::Revoke { id } => {
            let path = format!("/api/v1/api-keys/{}/revoke", escape(id.trim()));
            let a = client.send(Method::POST, &path, None).await?.ok()?;
            let v: Value = a.json()?;
            if json {
                println!("{}", String::from_utf8_lossy(&a.body).trim_end());
            } else {
                info_block(&v).print();
            }
            Ok(Exit::Ok)
        }
    }
}

fn info_block(v: &Value) -> Block {
    Block::new()
        .field("id", v, "id")
        .field("prefix", v, "prefix")
        .field("scope", v, "scope")
        .field("label", v, "label")
        .field("created", v, "createdAt")
        .field("expires", v, "expiresAt")
        .field("revoked", v, "revokedAt")
        .field("last used", v, "lastUsedAt")
}
