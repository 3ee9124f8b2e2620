#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::edge::serve::ConnLimits;
use crate::edge::Limits;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DB_PASSWORD: &str = "s3cr3t-db-pw-7781";
const OWNER_PASSWORD: &str = "0wner-pw-5521";
const PASSPHRASE: &str = "correct horse battery staple 42";
const ADMIN_PASSWORD: &str = "a-very-long-admin-password-9";
const HSM_PIN: &str = "hsm-pin-30117";
/// 32 bytes, base64.
const NODE_SECRET: &str = "bm9kZS1zZWNyZXQtZm9yLWNvbmZpZy10ZXN0cy0wMDAwMQ==";

struct Env(HashMap<String, String>);

impl Env {
    fn production(dir: &Path) -> Env {
        let mut m = HashMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_string(), v);
        };
        put("HALLMARK_PUBLIC_BASE_URL", "https://dpp.example.com".into());
        put("HALLMARK_DATA_DIR", dir.join("data").display().to_string());
        put(
            "HALLMARK_DATABASE_URL",
            format!("postgres://app:{DB_PASSWORD}@db.internal/hallmark"),
        );
        put(
            "HALLMARK_DATABASE_MIGRATION_URL",
            format!("postgres://owner:{OWNER_PASSWORD}@db.internal/hallmark"),
        );
        put("HALLMARK_KEYSTORE_PASSPHRASE", PASSPHRASE.into());
        put("HALLMARK_ADMIN_USERNAME", "operator".into());
        put("HALLMARK_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
        Env(m)
    }

    fn with(mut self, changes: &[(&str, Option<String>)]) -> Env {
        for (k, v) in changes {
            match v {
                Some(v) => self.0.insert(k.to_string(), v.clone()),
                None => self.0.remove(*k),
            };
        }
        self
    }

    fn load(&self) -> Result<Config, ConfigError> {
        Config::load(None, &|k| self.0.get(k).cloned())
    }

    fn validate(&self, profile: Profile) -> Result<ValidatedConfig, ConfigError> {
        self.load()?.validate(profile)
    }
}

fn set(k: &str, v: impl Into<String>) -> (&str, Option<String>) {
    (k, Some(v.into()))
}
fn unset(k: &str) -> (&str, Option<String>) {
    (k, None)
}

fn marked_dir(root: &Path, name: &str) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    write_development_marker(&d).unwrap();
    d
}

type Case<'a> = (
    &'a str,
    Vec<(&'a str, Option<String>)>,
    fn(&ConfigError) -> bool,
);

