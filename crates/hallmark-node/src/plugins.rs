//! The plugin gate in the publish path: sector plugins (`hallmark-sandbox`, see
//! `docs/plugins.md`) loaded at start-up from `HALLMARK_PLUGIN_DIR`, and run — off the async
//! runtime — over a passport's sector data after JSON Schema validation.
//!
//! Loading fails closed: any plugin that does not load and verify stops start-up with one
//! line naming its file. Running fails closed: a plugin that traps, runs out of fuel, passes
//! its deadline or memory cap, or answers too much or garbage gives no verdict, and the
//! caller must not publish.

use crate::profile::Profile;
use hallmark_core::passport::SectorRef;
use hallmark_core::sector::SectorRegistry;
use hallmark_sandbox::{
    Finding, Limits, LoaderConfig, PluginInfo, Sandbox, SandboxError, SignedManifest,
};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Sector plugins (see `docs/plugins.md`, "In the node").
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    /// Directory of `<name>.wasm` + `<name>.manifest.json` pairs; `None`: no plugins.
    pub dir: Option<PathBuf>,
    /// The operator's publisher keys (`HALLMARK_PLUGIN_TRUSTED_KEYS`) whose signed manifests
    /// are admitted; the built-in [`PROJECT_PUBLISHER_KEY`] is trusted in addition.
    pub trusted_keys: Vec<ed25519_dalek::VerifyingKey>,
    /// DEVELOPMENT ONLY: admit `<name>.wasm` without a manifest (refused in production).
    pub allow_unsigned: bool,
    /// Sector ids whose every schema version must have a plugin (else start-up fails).
    pub required: Vec<String>,
}

/// The publisher key of the project's own sector plugins (`plugins/battery/publisher.pub`,
/// a Multikey), built into the binary. [`PluginGate::open`] trusts it in addition to the
/// operator's `HALLMARK_PLUGIN_TRUSTED_KEYS`, so the committed, signed plugins load with no
/// trusted-key setting and no key file that the plugin directory's writer could replace.
pub const PROJECT_PUBLISHER_KEY: &str = include_str!("../../../plugins/battery/publisher.pub");

/// [`PROJECT_PUBLISHER_KEY`], decoded.
pub fn project_publisher_key() -> Result<ed25519_dalek::VerifyingKey, PluginLoadError> {
    hallmark_core::keys::decode_public_key_multibase(PROJECT_PUBLISHER_KEY.trim())
        .map_err(|e| PluginLoadError::ProjectKey(e.to_string()))
}

/// Suffix of a plugin module file.
pub const WASM_SUFFIX: &str = ".wasm";
/// Suffix of a plugin's signed manifest file (beside `<name>.wasm`).
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

/// Why plugins could not be loaded at start-up. Each message is one line naming the file or
/// setting concerned.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    /// The plugin directory cannot be listed.
    #[error("HALLMARK_PLUGIN_DIR {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The plugin directory holds no `<name>.wasm`.
    #[error("HALLMARK_PLUGIN_DIR {path} holds no <name>.wasm plugin")]
    Empty {
        /// The directory.
        path: PathBuf,
    },
    /// A plugin file cannot be read.
    #[error("plugin {path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A manifest without its module: something is missing or misnamed.
    #[error("plugin manifest {path} has no module beside it (expected {expected})")]
    OrphanManifest {
        /// The manifest.
        path: PathBuf,
        /// The module file it belongs to.
        expected: PathBuf,
    },
    /// The plugin (module or manifest) was refused by the sandbox.
    #[error("plugin {path}: {reason}")]
    Refused {
        /// The module (or manifest) file.
        path: PathBuf,
        /// The sandbox's reason, on one line.
        reason: String,
        /// The typed error.
        error: SandboxError,
    },
    /// `HALLMARK_PLUGIN_REQUIRED` names a sector version no loaded plugin serves.
    #[error("HALLMARK_PLUGIN_REQUIRED: no plugin in the plugin directory serves sector {sector} {schema_version}")]
    Missing {
        /// Sector id.
        sector: String,
        /// Schema version.
        schema_version: String,
    },
    /// The sandbox host could not be set up.
    #[error("plugin sandbox: {0}")]
    Host(SandboxError),
    /// The built-in project publisher key does not decode (a broken build).
    #[error(
        "the built-in plugin publisher key (plugins/battery/publisher.pub) is not a Multikey: {0}"
    )]
    ProjectKey(String),
}

