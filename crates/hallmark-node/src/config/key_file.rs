//! Where a trusted plugin-publisher key file may live: outside the plugin directory, and
//! changeable only by the node's user or root.
//!
//! A key in `HALLMARK_PLUGIN_TRUSTED_KEYS` decides which plugins run in the publish path.
//! Kept inside `HALLMARK_PLUGIN_DIR`, whoever can write that directory could replace both a
//! plugin and the key that admits it; writable by another user, that user could. So the
//! path is resolved the way the kernel does (each component in turn, every symbolic link
//! followed, `..` taken after the link), and it is refused when
//!
//! - any entry met on the way — a directory, a symbolic link or the file itself — lies in
//!   the plugin directory (canonicalised), so neither `../` nor a link into or out of the
//!   directory gets around the rule; or
//! - any entry met on the way is owned by a user other than the node's (effective) user
//!   and root, or the file or a directory on the way is writable by group or others (a
//!   world-writable directory with the sticky bit, such as `/tmp`, is accepted: others
//!   cannot rename or replace what they do not own in it).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Most symbolic links followed while resolving one path (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Why a key file is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The path cannot be resolved or an entry cannot be inspected.
    Unreadable(String),
    /// An entry on the way lies in the plugin directory.
    InsidePluginDir,
    /// Someone other than the node's user or root can change it.
    Writable(String),
}

/// Check the key file `file` against the plugin directory `plugin_dir` (if any).
pub(crate) fn check(file: &Path, plugin_dir: Option<&Path>) -> Result<(), Refusal> {
    let (_, met) = resolve(file).map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if let Some(dir) = plugin_dir {
        let dir = canonical_dir(dir);
        if met.iter().any(|entry| entry.starts_with(&dir)) {
            return Err(Refusal::InsidePluginDir);
        }
    }
    let uid = rustix::process::geteuid().as_raw();
    // Every directory the resolution passed through ("/" and the parent of each entry) and
    // every entry itself.
    let mut inspected: Vec<PathBuf> = vec![PathBuf::from("/")];
    for entry in &met {
        if let Some(parent) = entry.parent() {
            if !inspected.iter().any(|p| p == parent) {
                inspected.push(parent.to_path_buf());
            }
        }
        if !inspected.iter().any(|p| p == entry) {
            inspected.push(entry.clone());
        }
    }
    for path in &inspected {
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| Refusal::Unreadable(format!("{}: {e}", path.display())))?;
        let owner = meta.uid();
        if owner != uid && owner != 0 {
            return Err(Refusal::Writable(format!(
                "{} is owned by uid {owner}, neither the node's user (uid {uid}) nor root",
                path.display()
            )));
        }
        let kind = meta.file_type();
        if kind.is_symlink() {
            continue;
        }
        let mode = meta.mode() & 0o7777;
        let sticky_dir = kind.is_dir() && mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !sticky_dir {
            return Err(Refusal::Writable(format!(
                "{} is writable by {} (mode {:04o})",
                path.display(),
                match (mode & 0o020 != 0, mode & 0o002 != 0) {
                    (true, true) => "group and others",
                    (true, false) => "its group",
                    _ => "others",
                },
                mode
            )));
        }
    }
    Ok(())
}

/// The plugin directory as the kernel sees it; lexically absolute if it cannot be resolved
/// (it does not exist: then nothing lies in it, and loading plugins fails later anyway).
fn canonical_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())
    })
}

/// Resolve `path` component by component, following symbolic links: the canonical path,
/// and every directory entry met on the way (each as its canonical parent joined with its
/// name, so a link appears where it is, and its target's entries after it).
fn resolve(path: &Path) -> std::io::Result<(PathBuf, Vec<PathBuf>)> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut queue: VecDeque<OsString> = VecDeque::new();
    push_components(&mut queue, &absolute, false);
    let mut resolved = PathBuf::from("/");
    let mut met = Vec::new();
    let mut links = 0;
    while let Some(name) = queue.pop_front() {
        if name == ".." {
            resolved.pop();
            continue;
        }
        let entry = resolved.join(&name);
        let meta = std::fs::symlink_metadata(&entry)?;
        met.push(entry.clone());
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(std::io::Error::other(format!(
                    "{}: more than {MAX_LINKS} symbolic links",
                    path.display()
                )));
            }
            let target = std::fs::read_link(&entry)?;
            if target.is_absolute() {
                resolved = PathBuf::from("/");
            }
            push_components(&mut queue, &target, true);
        } else {
            resolved = entry;
        }
    }
    Ok((resolved, met))
}