#[test]
fn production_refuses_each_unsafe_or_missing_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let marked = marked_dir(tmp.path(), "was-demo");
    let cases: Vec<Case> = vec![
        (
            "database url missing",
            vec![unset("HALLMARK_DATABASE_URL")],
            |e| matches!(e, ConfigError::DatabaseUrlMissing),
        ),
        (
            "migration url missing",
            vec![unset("HALLMARK_DATABASE_MIGRATION_URL")],
            |e| matches!(e, ConfigError::DatabaseMigrationUrlMissing),
        ),
        (
            "unsupported database",
            vec![set("HALLMARK_DATABASE_URL", "mysql://u:p@h/db")],
            |e| matches!(e, ConfigError::DatabaseUrlUnsupported),
        ),
        (
            "sqlite url without path",
            vec![set("HALLMARK_DATABASE_URL", "sqlite:")],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_DATABASE_URL",
                        ..
                    }
                )
            },
        ),
        (
            "keystore passphrase missing",
            vec![unset("HALLMARK_KEYSTORE_PASSPHRASE")],
            |e| matches!(e, ConfigError::KeystorePassphraseMissing),
        ),
        (
            "hsm pin missing",
            vec![
                unset("HALLMARK_KEYSTORE_PASSPHRASE"),
                set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
                set("HALLMARK_HSM_TOKEN", "hallmark"),
            ],
            |e| matches!(e, ConfigError::HsmPinMissing),
        ),
        (
            "hsm token missing",
            vec![
                unset("HALLMARK_KEYSTORE_PASSPHRASE"),
                set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
                set("HALLMARK_HSM_PIN", HSM_PIN),
            ],
            |e| {
                matches!(
                    e,
                    ConfigError::HsmIncomplete {
                        missing: "HALLMARK_HSM_TOKEN"
                    }
                )
            },
        ),
        (
            "hsm module missing",
            vec![
                unset("HALLMARK_KEYSTORE_PASSPHRASE"),
                set("HALLMARK_HSM_TOKEN", "hallmark"),
                set("HALLMARK_HSM_PIN", HSM_PIN),
            ],
            |e| {
                matches!(
                    e,
                    ConfigError::HsmIncomplete {
                        missing: "HALLMARK_HSM_MODULE"
                    }
                )
            },
        ),
        (
            "hsm and keystore both",
            vec![
                set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
                set("HALLMARK_HSM_TOKEN", "hallmark"),
                set("HALLMARK_HSM_PIN", HSM_PIN),
            ],
            |e| matches!(e, ConfigError::SigningAmbiguous),
        ),
        (
            "hsm pin marked development-only",
            vec![
                unset("HALLMARK_KEYSTORE_PASSPHRASE"),
                set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
                set("HALLMARK_HSM_TOKEN", "hallmark"),
                set("HALLMARK_HSM_PIN", "1234-DEVELOPMENT-ONLY"),
            ],
            |e| matches!(e, ConfigError::DemoPassphrase),
        ),
        (
            "base url missing",
            vec![unset("HALLMARK_PUBLIC_BASE_URL")],
            |e| matches!(e, ConfigError::PublicBaseUrlMissing),
        ),
        (
            "base url http",
            vec![set("HALLMARK_PUBLIC_BASE_URL", "http://localhost:8080")],
            |e| matches!(e, ConfigError::PublicBaseUrlInsecure),
        ),
        (
            "base url with user info",
            vec![set(
                "HALLMARK_PUBLIC_BASE_URL",
                "https://me@dpp.example.com",
            )],
            |e| matches!(e, ConfigError::PublicBaseUrlInvalid(_)),
        ),
        (
            "admin username missing",
            vec![unset("HALLMARK_ADMIN_USERNAME")],
            |e| {
                matches!(
                    e,
                    ConfigError::AdminCredentialsMissing {
                        setting: "HALLMARK_ADMIN_USERNAME"
                    }
                )
            },
        ),
        (
            "admin password missing",
            vec![unset("HALLMARK_ADMIN_PASSWORD")],
            |e| {
                matches!(
                    e,
                    ConfigError::AdminCredentialsMissing {
                        setting: "HALLMARK_ADMIN_PASSWORD"
                    }
                )
            },
        ),
        (
            "admin password empty counts as missing",
            vec![set("HALLMARK_ADMIN_PASSWORD", "")],
            |e| {
                matches!(
                    e,
                    ConfigError::AdminCredentialsMissing {
                        setting: "HALLMARK_ADMIN_PASSWORD"
                    }
                )
            },
        ),
        (
            "admin password weak",
            vec![set("HALLMARK_ADMIN_PASSWORD", "fifteen-chars-x")],
            |e| matches!(e, ConfigError::AdminPasswordWeak { min: 16 }),
        ),
        (
            "demo passphrase",
            vec![set(
                "HALLMARK_KEYSTORE_PASSPHRASE",
                DEMO_KEYSTORE_PASSPHRASE,
            )],
            |e| matches!(e, ConfigError::DemoPassphrase),
        ),
        (
            "demo admin password",
            vec![set("HALLMARK_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD)],
            |e| matches!(e, ConfigError::DemoAdminPassword),
        ),
        (
            "demo data dir by name",
            vec![set("HALLMARK_DATA_DIR", DEMO_DATA_DIR)],
            |e| matches!(e, ConfigError::DemoDataDir { .. }),
        ),
        (
            "data dir holding the development marker",
            vec![set("HALLMARK_DATA_DIR", marked.display().to_string())],
            |e| matches!(e, ConfigError::DemoDataDir { .. }),
        ),
        (
            "keystore created by demo (marker beside it)",
            vec![set(
                "HALLMARK_KEYSTORE_PATH",
                marked.join(KEYSTORE_FILE).display().to_string(),
            )],
            |e| matches!(e, ConfigError::DemoKeystore { .. }),
        ),
        (
            "keystore inside the demo dir",
            vec![set(
                "HALLMARK_KEYSTORE_PATH",
                "./hallmark-demo/hallmark-keys.json",
            )],
            |e| matches!(e, ConfigError::DemoKeystore { .. }),
        ),
        (
            "sqlite database created by demo",
            vec![set(
                "HALLMARK_DATABASE_URL",
                format!("sqlite://{}", marked.join(SQLITE_FILE).display()),
            )],
            |e| matches!(e, ConfigError::DemoDatabase { .. }),
        ),
        (
            "admin listener exposed",
            vec![set("HALLMARK_ADMIN_LISTEN", "0.0.0.0:8081")],
            |e| matches!(e, ConfigError::AdminListenerExposed { .. }),
        ),
        (
            "admin listener exposed, opt-in false",
            vec![
                set("HALLMARK_ADMIN_LISTEN", "[::]:8081"),
                set("HALLMARK_ADMIN_ALLOW_REMOTE", "false"),
            ],
            |e| matches!(e, ConfigError::AdminListenerExposed { .. }),
        ),
        (
            "listeners collide",
            vec![
                set("HALLMARK_PUBLIC_LISTEN", "127.0.0.1:9000"),
                set("HALLMARK_ADMIN_LISTEN", "127.0.0.1:9000"),
            ],
            |e| matches!(e, ConfigError::ListenersCollide { .. }),
        ),
        (
            "json depth zero",
            vec![set("HALLMARK_MAX_JSON_DEPTH", "0")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_MAX_JSON_DEPTH",
                        ..
                    }
                )
            },
        ),
        (
            "json depth beyond the parser's ceiling",
            vec![set("HALLMARK_MAX_JSON_DEPTH", "500")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_MAX_JSON_DEPTH",
                        ..
                    }
                )
            },
        ),
        (
            "body limit too small",
            vec![set("HALLMARK_MAX_BODY_BYTES", "10")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_MAX_BODY_BYTES",
                        ..
                    }
                )
            },
        ),
        (
            "string limit above body limit",
            vec![
                set("HALLMARK_MAX_BODY_BYTES", "4096"),
                set("HALLMARK_MAX_JSON_STRING_BYTES", "8192"),
            ],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_MAX_JSON_STRING_BYTES",
                        ..
                    }
                )
            },
        ),
        (
            "rate zero",
            vec![set("HALLMARK_PUBLIC_RATE_PER_SECOND", "0")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_PUBLIC_RATE_PER_SECOND",
                        ..
                    }
                )
            },
        ),
        (
            "auth failures zero",
            vec![set("HALLMARK_AUTH_FAILURES_PER_MINUTE", "0")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_AUTH_FAILURES_PER_MINUTE",
                        ..
                    }
                )
            },
        ),
        (
            "timeout zero",
            vec![set("HALLMARK_REQUEST_TIMEOUT_SECS", "0")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_REQUEST_TIMEOUT_SECS",
                        ..
                    }
                )
            },
        ),
        (
            "checkpoint interval too short",
            vec![set("HALLMARK_CHECKPOINT_INTERVAL_MS", "1")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_CHECKPOINT_INTERVAL_MS",
                        ..
                    }
                )
            },
        ),
        (
            "read cache too large",
            vec![set("HALLMARK_READ_CACHE_MB", "65537")],
            |e| {
                matches!(
                    e,
                    ConfigError::LimitOutOfRange {
                        setting: "HALLMARK_READ_CACHE_MB",
                        ..
                    }
                )
            },
        ),
        (
            "unparsable listen address",
            vec![set("HALLMARK_PUBLIC_LISTEN", "localhost")],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_PUBLIC_LISTEN",
                        ..
                    }
                )
            },
        ),
        (
            "unparsable bool",
            vec![set("HALLMARK_ADMIN_ALLOW_REMOTE", "maybe")],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_ADMIN_ALLOW_REMOTE",
                        ..
                    }
                )
            },
        ),
        (
            "unknown log level",
            vec![set("HALLMARK_LOG_LEVEL", "loud")],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_LOG_LEVEL",
                        ..
                    }
                )
            },
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (name, changes, expected) in cases {
        let env = Env::production(tmp.path()).with(&changes);
        let err = env
            .validate(Profile::Production)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(expected(&err), "{name}: got {err:?}");
        let line = err.to_string();
        assert!(!line.contains('\n'), "{name}: {line}");
        assert!(
            line.contains("HALLMARK_"),
            "{name}: {line} names no setting"
        );
        for secret in [
            DB_PASSWORD,
            OWNER_PASSWORD,
            PASSPHRASE,
            ADMIN_PASSWORD,
            HSM_PIN,
            NODE_SECRET,
        ] {
            assert!(!line.contains(secret), "{name}: leaks a secret: {line}");
        }
        seen.insert(std::mem::discriminant(&err));
    }
    assert!(seen.len() >= 20, "distinct variants: {}", seen.len());
}