/// The plugin a verdict came from (in responses, problems and audit events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginRef {
    /// Plugin name (as signed in its manifest).
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Hex SHA-256 of the module.
    pub sha256: String,
}

impl PluginRef {
    fn of(info: &PluginInfo) -> Self {
        PluginRef {
            name: info.description.name.clone(),
            version: info.description.version.clone(),
            sha256: info.sha256.clone(),
        }
    }
}

/// A loaded plugin and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    /// Where it came from (file path, or a label for built-in bytes).
    pub origin: String,
    /// What the sandbox admitted.
    pub info: PluginInfo,
}

/// A plugin's verdict on one passport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No plugin serves this sector version (and none is required): JSON Schema only.
    Ungated,
    /// The plugin ran. Pointers are into the passport (`/data` + the plugin's pointer).
    Checked {
        /// Which plugin.
        plugin: PluginRef,
        /// Its findings, as returned.
        findings: Vec<Finding>,
    },
}

/// Why the gate gave no verdict (publishing must not proceed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The plugin ran but failed: trap, fuel, deadline, memory, output cap, bad answer.
    #[error("plugin {} {} failed: {error}", plugin.name, plugin.version)]
    Failed {
        /// Which plugin.
        plugin: PluginRef,
        /// How.
        error: SandboxError,
    },
    /// The sector is required to be gated but no plugin serves this version.
    #[error(
        "no plugin serves sector {sector} {schema_version}, which HALLMARK_PLUGIN_REQUIRED gates"
    )]
    Missing {
        /// Sector id.
        sector: String,
        /// Schema version.
        schema_version: String,
    },
    /// The blocking task running the plugin did not complete (host bug).
    #[error("the plugin task did not complete: {0}")]
    Task(String),
}

impl GateError {
    /// A stable slug for the failure mode (`out-of-fuel`, `deadline`, `memory-limit`, `trap`,
    /// `output-too-large`, `input-too-large`, `bad-output`, `abi`, `missing`, `host`).
    pub fn reason(&self) -> &'static str {
        match self {
            GateError::Failed { error, .. } => match error {
                SandboxError::OutOfFuel { .. } => "out-of-fuel",
                SandboxError::Deadline { .. } => "deadline",
                SandboxError::MemoryLimit { .. } => "memory-limit",
                SandboxError::Trap(_) => "trap",
                SandboxError::OutputTooLarge { .. } => "output-too-large",
                SandboxError::InputTooLarge { .. } => "input-too-large",
                SandboxError::BadOutput(_) => "bad-output",
                SandboxError::Abi(_) => "abi",
                _ => "host",
            },
            GateError::Missing { .. } => "missing",
            GateError::Task(_) => "host",
        }
    }

    /// The plugin concerned, if one ran.
    pub fn plugin(&self) -> Option<&PluginRef> {
        match self {
            GateError::Failed { plugin, .. } => Some(plugin),
            _ => None,
        }
    }
}

/// One line of at most `max` characters (sandbox errors may carry a Wasm backtrace).
pub fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or_default().trim();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// The project's signed battery plugin (`plugins/battery/`), built into the binary.
const BATTERY_WASM: &[u8] = include_bytes!("../../../plugins/battery/battery.wasm");
const BATTERY_MANIFEST: &[u8] = include_bytes!("../../../plugins/battery/battery.manifest.json");

