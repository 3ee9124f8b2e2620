//! Sign a plugin manifest (used by `plugins/*/build.sh`).
//!
//! `sign_plugin MODULE.wasm UNSIGNED.json OUT.manifest.json OUT.pub`, with the publisher's
//! 32-byte Ed25519 seed as hex in `HALLMARK_PLUGIN_SEED`. Fills in the module's SHA-256,
//! signs JCS(manifest) and writes the signed manifest and the publisher's Multikey.

use ed25519_dalek::SigningKey;
use hallmark_sandbox::{module_sha256, Manifest};
use std::process::ExitCode;

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wasm, unsigned, out, publ] = args.as_slice() else {
        return Err(
            "usage: sign_plugin MODULE.wasm UNSIGNED.json OUT.manifest.json OUT.pub".into(),
        );
    };
    let seed = std::env::var("HALLMARK_PLUGIN_SEED").map_err(|_| "HALLMARK_PLUGIN_SEED unset")?;
    let seed: [u8; 32] = hex::decode(seed.trim())
        .map_err(|e| format!("seed: {e}"))?
        .try_into()
        .map_err(|_| "seed must be 32 bytes")?;
    let key = SigningKey::from_bytes(&seed);
    let wasm = std::fs::read(wasm).map_err(|e| format!("{wasm}: {e}"))?;
    let text = std::fs::read(unsigned).map_err(|e| format!("{unsigned}: {e}"))?;
    let mut manifest: Manifest = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    manifest.module.sha256 = module_sha256(&wasm);
    let signed = manifest.sign(&key).map_err(|e| e.to_string())?;
    let mut json = serde_json::to_string_pretty(&signed).map_err(|e| e.to_string())?;
    json.push('\n');
    std::fs::write(out, json).map_err(|e| format!("{out}: {e}"))?;
    std::fs::write(publ, format!("{}\n", signed.publisher_key_multibase))
        .map_err(|e| format!("{publ}: {e}"))?;
    println!(
        "signed {} by {}",
        signed.manifest.module.sha256, signed.publisher_key_multibase
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sign_plugin: {e}");
            ExitCode::FAILURE
        }
    }
}