#[test]
fn production_accepts_a_complete_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let c = Env::production(tmp.path())
        .validate(Profile::Production)
        .unwrap();
    assert_eq!(c.did.to_string(), "did:web:dpp.example.com");
    assert_eq!(c.public_listen, DEFAULT_PUBLIC_LISTEN);
    assert_eq!(c.admin_listen, DEFAULT_ADMIN_LISTEN);
    assert!(c.admin_listen.ip().is_loopback());
    assert!(matches!(c.database, Database::Postgres { .. }));
    match &c.signing {
        Signing::Keystore { path, passphrase } => {
            assert_eq!(path, &tmp.path().join("data").join(KEYSTORE_FILE));
            assert_eq!(passphrase.expose_secret(), PASSPHRASE);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.admin.username, "operator");
    assert!(c.https());
    let edge = c.edge();
    assert!(edge.hsts);
    assert_eq!(edge.limits, Limits::default());
    assert_eq!(edge.request_timeout, Duration::from_secs(30));
    assert_eq!(c.log_level, LogLevel::Info);
}

#[test]
fn production_variants_that_are_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let base = || Env::production(tmp.path());
    // Remote admin with explicit opt-in.
    let c = base()
        .with(&[
            set("HALLMARK_ADMIN_LISTEN", "0.0.0.0:8081"),
            set("HALLMARK_ADMIN_ALLOW_REMOTE", "true"),
        ])
        .validate(Profile::Production)
        .unwrap();
    assert_eq!(c.admin_listen.port(), 8081);
    // HSM instead of a keystore.
    let c = base()
        .with(&[
            unset("HALLMARK_KEYSTORE_PASSPHRASE"),
            set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            set("HALLMARK_HSM_TOKEN", "hallmark"),
            set("HALLMARK_HSM_PIN", HSM_PIN),
            set("HALLMARK_NODE_SECRET", NODE_SECRET),
        ])
        .validate(Profile::Production)
        .unwrap();
    match &c.signing {
        Signing::Hsm(h, _) => {
            assert_eq!(h.key_label_prefix, DEFAULT_HSM_KEY_PREFIX);
            assert_eq!(h.token_label, "hallmark");
        }
        other => panic!("{other:?}"),
    }
    // SQLite outside any demo directory, with a port and path in the base URL.
    let c = base()
        .with(&[
            set(
                "HALLMARK_DATABASE_URL",
                "sqlite:///srv/hallmark/hallmark.db?mode=rwc",
            ),
            unset("HALLMARK_DATABASE_MIGRATION_URL"),
            set("HALLMARK_PUBLIC_BASE_URL", "https://example.com:8443/dpp/"),
        ])
        .validate(Profile::Production)
        .unwrap();
    match &c.database {
        Database::Sqlite { path } => assert_eq!(path, Path::new("/srv/hallmark/hallmark.db")),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.public_base_url, "https://example.com:8443/dpp");
    assert_eq!(c.did.to_string(), "did:web:example.com%3A8443:dpp");
    // Exactly 16 characters is enough.
    base()
        .with(&[set("HALLMARK_ADMIN_PASSWORD", "sixteen-chars-xy")])
        .validate(Profile::Production)
        .unwrap();
}

