//! `hallmark serve` start-up order, as real processes: everything that can fail without the
//! database (keystore, listeners) fails before it is touched; a changed public base URL is
//! refused naming both log origins; a database that cannot be reached is named by URL
//! (without its password); a second start logs no PostgreSQL notice; `HALLMARK_LOG_FORMAT=json`
//! writes one JSON object per line (and an unknown format is refused naming the variable).

use hallmark_testkit::pg;

use hallmark_keys::keystore::{KdfParams, Keystore};
use hallmark_store::{SqliteStore, Store};
use secrecy::SecretString;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_hallmark");
const PASSPHRASE: &str = "Keystore-Passphrase-Startup-5d2e";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

struct Env {
    vars: Vec<(String, String)>,
    public: u16,
}

/// A production environment on SQLite (`sqlite:` URL) in `dir`; the keystore at
/// `<dir>/keys.json` is created only when `keystore` is true.
fn sqlite_env(dir: &Path, keystore: bool, base_url: &str) -> Env {
    let ks = dir.join("keys.json");
    if keystore && !ks.exists() {
        Keystore::create(
            &ks,
            &SecretString::from(PASSPHRASE),
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    }
    let (public, admin) = (free_port(), free_port());
    let vars = [
        ("HALLMARK_PUBLIC_BASE_URL", base_url.to_string()),
        ("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{public}")),
        ("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
        ("HALLMARK_DATA_DIR", dir.display().to_string()),
        (
            "HALLMARK_DATABASE_URL",
            format!("sqlite:{}", dir.join("hallmark.db").display()),
        ),
        ("HALLMARK_KEYSTORE_PATH", ks.display().to_string()),
        ("HALLMARK_KEYSTORE_PASSPHRASE", PASSPHRASE.to_string()),
        ("HALLMARK_ADMIN_USERNAME", "operator".to_string()),
        (
            "HALLMARK_ADMIN_PASSWORD",
            "Admin-Password-Startup-8c1f".to_string(),
        ),
        ("HALLMARK_CHECKPOINT_INTERVAL_MS", "20".to_string()),
        ("HALLMARK_LOG_LEVEL", "info".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Env { vars, public }
}

fn serve(env: &Env) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear().arg("serve").envs(env.vars.iter().cloned());
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c
}

/// Runs `serve` to its end (a start-up failure): (exit code, stderr).
fn serve_fails(env: &Env) -> (i32, String) {
    let out = serve(env).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `serve`, waits until its public listener answers and a checkpoint is signed.
fn serve_up(env: &Env) -> Child {
    let child = serve(env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/log/checkpoint", env.public);
    let up = rt().block_on(async {
        for _ in 0..1200 {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return true;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    });
    if !up {
        let out = stop(child);
        panic!("the node did not come up: {out}");
    }
    child
}

/// SIGTERM, then the process's stderr (asserting a clean exit).
fn stop(child: Child) -> String {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

/// (audit events, `node.started` events) in the SQLite database.
fn audit(db: &Path) -> (u64, usize) {
    rt().block_on(async {
        let store = SqliteStore::open(db).await.unwrap();
        let len = store.audit_len().await.unwrap();
        let started = store
            .list_audit(1, 10_000)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event.action == "node.started")
            .count();
        (len, started)
    })
}

#[test]
fn a_missing_keystore_stops_start_up_before_the_database_is_created() {
    let tmp = tempfile::tempdir().unwrap();
    let env = sqlite_env(tmp.path(), false, "https://dpp.example.com");
    let (code, err) = serve_fails(&env);
    assert_eq!(code, 1, "{err}");
    let ks = tmp.path().join("keys.json").display().to_string();
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("hallmark keys init --keystore {ks}"))
            && last.contains("HALLMARK_KEYSTORE_PATH"),
        "{err}"
    );
    assert!(!tmp.path().join("hallmark.db").exists(), "migrations ran");
}

#[test]
fn a_port_in_use_stops_start_up_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let env = sqlite_env(tmp.path(), true, "https://dpp.example.com");
    let db = tmp.path().join("hallmark.db");
    // Taken before the first start: not even the database is created.
    let taken = std::net::TcpListener::bind(format!("127.0.0.1:{}", env.public)).unwrap();
    let (code, err) = serve_fails(&env);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(
        !db.exists(),
        "migrations ran before the listeners were bound"
    );
    drop(taken);
    // A node that ran once; the port taken again: no node.started, nothing written.
    stop(serve_up(&env));
    let before = audit(&db);
    assert_eq!(before.1, 1);
    let _taken = std::net::TcpListener::bind(format!("127.0.0.1:{}", env.public)).unwrap();
    let (code, err) = serve_fails(&env);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
    assert_eq!(audit(&db), before);
}

#[test]
fn json_logs_are_one_json_object_per_line_and_hold_no_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let mut env = sqlite_env(tmp.path(), true, "https://dpp.example.com");
    env.vars.push(("HALLMARK_LOG_FORMAT".into(), "json".into()));
    let err = stop(serve_up(&env));
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{err}");
    let mut messages = Vec::new();
    for line in &lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "not a JSON line ({e}): {line}
{err}"
            )
        });
        assert!(event["timestamp"].is_string(), "{line}");
        assert!(
            ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&event["level"].as_str().unwrap()),
            "{line}"
        );
        assert!(event["target"].is_string(), "{line}");
        messages.push(
            event["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert!(messages.iter().any(|m| m == "listening"), "{messages:?}");
    assert!(
        messages.iter().any(|m| m == "shutting down"),
        "{messages:?}"
    );
    for secret in [PASSPHRASE, "Admin-Password-Startup-8c1f"] {
        assert!(!err.contains(secret), "a secret in the log:\n{err}");
    }
}

#[test]
fn an_unknown_log_format_is_refused_naming_the_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut env = sqlite_env(tmp.path(), true, "https://dpp.example.com");
    env.vars.push(("HALLMARK_LOG_FORMAT".into(), "xml".into()));
    let (code, err) = serve_fails(&env);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("HALLMARK_LOG_FORMAT") && err.contains("text or json"),
        "{err}"
    );
    assert!(
        !tmp.path().join("hallmark.db").exists(),
        "refused before the database"
    );
}

