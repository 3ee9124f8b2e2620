//! The resume state, `<input>.hallmark-import` (0600, JSON): which input (size, modification
//! time, SHA-256 of its first MiB), the import id and options, the contiguous high-water row
//! and the counts so far. Written after every answered batch and on interruption; deleted
//! when the import completes. Correctness never depends on it: without it every row is sent
//! again and answers `unchanged`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hallmark_core::passport::Sha256Digest;
use serde::{Deserialize, Serialize};

use super::report::Counts;

/// The state file's format version.
pub const VERSION: u32 = 1;

/// How much of the input's start is hashed.
const HEAD_BYTES: u64 = 1024 * 1024;

/// The state path for an input: `<input>.hallmark-import`.
pub fn state_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".hallmark-import");
    PathBuf::from(name)
}

/// What identifies an input file across runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputStamp {
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, nanoseconds since the Unix epoch (0 if unknown).
    pub modified_ns: u128,
    /// SHA-256 of its first MiB, lowercase hex.
    pub head_sha256: String,
}

impl InputStamp {
    /// The stamp of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<InputStamp> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut head = Vec::new();
        File::open(path)?.take(HEAD_BYTES).read_to_end(&mut head)?;
        Ok(InputStamp {
            size: meta.len(),
            modified_ns,
            head_sha256: Sha256Digest::of(&head).to_hex(),
        })
    }
}

/// The resume state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// [`VERSION`].
    pub version: u32,
    /// The input it belongs to.
    pub input: InputStamp,
    /// The import id the batches were sent with.
    pub import_id: String,
    /// `--publish`.
    pub publish: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// Every row up to this one (spreadsheet numbering) is finished.
    pub high_water: u64,
    /// Results so far.
    pub counts: Counts,
    /// The report being written.
    pub report: String,
}

impl State {
    /// Reads a state file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> std::io::Result<Option<State>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether this state belongs to `input` run with these options.
    pub fn matches(&self, input: &InputStamp, publish: bool, dry_run: bool) -> bool {
        self.version == VERSION
            && &self.input == input
            && self.publish == publish
            && self.dry_run == dry_run
    }

    /// Writes the state atomically (a 0600 temporary file renamed over it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn state_round_trips_and_matches_only_its_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.csv");
        std::fs::write(&input, "externalRef\nx\n").unwrap();
        let stamp = InputStamp::of(&input).unwrap();
        let state = State {
            version: VERSION,
            input: stamp.clone(),
            import_id: "id".into(),
            publish: false,
            dry_run: false,
            high_water: 7,
            counts: Counts::default(),
            report: "r".into(),
        };
        let path = state_path(&input);
        state.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = State::load(&path).unwrap().unwrap();
        assert_eq!(back, state);
        assert!(back.matches(&stamp, false, false));
        assert!(!back.matches(&stamp, true, false));
        assert!(!back.matches(&stamp, false, true));
        std::fs::write(&input, "externalRef\ny\n").unwrap();
        assert!(!back.matches(&InputStamp::of(&input).unwrap(), false, false));
        assert_eq!(State::load(&dir.path().join("none")).unwrap(), None);
    }
}