#[test]
fn development_fills_in_marked_demo_defaults() {
    let c = Env(HashMap::new()).validate(Profile::Development).unwrap();
    assert_eq!(c.data_dir, Path::new(DEMO_DATA_DIR));
    assert_eq!(c.public_listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.public_base_url, "http://localhost:8080");
    assert_eq!(c.did.to_string(), "did:web:localhost%3A8080");
    assert!(!c.https());
    match &c.database {
        Database::Sqlite { path } => assert_eq!(path, &Path::new(DEMO_DATA_DIR).join(SQLITE_FILE)),
        other => panic!("{other:?}"),
    }
    match &c.signing {
        Signing::Keystore { passphrase, .. } => {
            assert_eq!(passphrase.expose_secret(), DEMO_KEYSTORE_PASSPHRASE)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.admin.password.expose_secret(), DEMO_ADMIN_PASSWORD);
    // The demo defaults themselves are refused by production.
    assert!(DEMO_KEYSTORE_PASSPHRASE.contains(DEVELOPMENT_MARKER));
    assert!(DEMO_ADMIN_PASSWORD.contains(DEVELOPMENT_MARKER));
    // Development still refuses an exposed admin listener.
    let e = Env(HashMap::new())
        .with(&[set("HALLMARK_ADMIN_LISTEN", "0.0.0.0:8081")])
        .validate(Profile::Development)
        .unwrap_err();
    assert!(matches!(e, ConfigError::AdminListenerExposed { .. }));
    // Development follows an explicit public listener for its default base URL.
    let c = Env(HashMap::new())
        .with(&[set("HALLMARK_PUBLIC_LISTEN", "0.0.0.0:9090")])
        .validate(Profile::Development)
        .unwrap();
    assert_eq!(c.public_base_url, "http://localhost:9090");
}

#[test]
fn environment_overrides_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("hallmark.toml");
    std::fs::write(
        &file,
        "public_base_url = \"https://file.example\"\nmax_json_depth = 12\nlog_level = \"warn\"\nadmin_password = \"from-the-file-123456\"\n",
    )
    .unwrap();
    let mut env = HashMap::new();
    env.insert(CONFIG_FILE_ENV.to_string(), file.display().to_string());
    env.insert(
        "HALLMARK_PUBLIC_BASE_URL".to_string(),
        "https://env.example".to_string(),
    );
    let c = Config::load(None, &|k| env.get(k).cloned()).unwrap();
    assert_eq!(c.public_base_url.as_deref(), Some("https://env.example"));
    assert_eq!(c.max_json_depth, Some(12));
    assert_eq!(c.log_level, Some(LogLevel::Warn));
    assert_eq!(
        c.admin_password
            .as_ref()
            .map(|p| p.expose_secret().to_string()),
        Some("from-the-file-123456".to_string())
    );
    // An explicit file argument wins over HALLMARK_CONFIG.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, "max_json_depth = 5\n").unwrap();
    let c = Config::load(Some(&other), &|k| env.get(k).cloned()).unwrap();
    assert_eq!(c.max_json_depth, Some(5));
}

#[test]
fn bad_files_name_the_line_but_not_the_content() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "log_level = \"info\"\nkeystore_passphrase = \"hunter2-unterminated\n",
    )
    .unwrap();
    let e = Config::from_file(&file).unwrap_err();
    match &e {
        ConfigError::ParseFile { line, .. } => assert_eq!(*line, 2),
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("hunter2"), "{e}");

    std::fs::write(&file, "listen_everywhere = true\n").unwrap();
    let e = Config::from_file(&file).unwrap_err();
    assert!(matches!(e, ConfigError::ParseFile { line: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("listen_everywhere"), "{e}");

    let e = Config::from_file(&tmp.path().join("missing.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::ReadFile { .. }));
}

#[test]
fn secrets_from_files() {
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("admin-password");
    std::fs::write(&pw, format!("{ADMIN_PASSWORD}\n")).unwrap();
    let env = Env::production(tmp.path()).with(&[
        unset("HALLMARK_ADMIN_PASSWORD"),
        set("HALLMARK_ADMIN_PASSWORD_FILE", pw.display().to_string()),
    ]);
    let c = env.validate(Profile::Production).unwrap();
    assert_eq!(c.admin.password.expose_secret(), ADMIN_PASSWORD);

    let both = Env::production(tmp.path()).with(&[set(
        "HALLMARK_ADMIN_PASSWORD_FILE",
        pw.display().to_string(),
    )]);
    assert!(matches!(
        both.load().unwrap_err(),
        ConfigError::ValueAndFile {
            setting: "HALLMARK_ADMIN_PASSWORD"
        }
    ));

    let missing = Env::production(tmp.path()).with(&[
        unset("HALLMARK_KEYSTORE_PASSPHRASE"),
        set(
            "HALLMARK_KEYSTORE_PASSPHRASE_FILE",
            tmp.path().join("nope").display().to_string(),
        ),
    ]);
    assert!(matches!(
        missing.load().unwrap_err(),
        ConfigError::SecretFile {
            setting: "HALLMARK_KEYSTORE_PASSPHRASE",
            ..
        }
    ));
}

const PUBLISHER: &str = "z6MkvnGhKPDcdoBSDz7wXJyfpumKTMdBNXPG6QLhMoFs2Lhg";

#[test]
fn plugin_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let base = || Env::production(tmp.path());

    // None configured: no plugins, nothing required.
    let c = base().validate(Profile::Production).unwrap();
    assert!(c.plugins.dir.is_none());
    assert!(c.plugins.trusted_keys.is_empty());
    assert!(!c.plugins.allow_unsigned);
    assert!(c.plugins.required.is_empty());

    // A key inline and a key file (comments and blank lines ignored), required sectors.
    let key_file = tmp.path().join("publisher.pub");
    std::fs::write(&key_file, format!("# battery publisher\n\n{PUBLISHER}\n")).unwrap();
    let c = base()
        .with(&[
            set("HALLMARK_PLUGIN_DIR", plugins.display().to_string()),
            set(
                "HALLMARK_PLUGIN_TRUSTED_KEYS",
                format!("{PUBLISHER}, {}", key_file.display()),
            ),
            set("HALLMARK_PLUGIN_REQUIRED", "battery,battery"),
        ])
        .validate(Profile::Production)
        .unwrap();
    assert_eq!(c.plugins.dir.as_deref(), Some(plugins.as_path()));
    assert_eq!(c.plugins.trusted_keys.len(), 2);
    assert_eq!(c.plugins.trusted_keys[0], c.plugins.trusted_keys[1]);
    assert_eq!(c.plugins.required, vec!["battery".to_string()]);

    // TOML takes a list too.
    let t = Config::from_toml_str(
        &format!("plugin_trusted_keys = [\"{PUBLISHER}\", \" \"]\nplugin_required = \"battery, generic\"\n"),
        Path::new("t"),
    )
    .unwrap();
    assert_eq!(t.plugin_trusted_keys, Some(vec![PUBLISHER.to_string()]));
    assert_eq!(
        t.plugin_required,
        Some(vec!["battery".to_string(), "generic".to_string()])
    );

    // The development flag: accepted in development, refused in production.
    let dev = Env(HashMap::new())
        .with(&[
            set("HALLMARK_PLUGIN_DIR", plugins.display().to_string()),
            set("HALLMARK_PLUGIN_ALLOW_UNSIGNED", "true"),
        ])
        .validate(Profile::Development)
        .unwrap();
    assert!(dev.plugins.allow_unsigned);

    // A plugin directory needs no trusted-key setting: the project's publisher key is built
    // in (plugins::PROJECT_PUBLISHER_KEY) and trusted when plugins are loaded.
    let c = base()
        .with(&[set("HALLMARK_PLUGIN_DIR", plugins.display().to_string())])
        .validate(Profile::Production)
        .unwrap();
    assert_eq!(c.plugins.dir.as_deref(), Some(plugins.as_path()));
    assert!(c.plugins.trusted_keys.is_empty());

    let empty_key_file = tmp.path().join("empty.pub");
    std::fs::write(&empty_key_file, "# nothing\n").unwrap();
    let cases: Vec<Case> = vec![
        (
            "unsigned plugins in production",
            vec![set("HALLMARK_PLUGIN_ALLOW_UNSIGNED", "true")],
            |e| matches!(e, ConfigError::PluginUnsignedInProduction),
        ),
        (
            "a malformed Multikey",
            vec![set("HALLMARK_PLUGIN_TRUSTED_KEYS", "z6MkNOTAKEY")],
            |e| matches!(e, ConfigError::PluginTrustedKey { .. }),
        ),
        (
            "a missing key file",
            vec![set(
                "HALLMARK_PLUGIN_TRUSTED_KEYS",
                tmp.path().join("nope.pub").display().to_string(),
            )],
            |e| matches!(e, ConfigError::PluginTrustedKey { .. }),
        ),
        (
            "a key file without keys",
            vec![set(
                "HALLMARK_PLUGIN_TRUSTED_KEYS",
                empty_key_file.display().to_string(),
            )],
            |e| matches!(e, ConfigError::PluginTrustedKey { .. }),
        ),
        (
            "required sectors without a plugin dir",
            vec![set("HALLMARK_PLUGIN_REQUIRED", "battery")],
            |e| matches!(e, ConfigError::PluginRequiredWithoutDir),
        ),
        (
            "an unknown required sector",
            vec![
                set("HALLMARK_PLUGIN_DIR", plugins.display().to_string()),
                set("HALLMARK_PLUGIN_TRUSTED_KEYS", PUBLISHER),
                set("HALLMARK_PLUGIN_REQUIRED", "baterry"),
            ],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_PLUGIN_REQUIRED",
                        ..
                    }
                )
            },
        ),
        (
            "an unparsable flag",
            vec![set("HALLMARK_PLUGIN_ALLOW_UNSIGNED", "perhaps")],
            |e| {
                matches!(
                    e,
                    ConfigError::Invalid {
                        setting: "HALLMARK_PLUGIN_ALLOW_UNSIGNED",
                        ..
                    }
                )
            },
        ),
    ];
    for (name, changes, expected) in cases {
        let err = base()
            .with(&changes)
            .validate(Profile::Production)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(expected(&err), "{name}: got {err:?}");
        let line = err.to_string();
        assert!(!line.contains('\n'), "{name}: {line}");
        assert!(line.contains("HALLMARK_PLUGIN_"), "{name}: {line}");
    }
}