#[test]
fn a_changed_base_url_is_refused_naming_both_log_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let env = sqlite_env(tmp.path(), true, "https://dpp.example.com");
    stop(serve_up(&env));
    let db = tmp.path().join("hallmark.db");
    let before = audit(&db);
    let moved = sqlite_env(tmp.path(), true, "https://passports.example.org");
    let (code, err) = serve_fails(&moved);
    assert_eq!(code, 1, "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains(
            r#"the origin changed from "dpp.example.com/log" to "passports.example.org/log""#
        ),
        "{err}"
    );
    assert!(!last.contains("not signed"), "{err}");
    assert_eq!(audit(&db), before, "something was written");
    // The old base URL still starts.
    stop(serve_up(&sqlite_env(
        tmp.path(),
        true,
        "https://dpp.example.com",
    )));
}

fn pg_url(role: &str, password: Option<&str>, host: &str, port: u16, db: &str) -> String {
    let auth = match password {
        Some(p) => format!("{role}:{p}"),
        None => role.to_string(),
    };
    format!("postgres://{auth}@{host}:{port}/{db}")
}

/// PostgreSQL: a missing keystore leaves the database without the `hallmark` schema; an
/// unreachable server is named by URL without its password; a second start logs no
/// `schema "hallmark" already exists` notice.
#[test]
fn postgres_start_up_touches_nothing_before_it_can_serve_and_names_what_it_cannot_reach() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(pg::PgDb::new());
    let o = pg::admin_options();
    let (host, port) = (o.get_host().to_string(), o.get_port());
    let tmp = tempfile::tempdir().unwrap();
    let pg_env = |keystore: bool| {
        let mut env = sqlite_env(tmp.path(), keystore, "https://dpp.example.com");
        for (k, v) in env.vars.iter_mut() {
            if k == "HALLMARK_DATABASE_URL" {
                *v = pg_url(&db.app_role, None, &host, port, &db.database);
            }
        }
        env.vars.push((
            "HALLMARK_DATABASE_MIGRATION_URL".into(),
            pg_url(&db.migration_role, None, &host, port, &db.database),
        ));
        env
    };
    let schema_exists = || {
        rt.block_on(async {
            use sqlx::ConnectOptions;
            let mut conn = db.options(&db.migration_role).connect().await.unwrap();
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'hallmark')",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap()
        })
    };
    let (code, err) = serve_fails(&pg_env(false));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("hallmark keys init --keystore"), "{err}");
    assert!(
        !schema_exists(),
        "migrations ran before the keystore was opened"
    );

    // A server that is not there: the URL is named, the password is not.
    let mut down = pg_env(true);
    let closed = free_port();
    for (k, v) in down.vars.iter_mut() {
        if k == "HALLMARK_DATABASE_MIGRATION_URL" {
            *v = pg_url(
                "owner",
                Some("Secret-Db-Pass-91"),
                "127.0.0.1",
                closed,
                "hallmark",
            );
        }
    }
    let (code, err) = serve_fails(&down);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot connect with the migration URL postgres://owner@127.0.0.1:{closed}/hallmark"
        )),
        "{err}"
    );
    assert!(!err.contains("Secret-Db-Pass-91"), "{err}");

    let env = pg_env(true);
    stop(serve_up(&env));
    assert!(schema_exists());
    let second = stop(serve_up(&env));
    assert!(!second.contains("already exists"), "{second}");
    drop(db);
}
