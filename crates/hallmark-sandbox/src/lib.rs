//! Hallmark's Wasm sandbox for sector plugins.
//!
//! Sector compliance rules that JSON Schema cannot express run as WebAssembly plugins
//! (ABI and writer's guide: `docs/plugins.md`). The host gives a plugin nothing but its own
//! linear memory and one capped log function: no WASI, so no files, network, clock or
//! randomness, and no way to reach the signing keys or the database. Every call gets a fresh
//! [`wasmtime::Store`] with a fuel budget, an epoch (wall-clock) deadline, a memory cap, a
//! stack limit and an output cap. Plugins are signed: see [`manifest`].

mod abi;
mod error;
pub mod manifest;

pub use abi::{Description, Finding, SectorSupport, Severity, ValidateOutput, ABI_VERSION};
pub use error::SandboxError;
pub use manifest::{module_sha256, Manifest, ModuleRef, RequestedLimits, SignedManifest};

use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{
    Caller, Config, Engine, InstancePre, Linker, Module, ResourceLimiter, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
};

/// Hard cap on a plugin's linear memory (64 MiB).
pub const MAX_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// The import module of the host ABI.
pub const HOST_MODULE: &str = "hallmark";
/// The epoch tick of the engine-wide ticker thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The host's caps. Plugins may ask for less in their manifest, never more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (roughly: Wasm instructions) per call.
    pub fuel: u64,
    /// Wall-clock backstop per call.
    pub deadline: Duration,
    /// Linear memory cap in bytes (at most [`MAX_MEMORY_BYTES`]).
    pub memory_bytes: usize,
    /// Native stack available to Wasm code, in bytes.
    pub max_wasm_stack: usize,
    /// Largest answer accepted from a plugin.
    pub output_bytes: usize,
    /// Largest passport passed to a plugin.
    pub input_bytes: usize,
    /// Total bytes a call may log through `hallmark.log` (the rest is dropped).
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 200_000_000,
            deadline: Duration::from_secs(2),
            memory_bytes: MAX_MEMORY_BYTES,
            max_wasm_stack: 512 * 1024,
            output_bytes: 1024 * 1024,
            input_bytes: 4 * 1024 * 1024,
            log_bytes: 16 * 1024,
        }
    }
}

/// How plugins are admitted.
#[derive(Debug, Clone, Default)]
pub struct LoaderConfig {
    /// Publisher keys the operator trusts to sign plugin manifests.
    pub trusted_publishers: Vec<VerifyingKey>,
    /// DEVELOPMENT ONLY: load plugins without a manifest (limits = host caps, sectors taken
    /// from `hallmark_describe`). A production profile must refuse it: see
    /// [`LoaderConfig::check_profile`].
    pub allow_unsigned: bool,
}

impl LoaderConfig {
    /// Refuse `allow_unsigned` when `production` is true.
    pub fn check_profile(&self, production: bool) -> Result<(), SandboxError> {
        if production && self.allow_unsigned {
            return Err(SandboxError::DevelopmentFlagInProduction);
        }
        Ok(())
    }
}

/// A loaded plugin: what it is and the limits its calls run under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// What the module describes.
    pub description: Description,
    /// Hex SHA-256 of the module.
    pub sha256: String,
    /// Whether it was admitted through a trusted signed manifest.
    pub signed: bool,
    /// Effective limits.
    pub limits: Limits,
}

struct Plugin {
    info: PluginInfo,
    pre: InstancePre<HostState>,
}

/// Per-call store data: the limiter and the capped log.
struct HostState {
    limits: StoreLimits,
    memory_cap: usize,
    memory_refused: bool,
    log: Vec<String>,
    log_budget: usize,
}

impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_refused = true;
        }
        self.limits.memory_growing(current, desired, maximum)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }
    fn tables(&self) -> usize {
        self.limits.tables()
    }
    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Increments the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Result<Self, SandboxError> {
        let (tx, rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("hallmark-sandbox-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| SandboxError::Host(format!("epoch ticker: {e}")))?;
        Ok(Ticker {
            stop: Some(tx),
            handle: Some(handle),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The sandbox host: one engine, a module cache, and the loaded plugins by sector.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<HostState>,
    caps: Limits,
    loader: LoaderConfig,
    modules: Mutex<HashMap<String, Module>>,
    plugins: RwLock<HashMap<(String, String), Arc<Plugin>>>,
    _ticker: Ticker,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("caps", &self.caps)
            .field("allow_unsigned", &self.loader.allow_unsigned)
            .finish_non_exhaustive()
    }
}

fn describe_rejects(d: &Description) -> Option<String> {
    if d.abi != ABI_VERSION {
        return Some(format!("abi {} (host speaks {ABI_VERSION})", d.abi));
    }
    if d.sectors.is_empty() {
        return Some("no sectors".into());
    }
    None
}

impl Sandbox {
    /// A host with these caps and admission rules.
    pub fn new(caps: Limits, loader: LoaderConfig) -> Result<Self, SandboxError> {
        if caps.memory_bytes > MAX_MEMORY_BYTES {
            return Err(SandboxError::LimitsExceedHost {
                what: "memoryBytes",
                requested: caps.memory_bytes as u64,
                cap: MAX_MEMORY_BYTES as u64,
            });
        }
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(caps.max_wasm_stack)
            .wasm_memory64(false)
            .wasm_multi_memory(false);

        let engine = Engine::new(&config).map_err(|e| SandboxError::Host(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                HOST_MODULE,
                "log",
                |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
                    host_log(&mut caller, ptr, len)
                },
            )
            .map_err(|e| SandboxError::Host(e.to_string()))?;
        let ticker = Ticker::start(engine.clone())?;
        Ok(Sandbox {
            engine,
            linker,
            caps,
            loader,
            modules: Mutex::new(HashMap::new()),
            plugins: RwLock::new(HashMap::new()),
            _ticker: ticker,
        })
    }

    /// The host's caps.
    pub fn caps(&self) -> &Limits {
        &self.caps
    }

    /// Compile (or fetch from the cache) and check a module: imports limited to the host
    /// ABI, the ABI exports present with the right types.
    fn compile(&self, wasm: &[u8]) -> Result<(String, Module), SandboxError> {
        let sha = module_sha256(wasm);
        let mut cache = self
            .modules
            .lock()
            .map_err(|_| SandboxError::Host("module cache poisoned".into()))?;
        if let Some(m) = cache.get(&sha) {
            return Ok((sha, m.clone()));
        }
        let module =
            Module::new(&self.engine, wasm).map_err(|e| SandboxError::Compile(format!("{e:#}")))?;
        for import in module.imports() {
            let allowed = import.module() == HOST_MODULE
                && import.name() == "log"
                && import.ty().func().is_some();
            if !allowed {
                return Err(SandboxError::ForbiddenImport {
                    module: import.module().to_owned(),
                    name: import.name().to_owned(),
                });
            }
        }
        for (name, what) in [
            ("memory", "memory"),
            ("hallmark_alloc", "func"),
            ("hallmark_describe", "func"),
            ("hallmark_validate", "func"),
        ] {
            let ok = match module.get_export(name) {
                Some(t) if what == "memory" => t.memory().is_some(),
                Some(t) => t.func().is_some(),
                None => false,
            };
            if !ok {
                return Err(SandboxError::Abi(format!("missing export {what} {name}")));
            }
        }
        cache.insert(sha.clone(), module.clone());
        Ok((sha, module))
    }

    /// Load a plugin: verify its signed manifest (or, with `allow_unsigned`, accept none),
    /// compile and cache the module, check what it describes, and register it for its
    /// sectors.
    pub fn load(
        &self,
        wasm: &[u8],
        manifest: Option<&SignedManifest>,
    ) -> Result<PluginInfo, SandboxError> {
        let mut limits = self.caps.clone();
        match manifest {
            Some(m) => {
                m.verify(&self.loader.trusted_publishers, wasm)?;
                apply_requested(&mut limits, &m.manifest.limits)?;
            }
            None if self.loader.allow_unsigned => {}
            None => return Err(SandboxError::Unsigned),
        }
        let (sha, module) = self.compile(wasm)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| SandboxError::Abi(format!("{e:#}")))?;
        let mut plugin = Plugin {
            info: PluginInfo {
                description: Description {
                    abi: ABI_VERSION,
                    name: String::new(),
                    version: String::new(),
                    sectors: vec![],
                },
                sha256: sha,
                signed: manifest.is_some(),
                limits,
            },
            pre,
        };
        let (out, _log) = self.call(&plugin, None)?;
        let description: Description =
            serde_json::from_slice(&out).map_err(|e| SandboxError::BadOutput(e.to_string()))?;
        if let Some(why) = describe_rejects(&description) {
            return Err(SandboxError::Abi(why));
        }
        if let Some(m) = manifest {
            let m = &m.manifest;
            if m.abi != description.abi
                || m.name != description.name
                || m.version != description.version
                || m.sectors != description.sectors
            {
                return Err(SandboxError::ManifestMismatch(format!(
                    "manifest {} {} vs module {} {}",
                    m.name, m.version, description.name, description.version
                )));
            }
        }
        plugin.info.description = description;
        let info = plugin.info.clone();
        let plugin = Arc::new(plugin);
        let mut plugins = self
            .plugins
            .write()
            .map_err(|_| SandboxError::Host("plugin table poisoned".into()))?;
        let keys: Vec<(String, String)> = info
            .description
            .sectors
            .iter()
            .flat_map(|s| {
                s.schema_versions
                    .iter()
                    .map(move |v| (s.id.clone(), v.clone()))
            })
            .collect();
        if let Some((sector, schema_version)) = keys.iter().find(|k| plugins.contains_key(*k)) {
            return Err(SandboxError::Conflict {
                sector: sector.clone(),
                schema_version: schema_version.clone(),
            });
        }
        for k in keys {
            plugins.insert(k, Arc::clone(&plugin));
        }
        Ok(info)
    }

    /// The plugin serving a sector schema version, if any.
    pub fn plugin_for(&self, sector: &str, schema_version: &str) -> Option<PluginInfo> {
        self.find(sector, schema_version)
            .ok()
            .map(|p| p.info.clone())
    }

    fn find(&self, sector: &str, schema_version: &str) -> Result<Arc<Plugin>, SandboxError> {
        let plugins = self
            .plugins
            .read()
            .map_err(|_| SandboxError::Host("plugin table poisoned".into()))?;
        plugins
            .get(&(sector.to_owned(), schema_version.to_owned()))
            .cloned()
            .ok_or_else(|| SandboxError::NoPlugin {
                sector: sector.to_owned(),
                schema_version: schema_version.to_owned(),
            })
    }

    /// Call `hallmark_describe` of the plugin serving a sector schema version.
    pub fn describe(
        &self,
        sector: &str,
        schema_version: &str,
    ) -> Result<Description, SandboxError> {
        let plugin = self.find(sector, schema_version)?;
        let (out, _log) = self.call(&plugin, None)?;
        serde_json::from_slice(&out).map_err(|e| SandboxError::BadOutput(e.to_string()))
    }

    /// Run the sector's plugin over passport sector data; findings of severity `error` must
    /// block publication, and any `Err` means "no verdict" (fail closed).
    pub fn validate(
        &self,
        sector: &str,
        schema_version: &str,
        data: &serde_json::Value,
    ) -> Result<Vec<Finding>, SandboxError> {
        self.validate_logged(sector, schema_version, data)
            .map(|(findings, _log)| findings)
    }

    /// [`Sandbox::validate`], also returning what the plugin logged through `hallmark.log`
    /// (capped at [`Limits::log_bytes`] per call).
    pub fn validate_logged(
        &self,
        sector: &str,
        schema_version: &str,
        data: &serde_json::Value,
    ) -> Result<(Vec<Finding>, Vec<String>), SandboxError> {
        let plugin = self.find(sector, schema_version)?;
        let input = serde_json::to_vec(&abi::ValidateInput {
            sector: abi::SectorArg {
                id: sector,
                schema_version,
            },
            data,
        })
        .map_err(|e| SandboxError::Abi(format!("input: {e}")))?;
        if input.len() > plugin.info.limits.input_bytes {
            return Err(SandboxError::InputTooLarge {
                len: input.len(),
                limit: plugin.info.limits.input_bytes,
            });
        }
        let (out, log) = self.call(&plugin, Some(&input))?;
        let out: ValidateOutput =
            serde_json::from_slice(&out).map_err(|e| SandboxError::BadOutput(e.to_string()))?;
        Ok((out.findings, log))
    }

    /// One call in a fresh store: `hallmark_describe` when `input` is `None`, else
    /// `hallmark_alloc` + `hallmark_validate`. Returns the plugin's output bytes.
    fn call(
        &self,
        plugin: &Plugin,
        input: Option<&[u8]>,
    ) -> Result<(Vec<u8>, Vec<String>), SandboxError> {
        let limits = &plugin.info.limits;
        let state = HostState {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .memories(1)
                .tables(4)
                .table_elements(10_000)
                .instances(1)
                .trap_on_grow_failure(true)
                .build(),
            memory_cap: limits.memory_bytes,
            memory_refused: false,
            log: Vec::new(),
            log_budget: limits.log_bytes,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| SandboxError::Host(e.to_string()))?;
        let ticks = limits.deadline.as_millis() / EPOCH_TICK.as_millis().max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
        let out =
            run(&mut store, plugin, input, limits).map_err(|e| classify(e, &store, limits))??;
        Ok((out, std::mem::take(&mut store.data_mut().log)))
    }
}

fn apply_requested(limits: &mut Limits, req: &RequestedLimits) -> Result<(), SandboxError> {
    fn check(what: &'static str, requested: Option<u64>, cap: u64) -> Result<u64, SandboxError> {
        match requested {
            Some(r) if r > cap => Err(SandboxError::LimitsExceedHost {
                what,
                requested: r,
                cap,
            }),
            Some(r) => Ok(r),
            None => Ok(cap),
        }
    }
    limits.fuel = check("fuel", req.fuel, limits.fuel)?;
    let mem = check("memoryBytes", req.memory_bytes, limits.memory_bytes as u64)?;
    limits.memory_bytes = usize::try_from(mem).unwrap_or(limits.memory_bytes);
    let out = check("outputBytes", req.output_bytes, limits.output_bytes as u64)?;
    limits.output_bytes = usize::try_from(out).unwrap_or(limits.output_bytes);
    Ok(())
}

/// The wasm side of a call. The outer error is a wasmtime error (trap, limit), to be
/// classified; the inner one is an ABI-level error found by the host.
fn run(
    store: &mut Store<HostState>,
    plugin: &Plugin,
    input: Option<&[u8]>,
    limits: &Limits,
) -> wasmtime::Result<Result<Vec<u8>, SandboxError>> {
    let instance = plugin.pre.instantiate(&mut *store)?;
    let Some(memory) = instance.get_memory(&mut *store, "memory") else {
        return Ok(Err(SandboxError::Abi("no memory export".into())));
    };
    let packed = match input {
        None => {
            let f = instance.get_typed_func::<(), i64>(&mut *store, "hallmark_describe")?;
            f.call(&mut *store, ())?
        }
        Some(input) => {
            let Ok(len) = i32::try_from(input.len()) else {
                return Ok(Err(SandboxError::InputTooLarge {
                    len: input.len(),
                    limit: limits.input_bytes,
                }));
            };
            let alloc = instance.get_typed_func::<i32, i32>(&mut *store, "hallmark_alloc")?;
            let ptr = alloc.call(&mut *store, len)?;
            if memory
                .write(&mut *store, ptr as u32 as usize, input)
                .is_err()
            {
                return Ok(Err(SandboxError::Abi(format!(
                    "hallmark_alloc returned {ptr}, outside memory for {len} bytes"
                ))));
            }
            let f = instance.get_typed_func::<(i32, i32), i64>(&mut *store, "hallmark_validate")?;
            f.call(&mut *store, (ptr, len))?
        }
    };
    let packed = packed as u64;
    let ptr = (packed >> 32) as usize;
    let len = (packed & 0xffff_ffff) as usize;
    if len > limits.output_bytes {
        return Ok(Err(SandboxError::OutputTooLarge {
            len,
            limit: limits.output_bytes,
        }));
    }
    let mut out = vec![0u8; len];
    if memory.read(&*store, ptr, &mut out).is_err() {
        return Ok(Err(SandboxError::Abi(format!(
            "output {ptr}+{len} is outside the plugin's memory"
        ))));
    }
    Ok(Ok(out))
}

fn classify(err: wasmtime::Error, store: &Store<HostState>, limits: &Limits) -> SandboxError {
    if store.data().memory_refused {
        return SandboxError::MemoryLimit {
            limit: limits.memory_bytes,
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => SandboxError::OutOfFuel {
            budget: limits.fuel,
        },
        Some(Trap::Interrupt) => SandboxError::Deadline {
            millis: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
        },
        Some(trap) => SandboxError::Trap(trap.to_string()),
        None => SandboxError::Trap(format!("{err:#}")),
    }
}

/// `hallmark.log(ptr, len)`: copy up to the remaining log budget; never fails the call for
/// a bad pointer (the bytes are simply not logged).
fn host_log(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return;
    };
    let budget = caller.data().log_budget;
    let take = (len as u32 as usize).min(budget);
    if take == 0 {
        return;
    }
    let mut buf = vec![0u8; take];
    if memory
        .read(&*caller, ptr as u32 as usize, &mut buf)
        .is_err()
    {
        return;
    }
    let state = caller.data_mut();
    state.log_budget -= take;
    state.log.push(String::from_utf8_lossy(&buf).into_owned());
}