fn sample(key: &str) -> &'static str {
    match key {
        "public_listen" | "admin_listen" => "127.0.0.1:9999",
        "admin_allow_remote" | "plugin_allow_unsigned" | "seal_authority" => "true",
        "log_level" => "debug",
        "log_format" => "json",
        k if k.starts_with("max_") || k.ends_with("_second") || k.ends_with("_burst") => "7",
        "auth_failures_per_minute"
        | "request_timeout_secs"
        | "header_read_timeout_ms"
        | "idle_timeout_ms"
        | "refusal_events_per_minute"
        | "checkpoint_interval_ms"
        | "read_cache_mb"
        | "page_cache_mb" => "7",
        _ => "sample-value",
    }
}

#[test]
fn every_setting_is_read_from_the_environment_and_from_toml() {
    let mut names = std::collections::HashSet::new();
    for setting in SETTINGS {
        assert!(setting.env.starts_with("HALLMARK_"));
        assert_eq!(
            setting
                .env
                .strip_prefix("HALLMARK_")
                .unwrap()
                .to_ascii_lowercase(),
            setting.key
        );
        assert!(names.insert(setting.env), "duplicate {}", setting.env);
        let before = format!("{:?}", Config::default());
        let v = sample(setting.key);
        let from_env = Config::load(None, &|k| (k == setting.env).then(|| v.to_string()))
            .unwrap_or_else(|e| panic!("{}: {e}", setting.env));
        assert_ne!(
            format!("{from_env:?}"),
            before,
            "{} not applied",
            setting.env
        );
        let toml_value = match setting.key {
            "admin_allow_remote" | "plugin_allow_unsigned" | "seal_authority" => v.to_string(),
            k if sample(k) == "7" => v.to_string(),
            _ => format!("{v:?}"),
        };
        let from_toml =
            Config::from_toml_str(&format!("{} = {toml_value}\n", setting.key), Path::new("t"))
                .unwrap_or_else(|e| panic!("{}: {e}", setting.key));
        assert_eq!(
            format!("{from_toml:?}"),
            format!("{from_env:?}"),
            "{}",
            setting.key
        );
    }
}