/// The sector plugins built into the binary: the project's signed plugins, admitted only
/// through their signed manifests and a trusted key (the built-in project key), loaded in
/// every profile. An operator's plugin for the same sector schema version replaces one.
pub fn builtin_sources() -> Vec<PluginSource> {
    vec![PluginSource {
        origin: "built-in:plugins/battery/battery.wasm".into(),
        wasm: BATTERY_WASM.to_vec(),
        manifest: Some((
            "built-in:plugins/battery/battery.manifest.json".into(),
            BATTERY_MANIFEST.to_vec(),
        )),
    }]
}

/// The gate: a sandbox with the admitted plugins (none when no plugin is configured), the
/// sectors that must be gated, and a bound on concurrent plugin calls.
pub struct PluginGate {
    sandbox: Option<Arc<Sandbox>>,
    required: BTreeSet<String>,
    loaded: Vec<LoadedPlugin>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PluginGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginGate")
            .field("loaded", &self.loaded)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// A plugin to admit: its module bytes and, unless unsigned, its signed manifest bytes.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// Where it came from (named in errors and logs).
    pub origin: PathBuf,
    /// The `.wasm` bytes.
    pub wasm: Vec<u8>,
    /// The `.manifest.json` bytes and their file.
    pub manifest: Option<(PathBuf, Vec<u8>)>,
}

fn concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

impl PluginGate {
    /// No plugins: every sector publishes on JSON Schema validation alone.
    pub fn none() -> Self {
        PluginGate {
            sandbox: None,
            required: BTreeSet::new(),
            loaded: Vec::new(),
            permits: Arc::new(Semaphore::new(concurrency())),
        }
    }

    /// Admit `sources` into a fresh sandbox (host caps: [`Limits::default`]). Every source
    /// must load; then every schema version of each `required` sector must be served.
    pub fn load(
        sources: Vec<PluginSource>,
        trusted_keys: Vec<ed25519_dalek::VerifyingKey>,
        allow_unsigned: bool,
        required: &[String],
        profile: Profile,
    ) -> Result<Self, PluginLoadError> {
        Self::load_with_builtins(
            sources,
            Vec::new(),
            trusted_keys,
            allow_unsigned,
            required,
            profile,
        )
    }

    /// [`load`](Self::load), then each of `builtins` whose sector schema versions are not
    /// all served yet (an operator's plugin replaces a built-in one; logged). Built-ins must
    /// carry a signed manifest, whatever `allow_unsigned` says.
    pub fn load_with_builtins(
        sources: Vec<PluginSource>,
        builtins: Vec<PluginSource>,
        trusted_keys: Vec<ed25519_dalek::VerifyingKey>,
        allow_unsigned: bool,
        required: &[String],
        profile: Profile,
    ) -> Result<Self, PluginLoadError> {
        let loader = LoaderConfig {
            trusted_publishers: trusted_keys,
            allow_unsigned,
        };
        loader
            .check_profile(profile == Profile::Production)
            .map_err(PluginLoadError::Host)?;
        if sources.is_empty() && builtins.is_empty() && required.is_empty() {
            return Ok(Self::none());
        }
        let sandbox = Sandbox::new(Limits::default(), loader).map_err(PluginLoadError::Host)?;
        let mut loaded = Vec::new();
        for source in sources {
            let refused = |path: &Path, error: SandboxError| PluginLoadError::Refused {
                path: path.to_path_buf(),
                reason: one_line(&error.to_string(), 300),
                error,
            };
            let manifest = match &source.manifest {
                Some((path, bytes)) => {
                    Some(SignedManifest::from_json(bytes).map_err(|e| refused(path, e))?)
                }
                None => None,
            };
            let info = sandbox
                .load(&source.wasm, manifest.as_ref())
                .map_err(|e| refused(&source.origin, e))?;
            loaded.push(LoadedPlugin {
                origin: source.origin.display().to_string(),
                info,
            });
        }
        for source in builtins {
            let refused = |path: &Path, error: SandboxError| PluginLoadError::Refused {
                path: path.to_path_buf(),
                reason: one_line(&error.to_string(), 300),
                error,
            };
            let Some((path, bytes)) = &source.manifest else {
                return Err(refused(&source.origin, SandboxError::Unsigned));
            };
            let manifest = SignedManifest::from_json(bytes).map_err(|e| refused(path, e))?;
            let replaced = manifest.manifest.sectors.iter().all(|s| {
                s.schema_versions
                    .iter()
                    .all(|v| sandbox.plugin_for(&s.id, v).is_some())
            });
            if replaced {
                tracing::info!(
                    builtin = %manifest.manifest.name,
                    "a configured plugin replaces the built-in plugin for its sector versions"
                );
                continue;
            }
            let info = sandbox
                .load(&source.wasm, Some(&manifest))
                .map_err(|e| refused(&source.origin, e))?;
            loaded.push(LoadedPlugin {
                origin: source.origin.display().to_string(),
                info,
            });
        }
        let registry = SectorRegistry::builtin();
        for sector in registry.iter() {
            if required.iter().any(|r| r == sector.id())
                && sandbox.plugin_for(sector.id(), sector.version()).is_none()
            {
                return Err(PluginLoadError::Missing {
                    sector: sector.id().to_string(),
                    schema_version: sector.version().to_string(),
                });
            }
        }
        Ok(PluginGate {
            sandbox: (!loaded.is_empty()).then(|| Arc::new(sandbox)),
            required: required.iter().cloned().collect(),
            loaded,
            permits: Arc::new(Semaphore::new(concurrency())),
        })
    }

