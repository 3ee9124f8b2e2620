//! `hallmark readers list | show | approve | suspend | resume | revoke`: readers admitted by
//! the operator's approval (issue 20; docs/access.md), over the node's admin API
//! (`/api/v1/readers…`, admin scope). Approve a reader only after checking its key
//! fingerprint with it out of band (read it over the phone).

use crate::client::{AdminClient, CliError, Exit, GlobalOpts, Method};
use crate::output::{self, text, Block, Table};
use crate::passport_cmd::escape;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Arguments of `hallmark readers`.
#[derive(Args)]
#[command(after_long_help = crate::client::EXIT_CODES_HELP)]
pub struct ReadersArgs {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: ReadersCommand,
}

/// What an approved reader reads.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Tier {
    /// The legitimate-interest view (repairers, recyclers, …).
    LegitimateInterest,
    /// Everything (authorities, notified bodies, the Commission).
    Authority,
}

/// A reader's status, to filter a listing.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Status {
    /// Registered, not yet approved.
    Registered,
    /// Approved.
    Approved,
    /// Suspended.
    Suspended,
    /// Revoked.
    Revoked,
}

/// The `readers` subcommands.
#[derive(Subcommand)]
enum ReadersCommand {
    /// List readers (by id), optionally of one status.
    List {
        /// Only readers of this status.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Readers after this id (the previous page's `next`).
        #[arg(long)]
        after: Option<String>,
        /// At most this many (1 to 200).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show one reader: key fingerprint, organisation, contact, purpose, status, grant.
    Show {
        /// The reader's id.
        id: String,
    },
    /// Approve a reader (or grant an approved one anew), after checking its fingerprint.
    ///
    /// Scope: --all, --sector ID, --gtin GTIN (repeatable) or --passport ID (repeatable).
    Approve {
        /// The reader's id.
        id: String,
        /// What it reads.
        #[arg(long, value_enum)]
        tier: Tier,
        /// Every passport.
        #[arg(long, group = "scope")]
        all: bool,
        /// The passports of one sector (e.g. battery).
        #[arg(long, group = "scope")]
        sector: Option<String>,
        /// The passports of this GTIN (repeat for more).
        #[arg(long, group = "scope")]
        gtin: Vec<String>,
        /// This passport (urn:uuid:… or its UUID; repeat for more).
        #[arg(long, group = "scope")]
        passport: Vec<String>,
        /// Until when (RFC 3339; in the future, at most three years away).
        #[arg(long, value_name = "TIME")]
        expires_at: String,
    },
    /// Suspend an approved reader at once.
    Suspend {
        /// The reader's id.
        id: String,
        /// Why (kept with the reader; logged as its SHA-256).
        #[arg(long)]
        reason: String,
    },
    /// Resume a suspended reader under its grant.
    Resume {
        /// The reader's id.
        id: String,
    },
    /// Revoke a reader for good.
    Revoke {
        /// The reader's id.
        id: String,
        /// Why (kept with the reader; logged as its SHA-256).
        #[arg(long)]
        reason: String,
    },
}

/// Runs `hallmark readers` (exit codes: [`crate::client::EXIT_CODES_HELP`]).
pub fn run(args: &ReadersArgs) -> ExitCode {
    let name = match args.command {
        ReadersCommand::List { .. } => "hallmark readers list",
        ReadersCommand::Show { .. } => "hallmark readers show",
        ReadersCommand::Approve { .. } => "hallmark readers approve",
        ReadersCommand::Suspend { .. } => "hallmark readers suspend",
        ReadersCommand::Resume { .. } => "hallmark readers resume",
        ReadersCommand::Revoke { .. } => "hallmark readers revoke",
    };
    output::run(name, args.global.json, execute(args))
}

fn path(id: &str, tail: &str) -> String {
    format!("/api/v1/readers/{}{tail}", escape(id.trim()))
}

fn scope(
    all: bool,
    sector: &Option<String>,
    gtins: &[String],
    passports: &[String],
) -> Result<Value, CliError> {
    if all {
        return Ok(json!({"kind": "all"}));
    }
    if let Some(s) = sector {
        return Ok(json!({"kind": "sector", "sector": s}));
    }
    if !gtins.is_empty() {
        return Ok(json!({"kind": "gtins", "gtins": gtins}));
    }
    if !passports.is_empty() {
        let ids: Vec<String> = passports
            .iter()
            .map(|p| {
                let p = p.trim();
                if p.starts_with("urn:uuid:") {
                    p.to_owned()
                } else {
                    format!("urn:uuid:{p}")
                }
            })
            .collect();
        return Ok(json!({"kind": "passports", "passports": ids}));
    }
    Err(CliError::Usage(
        "give a scope: --all, --sector ID, --gtin GTIN or --passport ID".into(),
    ))
}

async fn execute(args: &ReadersArgs) -> Result<Exit, CliError> {
    let json = args.global.json;
    let client = AdminClient::from_env_or_admin_login(&args.global)?;
    let (method, path, body) = match &args.command {
        ReadersCommand::List {
            status,
            after,
            limit,
        } => {
            let mut query = format!("?limit={limit}");
            if let Some(s) = status {
                let s = match s {
                    Status::Registered => "registered",
                    Status::Approved => "approved",
                    Status::Suspended => "suspended",
                    Status::Revoked => "revoked",
                };
                query.push_str(&format!("&status={s}"));
            }
            if let Some(a) = after {
                query.push_str(&format!("&after={}", escape(a.trim())));
            }
            let a = client
                .send(Method::GET, &format!("/api/v1/readers{query}"), None)
                .await?
                .ok()?;
            if json {
                println!("{}", String::from_utf8_lossy(&a.body).trim_end());
                return Ok(Exit::Ok);
            }
            let v: Value = a.json()?;
            let items = v["items"].as_array().ok_or_else(|| CliError::Unexpected {
                url: a.url.clone(),
                detail: "no `items` array".into(),
            })?;
            let mut t = Table::new(&[
                "ID",
                "STATUS",
                "FINGERPRINT",
                "ORGANISATION",
                "PURPOSE",
                "TIER",
                "EXPIRES",
            ]);
            for r in items {
                t.row(vec![
                    text(&r["id"]),
                    text(&r["status"]),
                    text(&r["fingerprint"]),
                    text(&r["organisation"]),
                    text(&r["purpose"]),
                    text(&r["grant"]["tier"]),
                    text(&r["grant"]["expiresAt"]),
                ]);
            }
            t.print();
            if let Some(next) = v["next"].as_str() {
                eprintln!("more: --after {next}");
            }
            return Ok(Exit::Ok);
        }
        ReadersCommand::Show { id } => (Method::GET, path(id, ""), None),
        ReadersCommand::Approve {
            id,
            tier,
            all,
            sector,
            gtin,
            passport,
            expires_at,
        } => {
            let tier = match tier {
                Tier::LegitimateInterest => "legitimateInterest",
                Tier::Authority => "authority",
            };
            let body = json!({
                "tier": tier,
                "scope": scope(*all, sector, gtin, passport)?,
                "expiresAt": expires_at,
            });
            (Method::POST, path(id, "/approve"), Some(body))
        }
        ReadersCommand::Suspend { id, reason } => (
            Method::POST,
            path(id, "/suspend"),
            Some(json!({ "reason": reason })),
        ),
        ReadersCommand::Resume { id } => (Method::POST, path(id, "/resume"), None),
        ReadersCommand::Revoke { id, reason } => (
            Method::POST,
            path(id, "/revoke"),
            Some(json!({ "reason": reason })),
        ),
    };
    let a = client.send(method, &path, body.as_ref()).await?.ok()?;
    if json {
        println!("{}", String::from_utf8_lossy(&a.body).trim_end());
    } else {
        reader_block(&a.json()?).print();
    }
    Ok(Exit::Ok)
}

fn reader_block(v: &Value) -> Block {
    Block::new()
        .field("id", v, "id")
        .field("status", v, "status")
        .field("fingerprint", v, "fingerprint")
        .field("organisation", v, "organisation")
        .field("contact", v, "contact")
        .field("purpose", v, "purpose")
        .kv("tier", text(&v["grant"]["tier"]))
        .kv("scope", text(&v["grant"]["scope"]))
        .kv("expires", text(&v["grant"]["expiresAt"]))
        .field("admitted", v, "admitted")
        .field("reason", v, "statusReason")
        .field("registered", v, "registeredAt")
        .field("changed", v, "changedAt")
}