#[test]
fn debug_never_prints_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::production(tmp.path());
    let raw = env.load().unwrap();
    let validated = raw.validate(Profile::Production).unwrap();
    let hsm = Env::production(tmp.path())
        .with(&[
            unset("HALLMARK_KEYSTORE_PASSPHRASE"),
            set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            set("HALLMARK_HSM_TOKEN", "hallmark"),
            set("HALLMARK_HSM_PIN", HSM_PIN),
            set("HALLMARK_NODE_SECRET", NODE_SECRET),
        ])
        .load()
        .unwrap();
    let texts = [
        format!("{raw:?}"),
        format!("{raw:#?}"),
        format!("{validated:?}"),
        format!("{validated:#?}"),
        format!("{hsm:?}"),
        format!("{:?}", hsm.validate(Profile::Production).unwrap()),
    ];
    for text in &texts {
        for secret in [
            DB_PASSWORD,
            OWNER_PASSWORD,
            PASSPHRASE,
            ADMIN_PASSWORD,
            HSM_PIN,
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // Non-secret settings are visible (so the redaction test is not vacuous).
    assert!(texts[2].contains("dpp.example.com"));
    assert!(texts[2].contains("operator"));
}

/// With an HSM the node secret is required, must be base64 of ≥ 32 bytes, and is refused
/// beside a file keystore (which derives its own).
#[test]
fn the_node_secret_goes_with_an_hsm_only() {
    let tmp = tempfile::tempdir().unwrap();
    let hsm = || {
        Env::production(tmp.path()).with(&[
            unset("HALLMARK_KEYSTORE_PASSPHRASE"),
            set("HALLMARK_HSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            set("HALLMARK_HSM_TOKEN", "hallmark"),
            set("HALLMARK_HSM_PIN", HSM_PIN),
        ])
    };
    assert!(matches!(
        hsm().validate(Profile::Production),
        Err(ConfigError::NodeSecretMissing)
    ));
    for bad in ["c2hvcnQ=", "not base64 at all!", ""] {
        assert!(
            matches!(
                hsm()
                    .with(&[set("HALLMARK_NODE_SECRET", bad)])
                    .validate(Profile::Production),
                Err(ConfigError::NodeSecretInvalid | ConfigError::NodeSecretMissing)
            ),
            "{bad}"
        );
    }
    assert!(hsm()
        .with(&[set("HALLMARK_NODE_SECRET", NODE_SECRET)])
        .validate(Profile::Production)
        .is_ok());
    assert!(matches!(
        Env::production(tmp.path())
            .with(&[set("HALLMARK_NODE_SECRET", NODE_SECRET)])
            .validate(Profile::Production),
        Err(ConfigError::NodeSecretWithoutHsm)
    ));
}

#[test]
fn docs_describe_every_setting() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let mut missing = Vec::new();
    for setting in SETTINGS {
        if !docs.contains(&format!("`{}`", setting.env)) {
            missing.push(setting.env.to_string());
        }
        if !docs.contains(&format!("`{}`", setting.key)) {
            missing.push(setting.key.to_string());
        }
        if setting.secret && !docs.contains(&format!("`{}{FILE_SUFFIX}`", setting.env)) {
            missing.push(format!("{}{FILE_SUFFIX}", setting.env));
        }
    }
    for extra in [CONFIG_FILE_ENV, DEVELOPMENT_MARKER, DEMO_DATA_DIR] {
        if !docs.contains(extra) {
            missing.push(extra.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks: {missing:?}"
    );
}

/// Every setting's row in docs/configuration.md sits under the table's section and states
/// the table's default; every row there is a setting of the table.
#[test]
fn docs_rows_match_the_settings_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let mut rows = HashMap::new();
    let mut section = "";
    for line in docs.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            section = h.trim();
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(str::trim)
            .collect();
        if cells.len() >= 4 && cells[0].starts_with("`HALLMARK_") {
            let env = cells[0].trim_matches('`');
            let old = rows.insert(env.to_string(), (section, cells[1], cells[2]));
            assert!(old.is_none(), "{env} has two rows in docs/configuration.md");
        }
    }
    for setting in SETTINGS {
        let key = format!("`{}`", setting.key);
        assert_eq!(
            rows.remove(setting.env),
            Some((setting.section, key.as_str(), setting.default)),
            "{}: docs/configuration.md row (section, key, default) differs from the table",
            setting.env
        );
    }
    assert!(
        rows.is_empty(),
        "docs/configuration.md has rows for settings not in the table: {:?}",
        rows.keys()
    );
}

/// Every `HALLMARK_*` name the validation and its errors print is a setting of the table
/// (or, ending in `_`, the prefix of one): a renamed setting cannot leave a message naming a
/// variable that no longer exists.
#[test]
fn messages_name_only_settings_of_the_table() {
    let sources = [
        include_str!("validate.rs"),
        include_str!("validated.rs"),
        include_str!("error.rs"),
        include_str!("secrets.rs"),
        include_str!("trusted_keys.rs"),
        include_str!("defaults.rs"),
        include_str!("development.rs"),
    ];
    for text in sources {
        for (at, _) in text.match_indices("HALLMARK_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            let known = if name.ends_with('_') {
                SETTINGS.iter().any(|s| s.env.starts_with(&name))
            } else {
                SETTINGS.iter().any(|s| s.env == name)
            };
            assert!(known, "{name} is not a setting of the table");
        }
    }
}

#[test]
fn development_paths() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(is_development_dir(Path::new("./hallmark-demo")));
    assert!(is_development_dir(Path::new("/home/u/hallmark-demo/sub")));
    assert!(!is_development_dir(Path::new("/home/u/hallmark-demos")));
    assert!(is_development_file(Path::new(
        "hallmark-demo/hallmark-keys.json"
    )));
    assert!(!is_development_file(&tmp.path().join("hallmark-keys.json")));
    write_development_marker(tmp.path()).unwrap();
    assert!(is_development_file(&tmp.path().join("hallmark-keys.json")));
    assert!(is_development_dir(tmp.path()));
}

#[test]
fn profile_and_level_parse() {
    assert_eq!(
        "production".parse::<Profile>().unwrap(),
        Profile::Production
    );
    assert_eq!(
        "development".parse::<Profile>().unwrap(),
        Profile::Development
    );
    assert!("prod".parse::<Profile>().is_err());
    assert_eq!("TRACE".parse::<LogLevel>().unwrap(), LogLevel::Trace);
    assert_eq!(LogLevel::Warn.as_str(), "warn");
}