    /// Load the plugins the configuration names (blocking: reads files and compiles),
    /// trusting the built-in [`PROJECT_PUBLISHER_KEY`] and the operator's keys.
    pub fn open(settings: &PluginSettings, profile: Profile) -> Result<Self, PluginLoadError> {
        let sources = match &settings.dir {
            Some(dir) => read_dir(dir)?,
            None => Vec::new(),
        };
        let mut trusted = vec![project_publisher_key()?];
        trusted.extend(settings.trusted_keys.iter().copied());
        Self::load_with_builtins(
            sources,
            builtin_sources(),
            trusted,
            settings.allow_unsigned,
            &settings.required,
            profile,
        )
    }

    /// The plugins admitted.
    pub fn loaded(&self) -> &[LoadedPlugin] {
        &self.loaded
    }

    /// Log, per registered sector version, which plugin gates it or that it is ungated.
    pub fn log_coverage(&self, registry: &SectorRegistry) {
        for p in &self.loaded {
            tracing::info!(
                origin = %p.origin,
                plugin = %p.info.description.name,
                version = %p.info.description.version,
                sha256 = %p.info.sha256,
                signed = p.info.signed,
                "sector plugin loaded"
            );
            if !p.info.signed {
                tracing::warn!(origin = %p.origin, "UNSIGNED sector plugin admitted (development only)");
            }
        }
        for sector in registry.iter() {
            match self.plugin_for(sector.id(), sector.version()) {
                Some(info) => tracing::info!(
                    sector = sector.id(),
                    schema_version = sector.version(),
                    plugin = %info.description.name,
                    "sector gated by its plugin"
                ),
                None => tracing::warn!(
                    sector = sector.id(),
                    schema_version = sector.version(),
                    "sector has no plugin: publishing checks its JSON Schema only"
                ),
            }
        }
    }

    /// The plugin serving a sector schema version, if any.
    pub fn plugin_for(&self, sector: &str, schema_version: &str) -> Option<PluginInfo> {
        self.sandbox
            .as_ref()
            .and_then(|s| s.plugin_for(sector, schema_version))
    }