/// Queue the names of `path` (`..` kept, `.` and the root dropped), at the front when
/// `front` (a link's target replaces the link, before the rest of the path).
fn push_components(queue: &mut VecDeque<OsString>, path: &Path, front: bool) {
    let names: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    if front {
        for n in names.into_iter().rev() {
            queue.push_front(n);
        }
    } else {
        queue.extend(names);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn resolution_follows_links_and_dot_dot_like_the_kernel() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/key.pub"), "k").unwrap();
        symlink(root.join("a/b"), root.join("l")).unwrap();
        // l/../key.pub is a/b/../key.pub = a/key.pub (not ./key.pub).
        let (target, met) = resolve(&root.join("l/../key.pub")).unwrap();
        assert_eq!(target, root.join("a/key.pub"));
        assert_eq!(
            target,
            std::fs::canonicalize(root.join("l/../key.pub")).unwrap()
        );
        assert!(met.contains(&root.join("l")));
        assert!(met.contains(&root.join("a/b")));
        // A loop is an error, not a hang.
        symlink(root.join("loop"), root.join("loop")).unwrap();
        assert!(resolve(&root.join("loop")).is_err());
    }

    #[test]
    fn inside_the_plugin_dir_by_any_route_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let plugins = root.join("plugins");
        let keys = root.join("keys");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::write(plugins.join("publisher.pub"), "k").unwrap();
        std::fs::write(keys.join("publisher.pub"), "k").unwrap();
        assert_eq!(check(&keys.join("publisher.pub"), Some(&plugins)), Ok(()));
        assert_eq!(check(&keys.join("publisher.pub"), None), Ok(()));
        // Directly, through `..`, through a link to it, through a link kept in the plugin
        // directory (which its writer could re-point), and with the plugin dir named
        // through a link.
        symlink(plugins.join("publisher.pub"), keys.join("to-plugins.pub")).unwrap();
        symlink(&keys, plugins.join("keys")).unwrap();
        symlink(&plugins, root.join("plugins-link")).unwrap();
        for (file, dir) in [
            (plugins.join("publisher.pub"), plugins.clone()),
            (keys.join("../plugins/publisher.pub"), plugins.clone()),
            (keys.join("to-plugins.pub"), plugins.clone()),
            (plugins.join("keys/publisher.pub"), plugins.clone()),
            (keys.join("to-plugins.pub"), root.join("plugins-link")),
        ] {
            assert_eq!(
                check(&file, Some(&dir)),
                Err(Refusal::InsidePluginDir),
                "{file:?} in {dir:?}"
            );
        }
    }

    #[test]
    fn writable_by_others_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let key = root.join("publisher.pub");
        std::fs::write(&key, "k").unwrap();
        let chmod = |p: &Path, mode| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        chmod(&key, 0o644);
        assert_eq!(check(&key, None), Ok(()));
        for mode in [0o664, 0o646, 0o666] {
            chmod(&key, mode);
            assert!(
                matches!(check(&key, None), Err(Refusal::Writable(r)) if r.contains("writable")),
                "{mode:o}"
            );
        }
        chmod(&key, 0o644);
        // A directory on the way: group-writable refused, sticky world-writable accepted.
        chmod(&root, 0o775);
        assert!(matches!(check(&key, None), Err(Refusal::Writable(_))));
        chmod(&root, 0o1777);
        assert_eq!(check(&key, None), Ok(()));
        chmod(&root, 0o700);
        assert_eq!(check(&key, None), Ok(()));
        // Owned by another user (only root can hand a file to someone else).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
            assert!(
                matches!(check(&key, None), Err(Refusal::Writable(r)) if r.contains("uid 65534")),
            );
            std::os::unix::fs::chown(&key, Some(0), None).unwrap();
            std::os::unix::fs::chown(&root, Some(65534), None).unwrap();
            assert!(matches!(check(&key, None), Err(Refusal::Writable(_))));
            std::os::unix::fs::chown(&root, Some(0), None).unwrap();
        }
    }
}