#[test]
fn connection_and_refusal_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let base = || Env::production(tmp.path());
    // Defaults.
    let c = base().validate(Profile::Production).unwrap();
    let edge = c.edge();
    assert_eq!(edge.connections, ConnLimits::default());
    assert_eq!(
        edge.connections.header_read_timeout,
        Duration::from_secs(10)
    );
    assert_eq!(edge.connections.idle_timeout, Duration::from_secs(5));
    assert_eq!(edge.connections.max_connections, 1024);
    assert_eq!(edge.connections.max_connections_per_client, 64);
    assert_eq!(edge.refusals.per_window.get(), 120);
    assert_eq!(edge.refusals.window, Duration::from_secs(60));
    // Set.
    let c = base()
        .with(&[
            set("HALLMARK_HEADER_READ_TIMEOUT_MS", "20000"),
            set("HALLMARK_IDLE_TIMEOUT_MS", "20000"),
            set("HALLMARK_MAX_CONNECTIONS", "300"),
            set("HALLMARK_MAX_CONNECTIONS_PER_CLIENT", "300"),
            set("HALLMARK_REFUSAL_EVENTS_PER_MINUTE", "1"),
        ])
        .validate(Profile::Production)
        .unwrap();
    let conn = c.edge().connections;
    assert_eq!(conn.header_read_timeout, Duration::from_secs(20));
    assert_eq!(conn.idle_timeout, Duration::from_secs(20));
    assert_eq!(conn.max_connections, 300);
    assert_eq!(conn.max_connections_per_client, 300);
    assert_eq!(c.edge().refusals.per_window.get(), 1);
    // A short header-read timeout pulls the default idle timeout down with it; a small
    // listener cap pulls the default per-client cap down.
    let c = base()
        .with(&[
            set("HALLMARK_HEADER_READ_TIMEOUT_MS", "2000"),
            set("HALLMARK_MAX_CONNECTIONS", "16"),
        ])
        .validate(Profile::Production)
        .unwrap();
    assert_eq!(c.connections.idle_timeout, Duration::from_secs(2));
    assert_eq!(c.connections.max_connections_per_client, 16);
    // Refused, naming the setting (both profiles).
    for (changes, setting) in [
        (
            vec![set("HALLMARK_HEADER_READ_TIMEOUT_MS", "0")],
            "HALLMARK_HEADER_READ_TIMEOUT_MS",
        ),
        (
            vec![set("HALLMARK_HEADER_READ_TIMEOUT_MS", "300001")],
            "HALLMARK_HEADER_READ_TIMEOUT_MS",
        ),
        (
            vec![set("HALLMARK_IDLE_TIMEOUT_MS", "99")],
            "HALLMARK_IDLE_TIMEOUT_MS",
        ),
        // Longer than the header-read timeout, which already closes a waiting connection.
        (
            vec![set("HALLMARK_IDLE_TIMEOUT_MS", "10001")],
            "HALLMARK_IDLE_TIMEOUT_MS",
        ),
        (
            vec![set("HALLMARK_MAX_CONNECTIONS", "0")],
            "HALLMARK_MAX_CONNECTIONS",
        ),
        (
            vec![set("HALLMARK_MAX_CONNECTIONS", "1000001")],
            "HALLMARK_MAX_CONNECTIONS",
        ),
        (
            vec![set("HALLMARK_MAX_CONNECTIONS_PER_CLIENT", "0")],
            "HALLMARK_MAX_CONNECTIONS_PER_CLIENT",
        ),
        (
            vec![
                set("HALLMARK_MAX_CONNECTIONS", "10"),
                set("HALLMARK_MAX_CONNECTIONS_PER_CLIENT", "11"),
            ],
            "HALLMARK_MAX_CONNECTIONS_PER_CLIENT",
        ),
        (
            vec![set("HALLMARK_REFUSAL_EVENTS_PER_MINUTE", "0")],
            "HALLMARK_REFUSAL_EVENTS_PER_MINUTE",
        ),
        (
            vec![set("HALLMARK_REFUSAL_EVENTS_PER_MINUTE", "100001")],
            "HALLMARK_REFUSAL_EVENTS_PER_MINUTE",
        ),
        (
            vec![set("HALLMARK_MAX_CONNECTIONS", "many")],
            "HALLMARK_MAX_CONNECTIONS",
        ),
    ] {
        for profile in [Profile::Production, Profile::Development] {
            let err = base()
                .with(&changes)
                .validate(profile)
                .err()
                .unwrap_or_else(|| panic!("{changes:?}: accepted"));
            assert!(
                matches!(
                    &err,
                    ConfigError::LimitOutOfRange { setting: s, .. }
                        | ConfigError::Invalid { setting: s, .. } if *s == setting
                ),
                "{changes:?}: {err:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
    }
}

/// Trusted-key files: refused inside the plugin directory (directly, through `..`, through
/// a link) and when someone other than the node's user or root can change them; each
/// refusal is one line naming the file.
#[test]
fn trusted_key_files_live_outside_the_plugin_dir_and_are_not_writable_by_others() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let keys = tmp.path().join("keys");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    let inside = plugins.join("publisher.pub");
    let outside = keys.join("publisher.pub");
    for f in [&inside, &outside] {
        std::fs::write(f, format!("{PUBLISHER}\n")).unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    symlink(&inside, keys.join("link.pub")).unwrap();
    let with_key = |key: &Path| {
        Env::production(tmp.path())
            .with(&[
                set("HALLMARK_PLUGIN_DIR", plugins.display().to_string()),
                set("HALLMARK_PLUGIN_TRUSTED_KEYS", key.display().to_string()),
            ])
            .validate(Profile::Production)
    };
    let c = with_key(&outside).unwrap();
    assert_eq!(c.plugins.trusted_keys.len(), 1);

    for key in [
        inside.clone(),
        keys.join("../plugins/publisher.pub"),
        keys.join("link.pub"),
    ] {
        let e = with_key(&key).unwrap_err();
        assert!(
            matches!(&e, ConfigError::PluginTrustedKeyInPluginDir { file, .. } if file == &key),
            "{key:?}: {e:?}"
        );
        let line = e.to_string();
        assert!(line.contains(&key.display().to_string()), "{line}");
        assert!(line.contains("inside HALLMARK_PLUGIN_DIR"), "{line}");
        assert_eq!(line.lines().count(), 1, "{line}");
        // Development refuses it too.
        assert!(Env(HashMap::new())
            .with(&[
                set("HALLMARK_PLUGIN_DIR", plugins.display().to_string()),
                set("HALLMARK_PLUGIN_TRUSTED_KEYS", key.display().to_string()),
            ])
            .validate(Profile::Development)
            .is_err());
    }

    for (mode, who) in [
        (0o664, "its group"),
        (0o666, "group and others"),
        (0o646, "others"),
    ] {
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(mode)).unwrap();
        let e = with_key(&outside).unwrap_err();
        assert!(
            matches!(&e, ConfigError::PluginTrustedKeyWritable { file, .. } if file == &outside),
            "{mode:o}: {e:?}"
        );
        let line = e.to_string();
        assert!(line.contains(&outside.display().to_string()), "{line}");
        assert!(line.contains(&format!("writable by {who}")), "{line}");
        assert_eq!(line.lines().count(), 1, "{line}");
    }
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A group-writable directory on the way counts as well.
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o775)).unwrap();
    assert!(matches!(
        with_key(&outside),
        Err(ConfigError::PluginTrustedKeyWritable { .. })
    ));
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    with_key(&outside).unwrap();
}

