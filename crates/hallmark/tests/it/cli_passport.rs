//! The control plane as real `hallmark` processes against a real node: `passport …` through
//! a whole lifecycle (SQLite; publish, get and list on both backends), `api-key …` from the
//! admin-login bootstrap to a revoked key, the credential sources (environment, key file,
//! profile; a profile holding a key refused when others can read it; no `--api-key`), each
//! exit code of the table provoked (2, 3, 4, 5, 6 with the retry policy, 7), `--json`
//! output parsed, and `completions`.

use hallmark_testkit as kit;
use kit::{Backend, Node, TestNode};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A finished `hallmark` process.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Out {
    /// Asserts exit `code`; returns self.
    pub(crate) fn code(self, code: i32) -> Out {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The environment of a `hallmark` process: only PATH, a HOME and XDG_CONFIG_HOME of its
/// own (no profile unless a test writes one), and what the test adds.
pub(crate) struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    pub(crate) fn new() -> Cli {
        let home = tempfile::tempdir().unwrap();
        let env = vec![
            ("HOME".into(), home.path().display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                home.path().join("config").display().to_string(),
            ),
        ];
        Cli { home, env }
    }

    /// With the node's admin URL and an API key in the environment.
    pub(crate) fn for_node(node: &Node, key: &str) -> Cli {
        Cli::new()
            .with("HALLMARK_ADMIN_URL", &node.admin)
            .with("HALLMARK_API_KEY", key)
    }

    pub(crate) fn with(mut self, name: &str, value: &str) -> Cli {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Writes `value` as JSON to a file in the home folder.
    fn file(&self, name: &str, value: &Value) -> String {
        let p = self.path(name);
        std::fs::write(&p, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        p.display().to_string()
    }

    /// Runs `hallmark args…` (off the test's async workers, which serve the node).
    pub(crate) async fn run(&self, args: &[&str]) -> Out {
        self.run_with_stdin(args, None).await
    }

    async fn run_with_stdin(&self, args: &[&str], stdin: Option<Vec<u8>>) -> Out {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        c.env_clear();
        if let Ok(p) = std::env::var("PATH") {
            c.env("PATH", p);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tokio::task::spawn_blocking(move || {
            let mut child = c.spawn().unwrap();
            if let Some(bytes) = stdin {
                child.stdin.take().unwrap().write_all(&bytes).unwrap();
            }
            let o = child.wait_with_output().unwrap();
            Out {
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            }
        })
        .await
        .unwrap()
    }
}

/// The `id` of each JSON Lines object (`list --all --json`).
fn line_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A minted key's text (without `Bearer `).
pub(crate) async fn key(node: &Node, scope: &str) -> String {
    node.key(scope).await.1
}

/// A battery submission whose sector data breaks the schema (saved as a draft, never
/// publishable).
fn invalid_draft(serial: &str) -> Value {
    let mut d = kit::battery_draft(serial);
    d["data"] = json!({ "notABatteryPassSubmodel": true });
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passport_goes_through_its_whole_lifecycle() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let cli = Cli::for_node(&n, &key(&n, "write").await);
    let draft = cli.file("draft.json", &kit::battery_draft("LIFE-1"));
    let mut changed = kit::battery_draft("LIFE-1");
    changed["facilityId"] = json!("urn:gln:4000001000005");
    let changed = cli.file("changed.json", &changed);

    let out = cli.run(&["passport", "validate", &draft]).await.code(0);
    assert!(out.stdout.contains("valid  yes"), "{}", out.stdout);

    // Create from stdin, --json: the node's answer as received.
    let bytes = std::fs::read(&draft).unwrap();
    let created = cli
        .run_with_stdin(&["passport", "create", "-", "--json"], Some(bytes))
        .await
        .code(0)
        .json();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["draftVersion"], 1);
    assert_eq!(created["validation"]["valid"], true);

    let out = cli
        .run(&["passport", "update", &id, &changed])
        .await
        .code(0);
    assert!(
        out.stdout.contains(&format!("id             {id}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("draft version  1"), "{}", out.stdout);

    let published = cli
        .run(&["passport", "publish", &id, "--json"])
        .await
        .code(0)
        .json();
    assert_eq!(published["version"], 1);
    assert_eq!(published["status"], "published");
    assert!(published["url"].as_str().unwrap().contains(&id));

    let out = cli.run(&["passport", "get", &id]).await.code(0);
    assert!(
        out.stdout.contains("status           published"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("current version  1"), "{}", out.stdout);
    let detail = cli
        .run(&["passport", "get", &id, "--json"])
        .await
        .code(0)
        .json();
    assert_eq!(
        detail["current"]["passport"]["facilityId"],
        "urn:gln:4000001000005"
    );

    let out = cli.run(&["passport", "list"]).await.code(0);
    let mut lines = out.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID "), "{}", out.stdout);
    let row = lines.next().unwrap();
    assert!(row.starts_with(&id) && row.contains("published"), "{row}");
    let page = cli
        .run(&["passport", "list", "--json"])
        .await
        .code(0)
        .json();
    assert_eq!(page["items"][0]["id"], id.as_str());

    let history = cli
        .run(&["passport", "history", &id, "--json"])
        .await
        .code(0)
        .json();
    let actions: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "passport.draft-created",
            "passport.draft-updated",
            "passport.published"
        ]
    );
    let out = cli.run(&["passport", "history", &id]).await.code(0);
    assert!(out.stdout.starts_with("SEQ"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);

    let out = cli
        .run(&["passport", "new-version", &id, &draft])
        .await
        .code(0);
    assert!(out.stdout.contains("draft version  2"), "{}", out.stdout);
    let out = cli.run(&["passport", "publish", &id]).await.code(0);
    assert!(out.stdout.contains("version          2"), "{}", out.stdout);
    assert!(out.stdout.contains("log index"), "{}", out.stdout);

    let out = cli
        .run(&["passport", "suspend", &id, "--reason", "recall 2026-12"])
        .await
        .code(0);
    assert!(
        out.stdout.contains("status     suspended"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("reason     recall 2026-12"),
        "{}",
        out.stdout
    );
    assert_eq!(n.get(&format!("/passports/{id}")).await.status, 410);
    let out = cli
        .run(&["passport", "resume", &id, "--json"])
        .await
        .code(0);
    assert_eq!(out.json()["status"], "published");
    let out = cli
        .run(&["passport", "archive", &id, "--json"])
        .await
        .code(0);
    assert_eq!(out.json()["status"], "archived");
    let archived = cli
        .run(&["passport", "list", "--status", "archived", "--json"])
        .await
        .code(0)
        .json();
    assert_eq!(archived["items"].as_array().unwrap().len(), 1);
    n.stop().await;
}

/// Publish, get and list on each backend; `list --all` follows `next` (JSON Lines, oldest
/// first: the node lists by id, a UUIDv7).
async fn publish_get_list(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let cli = Cli::for_node(&n, &key(&n, "write").await);
    let mut ids = Vec::new();
    for serial in ["PGL-1", "PGL-2", "PGL-3"] {
        let file = cli.file(&format!("{serial}.json"), &kit::battery_draft(serial));
        let created = cli
            .run(&["passport", "create", &file, "--json"])
            .await
            .code(0)
            .json();
        let id = created["id"].as_str().unwrap().to_string();
        let out = cli.run(&["passport", "publish", &id]).await.code(0);
        assert!(
            out.stdout.contains("status           published"),
            "{}",
            out.stdout
        );
        ids.push(id);
    }
    let detail = cli
        .run(&["passport", "get", &ids[1], "--json"])
        .await
        .code(0)
        .json();
    assert_eq!(
        detail["current"]["passport"]["uniqueProductIdentifier"]["serial"],
        "PGL-2"
    );
    assert!(detail["current"]["credentials"]["public"]["jwt"].is_string());
    // Pages of one: --all follows `next` and prints one item per line.
    let out = cli
        .run(&["passport", "list", "--limit", "1", "--all", "--json"])
        .await
        .code(0);
    let listed = line_ids(&out.stdout);
    assert_eq!(listed, ids, "oldest first, every page");
    // One page of one, in text: the rest is pointed to.
    let out = cli.run(&["passport", "list", "--limit", "1"]).await.code(0);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(out.stderr.contains("--after"), "{}", out.stderr);
    n.stop().await;
}

kit::both!(publish_get_list);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_from_the_admin_login_bootstrap_to_a_revoked_key() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let boot = Cli::new()
        .with("HALLMARK_ADMIN_URL", &n.admin)
        .with("HALLMARK_ADMIN_USERNAME", kit::ADMIN_USER)
        .with("HALLMARK_ADMIN_PASSWORD", kit::ADMIN_PASS);
    // The first key, with the admin login: the key alone on stdout, a warning on stderr.
    let out = boot
        .run(&["api-key", "create", "--scope", "admin", "--label", "ops"])
        .await
        .code(0);
    let admin_key = out.stdout.trim().to_string();
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(admin_key.starts_with("hmk_a_"), "{admin_key}");
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    assert!(!out.stderr.contains(&admin_key), "the key is printed once");

    // The admin key from a file.
    let key_file = boot.path("admin.key");
    std::fs::write(&key_file, format!("{admin_key}\n")).unwrap();
    let admin = Cli::new()
        .with("HALLMARK_ADMIN_URL", &n.admin)
        .with("HALLMARK_API_KEY_FILE", &key_file.display().to_string());
    let created = admin
        .run(&[
            "api-key", "create", "--scope", "write", "--label", "ci", "--json",
        ])
        .await
        .code(0)
        .json();
    let write_key = created["key"].as_str().unwrap().to_string();
    let write_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["scope"], "write");

    let out = admin.run(&["api-key", "list"]).await.code(0);
    assert!(out.stdout.starts_with("ID "), "{}", out.stdout);
    assert!(out.stdout.contains(" ops "), "{}", out.stdout);
    assert!(out.stdout.contains(&write_id), "{}", out.stdout);
    assert!(!out.stdout.contains(&write_key), "never the key itself");

    // The new key works, and cannot make keys (write scope).
    let writer = Cli::for_node(&n, &write_key);
    let file = writer.file("d.json", &kit::battery_draft("KEY-1"));
    writer.run(&["passport", "create", &file]).await.code(0);
    let out = writer
        .run(&["api-key", "create", "--scope", "admin", "--label", "x"])
        .await
        .code(4);
    assert!(out.stderr.contains("403 forbidden"), "{}", out.stderr);
    assert!(
        out.stderr.contains("needs the admin scope"),
        "{}",
        out.stderr
    );

    let revoked = admin
        .run(&["api-key", "revoke", &write_id, "--json"])
        .await
        .code(0)
        .json();
    assert!(revoked["revokedAt"].is_string());
    let out = writer.run(&["passport", "list"]).await.code(4);
    assert!(out.stderr.contains("401 unauthorized"), "{}", out.stderr);
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_exit_code_of_the_table() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let cli = Cli::for_node(&n, &key(&n, "write").await);

    // 2: no URL, no key, an unreadable file, a URL with a password, --api-key.
    let no_url = Cli::new().with("HALLMARK_API_KEY", "hmk_w_whatever");
    let out = no_url.run(&["passport", "list"]).await.code(2);
    assert!(out.stderr.contains("no admin URL"), "{}", out.stderr);
    let no_key = Cli::new().with("HALLMARK_ADMIN_URL", &n.admin);
    let out = no_key.run(&["passport", "list"]).await.code(2);
    assert!(out.stderr.contains("no API key"), "{}", out.stderr);
    cli.run(&["passport", "create", "/nonexistent/draft.json"])
        .await
        .code(2);
    let with_password = n.admin.replace("http://", "http://op:hunter2secret@");
    let out = cli
        .run(&["passport", "list", "--admin-url", &with_password])
        .await
        .code(2);
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);
    let out = cli
        .run(&["passport", "list", "--api-key", "hmk_w_x"])
        .await
        .code(2);
    assert!(
        out.stderr.contains("unexpected argument '--api-key'"),
        "{}",
        out.stderr
    );
    cli.run(&["api-key", "list", "--api-key", "hmk_a_x"])
        .await
        .code(2);

    // 3: validate of an invalid submission; a file that is not JSON; publishing an
    // invalid draft (422, spelled out).
    let bad = cli.file("bad.json", &invalid_draft("EXIT-3"));
    let out = cli.run(&["passport", "validate", &bad]).await.code(3);
    assert!(out.stdout.contains("valid   no"), "{}", out.stdout);
    let not_json = cli.path("notjson.json");
    std::fs::write(&not_json, "{ nope").unwrap();
    cli.run(&["passport", "create", &not_json.display().to_string()])
        .await
        .code(3);
    let out = cli
        .run(&["passport", "create", &bad, "--json"])
        .await
        .code(0);
    let created = out.json();
    assert_eq!(created["validation"]["valid"], false);
    let bad_id = created["id"].as_str().unwrap().to_string();
    let out = cli.run(&["passport", "publish", &bad_id]).await.code(3);
    let first = out.stderr.lines().next().unwrap();
    assert!(
        first.starts_with("hallmark passport publish: Invalid passport (422 invalid-passport)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.lines().nth(1).unwrap().starts_with("  "),
        "{}",
        out.stderr
    );
    // With --json the problem object also goes to stdout.
    let out = cli
        .run(&["passport", "publish", &bad_id, "--json"])
        .await
        .code(3);
    assert_eq!(out.json()["status"], 422);

    // 4: an unknown key; a read key writing.
    let bogus = Cli::for_node(&n, "hmk_w_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    bogus.run(&["passport", "list"]).await.code(4);
    let reader = Cli::for_node(&n, &key(&n, "read").await);
    let good = cli.file("good.json", &kit::battery_draft("EXIT-5"));
    reader.run(&["passport", "create", &good]).await.code(4);

    // 5: an unknown passport; publishing twice (no pending draft).
    let out = cli
        .run(&["passport", "get", "019a0000-0000-7000-8000-000000000000"])
        .await
        .code(5);
    assert!(out.stderr.contains("404 not-found"), "{}", out.stderr);
    let id = cli
        .run(&["passport", "create", &good, "--json"])
        .await
        .code(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    cli.run(&["passport", "publish", &id]).await.code(0);
    let out = cli.run(&["passport", "publish", &id]).await.code(5);
    assert!(out.stderr.contains("409 conflict"), "{}", out.stderr);
    assert!(out.stderr.contains("no pending draft"), "{}", out.stderr);

    // 7: nothing listens (a POST: sent once, no retry).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = cli
        .run(&[
            "passport",
            "publish",
            &id,
            "--admin-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .await
        .code(7);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    n.stop().await;
}

/// A server that answers every request 503 (a problem, `Retry-After: 0`) and closes the
/// connection; returns its URL and the number of requests it has had.
async fn unavailable_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"type":"urn:hallmark:problem:unavailable","title":"Service unavailable","status":503}"#;
                let reply = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 0\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_exit_6_after_retrying_reads_and_never_a_publish() {
    let (url, count) = unavailable_server().await;
    let cli = Cli::new()
        .with("HALLMARK_ADMIN_URL", &url)
        .with("HALLMARK_API_KEY", "hmk_w_whatever");
    let out = cli.run(&["passport", "list"]).await.code(6);
    assert!(
        out.stderr
            .starts_with("hallmark passport list: Service unavailable (503 unavailable)"),
        "{}",
        out.stderr
    );
    assert_eq!(count.load(Ordering::SeqCst), 5, "a GET is tried five times");
    cli.run(&[
        "passport",
        "publish",
        "019a0000-0000-7000-8000-000000000000",
    ])
    .await
    .code(6);
    assert_eq!(count.load(Ordering::SeqCst), 6, "a POST is sent once");
}

/// A server that reads each request and never answers (the connection held open); returns
/// its URL and the number of requests it has read.
async fn silent_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                    if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        counter.fetch_add(1, Ordering::SeqCst);
                        buf.clear();
                    }
                }
            });
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_in_time_is_exit_7_and_an_interrupt_is_exit_130() {
    let (url, count) = silent_server().await;
    let cli = Cli::new()
        .with("HALLMARK_ADMIN_URL", &url)
        .with("HALLMARK_API_KEY", "hmk_w_whatever");
    let out = cli
        .run(&[
            "passport",
            "publish",
            "019a0000-0000-7000-8000-000000000000",
            "--timeout",
            "1",
        ])
        .await
        .code(7);
    assert!(
        out.stderr.contains("no answer within 1 s"),
        "{}",
        out.stderr
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // Ctrl-C while waiting for the node: exit 130.
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.env_clear()
        .envs(cli.env.iter().map(|(k, v)| (k, v)))
        .args(["passport", "list", "--timeout", "3600"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    kit::until("the list request to arrive", || {
        let n = count.load(Ordering::SeqCst);
        async move { (n == 2).then_some(()) }
    })
    .await;
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || {
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        (child.wait().unwrap().code(), stderr)
    })
    .await
    .unwrap();
    assert_eq!(out.0, Some(130), "{}", out.1);
    assert!(out.1.contains("interrupted"), "{}", out.1);
}

/// A server that answers one request per connection as if keeping it alive (HTTP/1.1, no
/// `Connection: close`), then closes it: page 1 of a passport list names page 2.
async fn one_request_per_connection_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            counter.fetch_add(1, Ordering::SeqCst);
            let body = if head.contains("after=") {
                r#"{"items":[{"id":"019a0000-0000-7000-8000-000000000002"}],"next":null}"#
            } else {
                r#"{"items":[{"id":"019a0000-0000-7000-8000-000000000001"}],"next":"019a0000-0000-7000-8000-000000000001"}"#
            };
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_the_node_closed_is_replaced() {
    let (url, count) = one_request_per_connection_server().await;
    let cli = Cli::new()
        .with("HALLMARK_ADMIN_URL", &url)
        .with("HALLMARK_API_KEY", "hmk_r_whatever");
    let out = cli
        .run(&["passport", "list", "--all", "--json"])
        .await
        .code(0);
    let ids = line_ids(&out.stdout);
    assert_eq!(
        ids,
        [
            "019a0000-0000-7000-8000-000000000001",
            "019a0000-0000-7000-8000-000000000002"
        ]
    );
    assert_eq!(count.load(Ordering::SeqCst), 2, "each page asked once");
}

fn write_profile(cli: &Cli, text: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = cli.path("config").join("hallmark");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cli.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_give_url_and_key_and_one_readable_by_others_is_refused() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let key = key(&n, "read").await;
    let cli = Cli::new();
    let text = format!(
        "[profiles.default]\nadmin_url = \"{}\"\napi_key = \"{key}\"\n",
        n.admin
    );
    let path = write_profile(&cli, &text, 0o644);
    let out = cli.run(&["passport", "list"]).await.code(2);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    assert!(!out.stderr.contains(&key), "{}", out.stderr);
    set_mode(&path, 0o600);
    cli.run(&["passport", "list"]).await.code(0);

    // A named profile with a key file; the environment overrides the profile.
    let key_file = cli.path("read.key");
    std::fs::write(&key_file, &key).unwrap();
    let text = format!(
        "[profiles.prod]\nadmin_url = \"{}\"\napi_key_file = \"{}\"\n",
        n.admin,
        key_file.display()
    );
    write_profile(&cli, &text, 0o644);
    cli.run(&["passport", "list", "--profile", "prod"])
        .await
        .code(0);
    let named = Cli::new().with("HALLMARK_PROFILE", "prod");
    write_profile(&named, &text, 0o644);
    named.run(&["passport", "list"]).await.code(0);
    let out = cli
        .run(&["passport", "list", "--profile", "staging"])
        .await
        .code(2);
    assert!(
        out.stderr.contains("no [profiles.staging]"),
        "{}",
        out.stderr
    );
    let overridden = named.with(
        "HALLMARK_API_KEY",
        "hmk_r_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    overridden.run(&["passport", "list"]).await.code(4);
    n.stop().await;
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_help() {
    let cli = Cli::new();
    let out = cli.run(&["completions", "bash"]).await.code(0);
    assert!(out.stdout.len() > 1000, "{}", out.stdout);
    assert!(out.stdout.contains("passport") && out.stdout.contains("api-key"));
    let out = cli.run(&["passport", "--help"]).await.code(0);
    assert!(out.stdout.contains("130  interrupted"), "{}", out.stdout);
    assert!(
        out.stdout.contains("HALLMARK_API_KEY_FILE"),
        "{}",
        out.stdout
    );
}
