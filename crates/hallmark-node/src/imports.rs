//! The imports a node is answering batches of: their outcome counts by import id, in
//! memory and bounded ([`ImportSessions`], held by the `App`), until the import's `finish`
//! records them as its `import.completed` event (`service::import`). A restarted node has
//! none; the client's counts are recorded then.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use hallmark_core::tlog::event::ImportCounts;
use uuid::Uuid;

/// Imports counted at once (the oldest is forgotten beyond).
pub const MAX_SESSIONS: usize = 1_000;

/// Outcome counts of the imports a node has answered batches of, by import id.
#[derive(Default)]
pub struct ImportSessions(Mutex<Sessions>);

impl std::fmt::Debug for ImportSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |s| s.counts.len());
        f.debug_struct("ImportSessions")
            .field("imports", &n)
            .finish()
    }
}

#[derive(Default)]
struct Sessions {
    counts: HashMap<Uuid, ImportCounts>,
    order: VecDeque<Uuid>,
}

impl ImportSessions {
    /// Adds a batch's counts to import `id`'s (forgetting the oldest import when
    /// [`MAX_SESSIONS`] are held).
    pub fn add(&self, id: Uuid, c: &ImportCounts) {
        let Ok(mut s) = self.0.lock() else { return };
        if !s.counts.contains_key(&id) {
            if s.order.len() >= MAX_SESSIONS {
                if let Some(old) = s.order.pop_front() {
                    s.counts.remove(&old);
                }
            }
            s.order.push_back(id);
        }
        let t = s.counts.entry(id).or_default();
        t.created += c.created;
        t.updated += c.updated;
        t.published += c.published;
        t.unchanged += c.unchanged;
        t.failed += c.failed;
    }

    /// Import `id`'s counts, if this node holds them; forgotten then (an import is finished
    /// once).
    pub fn take(&self, id: &Uuid) -> Option<ImportCounts> {
        let mut s = self.0.lock().ok()?;
        let c = s.counts.remove(id)?;
        s.order.retain(|o| o != id);
        Some(c)
    }

    /// How many imports are counted.
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |s| s.counts.len())
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn sessions_add_up_and_stay_bounded() {
        let s = ImportSessions::default();
        let one = ImportCounts {
            created: 1,
            failed: 2,
            ..ImportCounts::default()
        };
        let id = Uuid::from_u128(1);
        s.add(id, &one);
        s.add(id, &one);
        for n in 0..MAX_SESSIONS as u128 {
            s.add(Uuid::from_u128(1000 + n), &one);
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(s.take(&id).is_none(), "the oldest import was forgotten");
        let last = Uuid::from_u128(1000 + MAX_SESSIONS as u128 - 1);
        assert_eq!(s.take(&last).unwrap().failed, 2);
        assert!(s.take(&last).is_none(), "taken once");
        let fresh = Uuid::from_u128(7);
        s.add(fresh, &one);
        s.add(fresh, &one);
        assert_eq!(s.take(&fresh).unwrap().created, 2);
    }
}
