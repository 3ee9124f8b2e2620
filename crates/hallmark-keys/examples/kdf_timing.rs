//! Measure how long unlocking a keystore takes with the recommended and floor Argon2id
//! parameters: `cargo run --release -p hallmark-keys --example kdf_timing`.

use hallmark_keys::{KdfParams, Keystore};
use secrecy::SecretString;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pass = SecretString::from("timing passphrase".to_string());
    for (name, params) in [
        ("recommended", KdfParams::RECOMMENDED),
        ("floor", KdfParams::FLOOR),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        Keystore::create(&path, &pass, params, time::OffsetDateTime::now_utc())?;
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            Keystore::open(&path, &pass)?;
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: m={} KiB t={} p={}: open median {:.3} s (min {:.3}, max {:.3})",
            params.memory_kib, params.iterations, params.parallelism, times[2], times[0], times[4]
        );
    }
    Ok(())
}