    /// Run the sector's plugin over `data` on the blocking pool (at most one call per CPU at
    /// a time). `Ok(Verdict::Ungated)` only when no plugin serves the sector version and the
    /// sector is not required; every failure is `Err` (no verdict).
    pub async fn check(
        &self,
        sector: &SectorRef,
        data: &serde_json::Value,
    ) -> Result<Verdict, GateError> {
        let plugin = self.sandbox.as_ref().and_then(|s| {
            Some((
                Arc::clone(s),
                s.plugin_for(&sector.id, &sector.schema_version)?,
            ))
        });
        let Some((sandbox, info)) = plugin else {
            if self.required.contains(&sector.id) {
                return Err(GateError::Missing {
                    sector: sector.id.clone(),
                    schema_version: sector.schema_version.clone(),
                });
            }
            return Ok(Verdict::Ungated);
        };
        let plugin = PluginRef::of(&info);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| GateError::Task(e.to_string()))?;
        let (id, version, data) = (
            sector.id.clone(),
            sector.schema_version.clone(),
            data.clone(),
        );
        // The permit moves into the task: it is released when the plugin call ends, even if
        // the request is dropped (timeout) meanwhile.
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            sandbox.validate_logged(&id, &version, &data)
        })
        .await
        .map_err(|e| GateError::Task(e.to_string()))?;
        let (findings, log) = outcome.map_err(|error| GateError::Failed {
            plugin: plugin.clone(),
            error,
        })?;
        for line in &log {
            tracing::debug!(target: "hallmark::plugin", plugin = %plugin.name, line = ?line);
        }
        let mut rebased = Vec::with_capacity(findings.len());
        for f in findings {
            if !(f.pointer.is_empty() || f.pointer.starts_with('/')) {
                return Err(GateError::Failed {
                    error: SandboxError::BadOutput(format!(
                        "finding pointer {:?} is not an RFC 6901 JSON pointer",
                        one_line(&f.pointer, 80)
                    )),
                    plugin,
                });
            }
            rebased.push(Finding {
                pointer: format!("/data{}", f.pointer),
                ..f
            });
        }
        Ok(Verdict::Checked {
            plugin,
            findings: rebased,
        })
    }
}

/// The plugins of a directory: every `<name>.wasm`, with `<name>.manifest.json` when present
/// (absent: the plugin is unsigned). A manifest without its module is an error; other files
/// (a `publisher.pub`, sources, build scripts) are ignored — a key file in the plugin
/// directory is never trusted (configuration refuses it). Sorted by file name.
pub fn read_dir(dir: &Path) -> Result<Vec<PluginSource>, PluginLoadError> {
    let dir_err = |source| PluginLoadError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_err)? {
        let entry = entry.map_err(dir_err)?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    names.sort();
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| PluginLoadError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut sources = Vec::new();
    for name in &names {
        if let Some(stem) = name.strip_suffix(MANIFEST_SUFFIX) {
            let module = format!("{stem}{WASM_SUFFIX}");
            if !names.contains(&module) {
                return Err(PluginLoadError::OrphanManifest {
                    path: dir.join(name),
                    expected: dir.join(module),
                });
            }
            continue;
        }
        let Some(stem) = name.strip_suffix(WASM_SUFFIX) else {
            continue;
        };
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        let manifest_path = dir.join(format!("{stem}{MANIFEST_SUFFIX}"));
        let manifest = if manifest_path.exists() {
            Some((manifest_path.clone(), read(&manifest_path)?))
        } else {
            None
        };
        sources.push(PluginSource {
            wasm: read(&path)?,
            origin: path,
            manifest,
        });
    }
    if sources.is_empty() {
        return Err(PluginLoadError::Empty {
            path: dir.to_path_buf(),
        });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_built_in_publisher_key_admits_the_committed_plugin() {
        let key = project_publisher_key().unwrap();
        let manifest = SignedManifest::from_json(BATTERY_MANIFEST).unwrap();
        manifest.verify(&[key], BATTERY_WASM).unwrap();
    }
}
