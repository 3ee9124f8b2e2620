//! The `hallmark` command.
//!
//! Subcommands: `verify` (`verify_cmd.rs`: verification of a passport credential against
//! its issuer's DID document — files, or fetched with `fetch.rs` — and, with a log key,
//! against the transparency log; or of a verifiable presentation), `present`
//! (`present_cmd.rs`: a presentation of credentials signed with a holder key), `keys` (the encrypted file
//! keystore: see `keys.rs` and docs/keys.md), `labels` (`labels.rs`: QR codes of published
//! passports for printing, into a folder or ZIP), `log` (`log.rs`: fsck of the store's log,
//! consistency between two checkpoints), `serve` and `demo` (`node_cmd.rs`), and the control
//! plane over a node's admin API: `passport` (`passport_cmd.rs`), `api-key`
//! (`api_key_cmd.rs`), `export` (`export_cmd.rs`), `registry` (`registry_cmd.rs`) and `readers`
//! (`readers_cmd.rs`), on the admin client (`client.rs`: `AdminClient`, `Exit`, `CliError`),
//! its credentials (`creds.rs`) and output (`output.rs`); `reader` (`reader_cmd.rs`: a
//! restricted-tier reader's key file, its registration with a node and its status there, on
//! `reader_key.rs`: the key file read back, request signatures, the registrations sidecar)
//! and `fetch` (`fetch_cmd.rs`: a passport read as a reader, sealed or not, verified;
//! docs/access.md).

mod api_key_cmd;
mod client;
mod creds;
mod export_cmd;
/// Outbound HTTP(S), shared with the node (its webhook deliveries).
use hallmark_node::outbound as fetch;
mod fetch_cmd;
mod import;
mod keys;
mod labels;
mod log;
mod node_cmd;
mod output;
mod passport_cmd;
mod present_cmd;
mod reader_cmd;
mod reader_key;
mod readers_cmd;
mod registry_cmd;
mod runtime;
mod verify_cmd;