/// `HALLMARK_TRUSTED_PROXIES`: networks and addresses accepted, anything else refused naming
/// the setting; empty by default.
#[test]
fn trusted_proxies_are_networks_or_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let c = Env::production(tmp.path())
        .validate(Profile::Production)
        .unwrap();
    assert!(c.trusted_proxies.is_empty());
    let c = Env::production(tmp.path())
        .with(&[set("HALLMARK_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ::1")])
        .validate(Profile::Production)
        .unwrap();
    assert!(c.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
    assert!(c.trusted_proxies.contains("::1".parse().unwrap()));
    assert!(!c.trusted_proxies.contains("192.0.2.8".parse().unwrap()));
    assert_eq!(c.edge().trusted_proxies, c.trusted_proxies);
    let err = Env::production(tmp.path())
        .with(&[set(
            "HALLMARK_TRUSTED_PROXIES",
            "10.0.0.0/8, proxy.internal",
        )])
        .validate(Profile::Production)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                setting: "HALLMARK_TRUSTED_PROXIES",
                ..
            }
        ),
        "{err:?}"
    );
}

/// `HALLMARK_BACKUP_LINK_TEMPLATE` is optional, checked at start-up (fail closed, naming the
/// setting), https only in production; http://localhost passes in development only.
#[test]
fn backup_link_template_is_optional_and_checked_at_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let prod = Env::production(tmp.path());
    assert_eq!(
        prod.validate(Profile::Production)
            .unwrap()
            .backup_link_template,
        None
    );
    let blank = Env::production(tmp.path()).with(&[set("HALLMARK_BACKUP_LINK_TEMPLATE", "  ")]);
    assert_eq!(
        blank
            .validate(Profile::Production)
            .unwrap()
            .backup_link_template,
        None
    );
    let template = "https://backup.example.eu/dpp/{uuid}/versions/{version}";
    let c = Env::production(tmp.path())
        .with(&[set("HALLMARK_BACKUP_LINK_TEMPLATE", template)])
        .validate(Profile::Production)
        .unwrap();
    let t = c.backup_link_template.unwrap();
    assert_eq!(t.as_str(), template);
    let id =
        hallmark_core::passport::PassportId::parse("urn:uuid:0190f1a2-3b4c-7d5e-8f60-718293a4b5c6")
            .unwrap();
    assert_eq!(
        t.render(&id, 2),
        "https://backup.example.eu/dpp/0190f1a2-3b4c-7d5e-8f60-718293a4b5c6/versions/2"
    );
    // From the TOML file too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hallmark.toml");
    std::fs::write(&file, format!("backup_link_template = \"{template}\"\n")).unwrap();
    let c = Config::load(Some(&file), &|_| None).unwrap();
    assert_eq!(c.backup_link_template.as_deref(), Some(template));

    for (profile, value, why) in [
        (
            Profile::Production,
            "http://localhost:9000/{uuid}",
            "must use https://",
        ),
        (
            Profile::Production,
            "https://backup.example.eu/dpp/latest",
            "must contain {uuid}",
        ),
        (
            Profile::Development,
            "http://backup.example.eu/{uuid}",
            "must use https://",
        ),
        (
            Profile::Development,
            "https://backup.example.eu/{passport}",
            "only placeholders",
        ),
    ] {
        let env = if profile == Profile::Production {
            Env::production(tmp.path()).with(&[set("HALLMARK_BACKUP_LINK_TEMPLATE", value)])
        } else {
            Env(HashMap::new()).with(&[set("HALLMARK_BACKUP_LINK_TEMPLATE", value)])
        };
        match env.validate(profile) {
            Err(e @ ConfigError::Invalid { .. }) => {
                let text = e.to_string();
                assert!(
                    text.starts_with("HALLMARK_BACKUP_LINK_TEMPLATE: ") && text.contains(why),
                    "{value}: {text}"
                );
            }
            other => panic!("{value}: {other:?}"),
        }
    }
    let dev = Env(HashMap::new())
        .with(&[set(
            "HALLMARK_BACKUP_LINK_TEMPLATE",
            "http://localhost:9000/{uuid}",
        )])
        .validate(Profile::Development)
        .unwrap();
    assert_eq!(
        dev.backup_link_template.unwrap().render(&id, 1),
        "http://localhost:9000/0190f1a2-3b4c-7d5e-8f60-718293a4b5c6"
    );
}
