//! The node's status list position allocator: the open list's taken positions, held in
//! memory, so that a first publication draws its position without a database read and
//! never draws one this node already gave out (docs/status.md, "Positions").
//!
//! The positions of the open list are read from the store once (when the node first draws,
//! when a list fills and the next one opens, and after a position turned out taken by
//! another node sharing the database); from then on each draw marks its position at once —
//! before the publication is signed or stored — so concurrent publications never collide
//! with each other. A position whose publication then fails stays marked: it is left
//! unused (the list opens the next one a little earlier), never given out twice.
//!
//! A draw is uniform among the free positions (rejection sampling with the operating
//! system's randomness, as before), so a position still says nothing about publication
//! order.

use hallmark_core::status::{StatusRef, LIST_SIZE};

const WORDS: usize = (LIST_SIZE / 64) as usize;

/// The open list as this node knows it: its number and which positions are taken.
#[derive(Debug)]
pub struct OpenList {
    list: u32,
    taken: Box<[u64]>,
    count: u64,
}

impl OpenList {
    /// List `list` with `positions` taken (from the store). Positions out of range are
    /// ignored (the database's CHECK refuses them).
    pub fn new(list: u32, positions: &[u32]) -> OpenList {
        let mut open = OpenList {
            list,
            taken: vec![0u64; WORDS].into_boxed_slice(),
            count: 0,
        };
        for &p in positions {
            open.mark(p);
        }
        open
    }

    /// The list's number.
    pub fn list(&self) -> u32 {
        self.list
    }

    /// How many positions are taken (stored, or given out by this node).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether `position` is taken.
    pub fn is_taken(&self, position: u32) -> bool {
        let (w, b) = split(position);
        self.taken.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// Marks `position` taken; false if it already was (or is out of range).
    pub fn mark(&mut self, position: u32) -> bool {
        let (w, b) = split(position);
        match self.taken.get_mut(w) {
            Some(word) if *word & (1 << b) == 0 => {
                *word |= 1 << b;
                self.count += 1;
                true
            }
            _ => false,
        }
    }

    /// Draws a free position with `random` (uniform 32-bit numbers), marks it and answers
    /// it: uniform among the free positions. `None` when every position is taken, or
    /// `random` failed (its error in `Err`).
    pub fn draw<E>(
        &mut self,
        mut random: impl FnMut() -> Result<u32, E>,
    ) -> Result<Option<StatusRef>, E> {
        if self.count >= u64::from(LIST_SIZE) {
            return Ok(None);
        }
        loop {
            let candidate = StatusRef::from_random(self.list, random()?);
            if self.mark(candidate.index) {
                return Ok(Some(candidate));
            }
        }
    }
}

fn split(position: u32) -> (usize, u32) {
    ((position / 64) as usize, position % 64)
}

/// The allocator: the open list, once loaded. Held behind an async mutex by the service,
/// whose draw loads the list from the store when it holds none.
#[derive(Debug, Default)]
pub struct StatusPositions {
    pub(crate) open: tokio::sync::Mutex<Option<OpenList>>,
}

impl StatusPositions {
    /// Forgets the open list: the next draw reads its positions from the store again (after
    /// a position drawn here turned out taken by another node).
    pub async fn forget(&self) {
        *self.open.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn draws_never_repeat_and_fill_the_list() {
        let mut open = OpenList::new(3, &[0, 5, 131_071]);
        assert_eq!(open.count(), 3);
        let mut state = 0x1234_5678u32;
        let mut rng = || -> Result<u32, ()> {
            // xorshift32: deterministic for the test; the node uses the OS's randomness.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            Ok(state)
        };
        let mut seen = std::collections::HashSet::new();
        while let Some(r) = open.draw(&mut rng).unwrap() {
            assert_eq!(r.list, 3);
            assert!(![0, 5, 131_071].contains(&r.index), "{}", r.index);
            assert!(seen.insert(r.index), "{} given twice", r.index);
            if seen.len() == 1000 {
                break;
            }
        }
        assert_eq!(open.count(), 1003);
        assert!(open.is_taken(5) && !open.is_taken(6) || seen.contains(&6));
    }

    #[test]
    fn a_full_list_gives_nothing() {
        let all: Vec<u32> = (0..LIST_SIZE).collect();
        let mut open = OpenList::new(0, &all);
        assert_eq!(open.draw(|| Ok::<u32, ()>(7)).unwrap(), None);
        assert!(!open.mark(7));
        assert!(!open.mark(LIST_SIZE), "out of range");
    }
}