/// mimalloc instead of glibc's malloc: the node allocates and frees many short-lived
/// buffers per request (JSON, canonical forms, credentials), and glibc's allocator was
/// about a fifth of the node's CPU time on the publish path (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallmark",
    version,
    about = "Issue, sign, serve and prove Digital Product Passports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a passport credential against the issuer's DID document.
    ///
    /// Accepts either secured form: a Data Integrity JSON credential (eddsa-jcs-2022) or a
    /// compact vc+jwt. Prints every check, then the verdict. Exit codes: 0 valid; 1 invalid
    /// (a check failed, or the issuer's DID document could not be resolved); 2 usage or
    /// I/O error (nothing verified); 3 not in force (the credential's status list says
    /// suspended or revoked, or with --from the node serves the passport as suspended —
    /// 410, credential withheld —, archived or deactivated).
    ///
    /// The validity period (validFrom, validUntil) is checked against the current time
    /// unless --skip-validity-dates is given.
    ///
    /// Status (docs/status.md): a credential with W3C Bitstring Status List entries is
    /// checked against its signed status lists, given with --status-list FILE and, with
    /// --from, fetched from the URLs the credential names. Each list is verified against the
    /// same DID document (`status-list-signature`, `status-list`); the `status` check then
    /// says valid, suspended or revoked. With no list the check is a warning ("not
    /// checked"); a credential issued before status lists is skipped ("no status entry").
    ///
    /// With --from <passport URL> the credential is fetched from a node (http or https),
    /// the status it serves (Hallmark-Passport-Status, or 410) is reported as the
    /// `served-status` check, and the issuer's DID document is resolved by the did:web rules: over https
    /// from the DID's own host (https://host[:port]/.well-known/did.json, or
    /// https://host/path/did.json), never from the node being checked. --did-document FILE
    /// uses a file instead. --did-document-from URL fetches it from a URL you name — a
    /// development escape hatch (a demo node on http://localhost), reported as a warning.
    /// The `did-document` check always says where the document came from.
    ///
    /// With --log-key (the log's verifier key, pinned out of band) it also checks that the
    /// credential was logged: `log-checkpoint` (the checkpoint is signed by that key),
    /// `log-leaf` (the proof's leaf is the passport.published event recording this
    /// credential's SHA-256) and `log-inclusion` (the leaf is in the checkpointed tree).
    /// The checkpoint and proof come from --checkpoint and --proof (files saved from the
    /// node's /log/checkpoint and /log/proof/inclusion endpoints), or with --from are
    /// fetched from the node; with --from, each status list fetched is checked the same way
    /// (`status-list-log`: its leaf is the status-list.published event recording the
    /// SHA-256 of the list's bytes).
    ///
    /// A verifiable presentation (a JSON object whose type includes VerifiablePresentation,
    /// e.g. written by `hallmark present`) is verified as one: its own checks (the
    /// holder's proof for `authentication`, --challenge and --domain, holder binding), then
    /// each credential it contains, each with its report; valid only if all are
    /// (docs/verify.md, "Presentations"). --challenge and --domain set the challenge and
    /// domain the proof must carry (a credential's proof too).
    Verify(verify_cmd::VerifyArgs),
    /// Sign a verifiable presentation of passport credentials with a holder key.
    ///
    /// `hallmark present --key FILE [--holder DID] --challenge TEXT --domain TEXT
    /// CRED_FILE...` presents Data Integrity JSON credentials (embedded) and compact vc+jwt
    /// credentials (enveloped, as data:application/vc+jwt URLs) in one VC 2.0 presentation,
    /// secured with an eddsa-jcs-2022 proof for `authentication` carrying the verifier's
    /// challenge and domain. The key file is a reader key file (`hallmark reader keygen`,
    /// mode 0600); the holder is its did:key unless --holder names another DID. With no
    /// credential, the presentation proves possession of the key. Writes the presentation
    /// (RFC 8785 JSON) to stdout or --out FILE. Exit codes: 0 written; 1 signing or writing
    /// failed; 2 usage or unreadable input. See docs/verify.md, "Presentations".
    Present(present_cmd::PresentArgs),
    /// Manage the node's signing keys (encrypted file keystore).
    ///
    /// The passphrase is read from the HALLMARK_KEYSTORE_PASSPHRASE environment variable,
    /// never from the command line. Lifecycle events are printed to stdout as JSON lines.
    /// Exits 0 on success, 1 when the operation fails, 2 on usage errors.
    Keys {
        /// The keystore file: the one `hallmark serve` opens by default,
        /// <HALLMARK_DATA_DIR>/hallmark-keys.json (/var/lib/hallmark/hallmark-keys.json when
        /// HALLMARK_DATA_DIR is not set).
        #[arg(
            long,
            global = true,
            value_name = "PATH",
            env = "HALLMARK_KEYSTORE_PATH",
            default_value_os_t = keys::default_keystore()
        )]
        keystore: PathBuf,
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Write the QR codes of published passports (their GS1 Digital Link URIs) for printing.
    ///
    /// Reads the labels from a running node's admin API (GET /api/v1/labels) with an API key
    /// (read scope is enough) from HALLMARK_API_KEY, HALLMARK_API_KEY_FILE or a profile, as
    /// for `passport` (docs/cli.md), filtered by --gtin and --lot, and
    /// draws each as PNG (1-bit, its resolution in the file) and/or SVG (sized in mm): a
    /// 4-module quiet zone, error correction --ec (default M), module size --x in mm
    /// (GS1: 0.396 to 0.990; default 0.5). Files are named by the GS1 element string,
    /// e.g. (01)09506000134352(21)SN-1.png (characters a file system may refuse written
    /// as %XX). --out is a folder, or a .zip file. A progress bar is drawn on stderr when
    /// it is a terminal. Exits 0 when written, 1 when the node or the output failed or no
    /// published passport matches, 2 on usage errors. See docs/labels.md.
    Labels(labels::LabelsArgs),
    /// Transparency-log maintenance (`log check`: recompute and compare, like fsck).
    Log {
        #[command(subcommand)]
        command: log::LogCommand,
    },
    /// Run the node (production profile by default).
    ///
    /// Configuration comes from HALLMARK_* environment variables and/or a TOML file (see
    /// docs/configuration.md; secrets also from <VAR>_FILE). In production the node refuses
    /// to start — exit 2 and one line naming the problem — when a setting is missing or
    /// unsafe; exit 1 when start-up fails (database, keystore, listeners).
    #[command(after_long_help = serve_settings_help())]
    Serve {
        /// TOML configuration file (default: $HALLMARK_CONFIG if set).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Safety profile: production (default) or development.
        #[arg(long, default_value = "production", value_parser = node_cmd::parse_profile)]
        profile: hallmark_node::Profile,
    },
    /// Run a local demonstration node: SQLite, a development keystore and development-only
    /// admin credentials in ./hallmark-demo, example battery passports published through the
    /// signed battery plugin (plugins/battery, built in), then serve on 127.0.0.1 until
    /// Ctrl-C. Re-running reuses the directory.
    Demo {
        /// Data directory (development only: `hallmark serve` refuses it).
        #[arg(long, value_name = "DIR", default_value = hallmark_node::config::DEMO_DATA_DIR)]
        dir: PathBuf,
        /// Set up, publish and write the files, then exit instead of serving.
        #[arg(long, alias = "once")]
        no_serve: bool,
        /// Public listener port on 127.0.0.1 (base URL http://localhost:<port>).
        #[arg(long, default_value_t = 8080)]
        public_port: u16,
        /// Admin listener port on 127.0.0.1.
        #[arg(long, default_value_t = 8081)]
        admin_port: u16,
    },
    /// Create, update, validate, publish and manage passports on a running node.
    ///
    /// Each subcommand is one route of the node's admin API. The admin URL comes from
    /// --admin-url or HALLMARK_ADMIN_URL, the API key from HALLMARK_API_KEY or the file
    /// HALLMARK_API_KEY_FILE names, or both from a profile in
    /// ${XDG_CONFIG_HOME:-~/.config}/hallmark/cli.toml (--profile, HALLMARK_PROFILE) —
    /// never from the command line (there is no --api-key option). Human output by default
    /// (a refusal spelled out: title, status, problem type, detail, then one line per issue
    /// or plugin finding); --json prints the node's JSON as received. Exit codes: 0 done;
    /// 1 unexpected answer; 2 usage (arguments, missing URL or key, unreadable file); 3
    /// validation (content refused: 400 content errors, 413, 422; `validate` of a
    /// submission that is not publishable); 4 authentication or authorisation (401, 403);
    /// 5 state (404, 409, 410); 6 server (5xx after retries); 7 network (connect, TLS,
    /// timeout); 130 interrupted. See docs/cli.md.
    Passport(passport_cmd::PassportArgs),
    /// Export a passport in another format (`export aas`: an AAS V3.0 Environment).
    ///
    /// Reads from a running node's admin API (GET /api/v1/passports/{id}/aas, read scope)
    /// with the credentials of `passport` (docs/cli.md) and writes pretty JSON to stdout or
    /// --out FILE. Exit codes as for `passport`; a sector without an AAS mapping (406
    /// aas-unsupported-sector) is 5. See docs/aas.md.
    Export(export_cmd::ExportArgs),
    /// EU DPP registry submissions (`registry export`, `registry record`).
    ///
    /// `export --out DIR` writes the registration data of every published passport version
    /// not yet registered (GET /api/v1/registry/export, read scope) as JSON files of at most
    /// 100 entries; `record FILE` records the registry's answers (POST
    /// /api/v1/registry/registrations, write scope) — a hash that is not the version's is
    /// refused and nothing is recorded (exit 5). Credentials and exit codes as for
    /// `passport`. See docs/registry.md.
    Registry(registry_cmd::RegistryArgs),
    /// Create, list and revoke the node's API keys (admin scope).
    ///
    /// Credentials as for `passport`; without an API key, the admin login
    /// (HALLMARK_ADMIN_USERNAME with HALLMARK_ADMIN_PASSWORD or HALLMARK_ADMIN_PASSWORD_FILE)
    /// creates the first key. `create` prints the new key once on stdout (its metadata and
    /// a warning on stderr): the node keeps only its hash. Exit codes as for `passport`.
    ApiKey(api_key_cmd::ApiKeyArgs),
    /// A restricted-tier reader's side: its keys, its registration with a node, its status.
    ///
    /// Readers of the legitimate-interest and authority tiers sign their requests (RFC 9421,
    /// Ed25519; docs/access.md, "Tools for readers"). `keygen --out FILE` writes a new key
    /// file (0600, never overwritten) and prints its public half and fingerprint on stdout
    /// (exits 0 when written, 1 when it failed: the file exists, I/O; 2 on usage errors).
    /// `register` sends the public half to a node (POST <base>/readers) and records the
    /// reader id in FILE.nodes.json; `status` shows what the node holds about the reader
    /// (GET <base>/readers/me, signed). Their exit codes are in their --help.
    Reader {
        #[command(subcommand)]
        command: reader_cmd::ReaderCommand,
    },
    /// Readers admitted by the operator's approval (admin scope): list, show, approve,
    /// suspend, resume, revoke.
    ///
    /// A reader registers on the public listener (POST <base>/readers) and is inert until
    /// approved with a tier, a scope (--all, --sector, --gtin, --passport) and an expiry.
    /// Check the key fingerprint with the reader out of band before approving. Credentials
    /// and exit codes as for `passport`. See docs/access.md.
    Readers(readers_cmd::ReadersArgs),
    /// Read a passport as a reader: signed, sealed to the reader's key, verified, printed.
    ///
    /// `hallmark fetch --reader-key FILE <base>/passports/<uuid>[/versions/<n>]` signs the
    /// GET (RFC 9421) as the reader registered with that node (FILE.nodes.json, or
    /// --reader-id) and asks for the answer sealed to its X25519 key (a JWE; --plain: not
    /// sealed); the tier is the one the operator granted. A reader not approved yet gets the
    /// public tier, said so on stderr; without --reader-key the public tier is read. The
    /// credential (Data Integrity, or --jwt) is verified as `hallmark verify --from` does —
    /// the issuer's did:web DID document (or --did-document / --did-document-from), the
    /// signature, the dates, the served status and status lists — and its id must be the
    /// passport version asked for, in the tier served. Then it is printed on stdout (the
    /// vc+jwt's payload for --jwt), a one-line summary on stderr; a credential that does not
    /// verify prints nothing on stdout. Exit codes in --help; docs/access.md.
    Fetch(fetch_cmd::FetchArgs),
    /// Import passports from a CSV, XLSX or JSON Lines file, or write a sector's template.
    Import(import::ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    ///
    /// E.g. `hallmark completions bash > /etc/bash_completion.d/hallmark`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The settings of `hallmark serve --help`, by section, from the node's one settings table
/// (`hallmark_node::config::SETTINGS`).
fn serve_settings_help() -> String {
    let mut s = String::from(
        "Settings (environment variable = TOML key; [secret] also from <VAR>_FILE; details in docs/configuration.md):\n",
    );
    let mut section = "";
    for setting in hallmark_node::config::SETTINGS {
        if setting.section != section {
            section = setting.section;
            s.push_str(&format!("\n {section}:\n"));
        }
        s.push_str(&format!(
            "  {} = {}{}\n      {} Default: {}.\n",
            setting.env,
            setting.key,
            if setting.secret { "  [secret]" } else { "" },
            setting.help_text(),
            setting.default_text(),
        ));
    }
    s
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify(args) => verify_cmd::run(&args),
        Command::Present(args) => present_cmd::run(&args),
        Command::Keys { keystore, command } => keys::run(&keystore, command),
        Command::Labels(args) => labels::run(&args),
        Command::Log { command } => log::run(command),
        Command::Serve { config, profile } => node_cmd::serve(config.as_deref(), profile),
        Command::Demo {
            dir,
            no_serve,
            public_port,
            admin_port,
        } => node_cmd::demo(&node_cmd::DemoOptions {
            dir,
            no_serve,
            public_port,
            admin_port,
        }),
        Command::Passport(args) => passport_cmd::run(&args),
        Command::Export(args) => export_cmd::run(&args),
        Command::Registry(args) => registry_cmd::run(&args),
        Command::ApiKey(args) => api_key_cmd::run(&args),
        Command::Readers(args) => readers_cmd::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Reader { command } => reader_cmd::run(command),
        Command::Fetch(args) => fetch_cmd::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "hallmark",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    /// `hallmark serve --help` lists every setting of the table, with its default.
    #[test]
    fn serve_help_lists_every_setting() {
        let help = super::serve_settings_help();
        for setting in hallmark_node::config::SETTINGS {
            let line = format!("{} = {}", setting.env, setting.key);
            assert!(help.contains(&line), "{line} missing from:\n{help}");
            assert!(help.contains(&setting.default_text()), "{}", setting.env);
        }
    }
}
