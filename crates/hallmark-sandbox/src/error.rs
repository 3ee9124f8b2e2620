//! [`SandboxError`]: one variant per distinct way loading or running a plugin fails.

/// Why a plugin could not be loaded or a call did not produce a usable answer.
///
/// Every runtime variant means "no verdict": callers gating publication must fail closed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SandboxError {
    /// The call used up its fuel budget (instructions) before returning.
    #[error("plugin ran out of fuel (budget {budget})")]
    OutOfFuel {
        /// The fuel budget of the call.
        budget: u64,
    },
    /// The call passed its wall-clock deadline (epoch interruption).
    #[error("plugin exceeded its wall-clock deadline ({millis} ms)")]
    Deadline {
        /// The deadline in milliseconds.
        millis: u64,
    },
    /// The plugin tried to grow (or declared) memory beyond its cap.
    #[error("plugin exceeded its memory limit ({limit} bytes)")]
    MemoryLimit {
        /// The memory cap in bytes.
        limit: usize,
    },
    /// The plugin trapped (out-of-bounds access, stack overflow, unreachable, ...).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The module imports something other than the host ABI.
    #[error("plugin imports forbidden function {module}.{name}")]
    ForbiddenImport {
        /// Import module name (e.g. `wasi_snapshot_preview1`).
        module: String,
        /// Import field name.
        name: String,
    },
    /// The plugin's answer is larger than the output cap.
    #[error("plugin output of {len} bytes exceeds the cap of {limit} bytes")]
    OutputTooLarge {
        /// Length the plugin reported.
        len: usize,
        /// The cap.
        limit: usize,
    },
    /// The passport given to the plugin is larger than the input cap.
    #[error("plugin input of {len} bytes exceeds the cap of {limit} bytes")]
    InputTooLarge {
        /// Input length.
        len: usize,
        /// The cap.
        limit: usize,
    },
    /// The plugin's answer is not the JSON the ABI requires.
    #[error("plugin output is not valid ABI JSON: {0}")]
    BadOutput(String),
    /// The module does not follow the ABI (missing or mistyped export, pointer out of bounds).
    #[error("plugin ABI violation: {0}")]
    Abi(String),
    /// The bytes are not a valid WebAssembly module for this host.
    #[error("plugin does not compile: {0}")]
    Compile(String),
    /// The manifest is malformed.
    #[error("invalid plugin manifest: {0}")]
    Manifest(String),
    /// No manifest was given and unsigned plugins are not allowed.
    #[error("plugin is unsigned and unsigned plugins are not allowed")]
    Unsigned,
    /// The manifest is signed by a key the operator does not trust.
    #[error("plugin publisher {0} is not trusted")]
    UntrustedPublisher(String),
    /// The signature does not verify over the manifest.
    #[error("plugin manifest signature does not verify")]
    BadSignature,
    /// The module's SHA-256 differs from the one in the manifest.
    #[error("plugin module hash {actual} does not match manifest {expected}")]
    HashMismatch {
        /// Hash in the manifest (hex).
        expected: String,
        /// Hash of the module bytes (hex).
        actual: String,
    },
    /// The manifest asks for more than the host allows.
    #[error("plugin requests {what} = {requested}, above the host cap {cap}")]
    LimitsExceedHost {
        /// Which limit.
        what: &'static str,
        /// Requested value.
        requested: u64,
        /// Host cap.
        cap: u64,
    },
    /// What the module describes differs from its signed manifest.
    #[error("plugin describes itself differently from its manifest: {0}")]
    ManifestMismatch(String),
    /// `allow_unsigned` is set in a production profile.
    #[error("allow_unsigned is a development flag and is refused in production")]
    DevelopmentFlagInProduction,
    /// No plugin is loaded for this sector and schema version.
    #[error("no plugin loaded for sector {sector} {schema_version}")]
    NoPlugin {
        /// Sector id.
        sector: String,
        /// Sector schema version.
        schema_version: String,
    },
    /// Another plugin already serves this sector and schema version.
    #[error("a plugin for sector {sector} {schema_version} is already loaded")]
    Conflict {
        /// Sector id.
        sector: String,
        /// Sector schema version.
        schema_version: String,
    },
    /// The host itself could not be set up (engine configuration, ticker thread).
    #[error("sandbox host error: {0}")]
    Host(String),
}
