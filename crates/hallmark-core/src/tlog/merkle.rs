//! RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.
//!
//! Hashes: `leaf = SHA-256(0x00 ‖ data)`, `node = SHA-256(0x01 ‖ left ‖ right)`, the empty
//! tree hashes to `SHA-256("")`. For `n > 1` leaves the tree splits at `k`, the largest power
//! of two strictly below `n`: `MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))` (RFC 9162 §2.1.1).
//!
//! Generation is written once over [`HashSource`], whose only non-trivial method is
//! [`HashSource::subtree`]. Every subtree the RFC 9162 recursions ask for is either a
//! *perfect* aligned block (`2^j` leaves starting at a multiple of `2^j`) or a *suffix*
//! running to the end of the requested tree. [`CompactTree`] caches every perfect block, so
//! a perfect block costs one lookup and a suffix `O(log n)` lookups; an inclusion or
//! consistency proof asks for `O(log n)` subtrees of which at most one is a suffix, so a
//! proof costs `O(log n)`. The slice functions ([`root`], [`inclusion_proof`],
//! [`consistency_proof`]) recompute from leaf hashes (`O(n)`) and exist for tests and small
//! trees.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Why a proof could not be generated or did not verify.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A proof was requested against a tree larger than the leaves available.
    #[error("tree size {size} exceeds the {available} leaves available")]
    SizeExceedsLeaves {
        /// The requested tree size.
        size: u64,
        /// How many leaves the source holds.
        available: u64,
    },
    /// Consistency with the empty tree is trivially true and has no proof; callers holding
    /// a size-0 checkpoint need no proof at all.
    #[error("consistency with an empty (size 0) tree has no proof")]
    EmptyOldTree,
    /// The old size is larger than the new one: a log never shrinks.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldLargerThanNew {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// Equal sizes need an empty proof.
    #[error("tree sizes are equal but the proof is not empty")]
    NonEmptyProofForEqualSizes,
    /// Different sizes need at least one proof hash.
    #[error("the consistency proof is empty")]
    EmptyProof,
    /// The proof has more hashes than the tree shape allows.
    #[error("the proof has too many hashes")]
    ProofTooLong,
    /// The proof has fewer hashes than the tree shape needs.
    #[error("the proof has too few hashes")]
    ProofTooShort,
    /// No leaf with the given hash is in the tree of the requested size.
    #[error("no leaf with this hash in a tree of size {size}")]
    LeafNotFound {
        /// The tree size searched.
        size: u64,
    },
    /// The recomputed root differs from the expected root.
    #[error("the recomputed root does not match the expected root")]
    RootMismatch,
    /// The recomputed old root differs from the expected old root.
    #[error("the recomputed old root does not match the old root")]
    OldRootMismatch,
    /// The recomputed new root differs from the expected new root.
    #[error("the recomputed new root does not match the new root")]
    NewRootMismatch,
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// RFC 6962 leaf hash: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly less than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Somewhere leaf hashes (and, ideally, cached subtree hashes) come from.
///
/// Contract: callers only ask for `leaf(i)` with `i < size()` and `subtree(start, len)`
/// with `len >= 1` and `start + len <= size()`; the functions in this module check their
/// arguments before asking.
pub trait HashSource {
    /// The hash of leaf `index`.
    fn leaf(&self, index: u64) -> Hash;
    /// The number of leaves available.
    fn size(&self) -> u64;
    /// `MTH(D[start : start + len])`. The default recomputes from leaves in `O(len)`;
    /// sources that cache perfect subtrees (like [`CompactTree`]) override it.
    fn subtree(&self, start: u64, len: u64) -> Hash {
        if len == 1 {
            return self.leaf(start);
        }
        let k = split(len);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }
}

impl HashSource for [Hash] {
    fn leaf(&self, index: u64) -> Hash {
        // In range by the trait contract.
        self[usize::try_from(index).unwrap_or(usize::MAX)]
    }
    fn size(&self) -> u64 {
        self.len() as u64
    }
}

impl HashSource for Vec<Hash> {
    fn leaf(&self, index: u64) -> Hash {
        self.as_slice().leaf(index)
    }
    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// `MTH` of the first `size` leaves of `src`.
pub fn root_at<S: HashSource + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError> {
    check_size(src, size)?;
    Ok(if size == 0 {
        empty_root()
    } else {
        src.subtree(0, size)
    })
}

/// RFC 9162 §2.1.3.1 `PATH(index, D[tree_size])` from any hash source.
pub fn inclusion_proof_from<S: HashSource + ?Sized>(
    src: &S,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, tree_size)?;
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            index,
            size: tree_size,
        });
    }
    let mut out = Vec::with_capacity(64);
    path(src, index, 0, tree_size, &mut out);
    Ok(out)
}

fn path<S: HashSource + ?Sized>(src: &S, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(src, m, start, k, out);
        out.push(src.subtree(start + k, n - k));
    } else {
        path(src, m - k, start + k, n - k, out);
        out.push(src.subtree(start, k));
    }
}

/// RFC 9162 §2.1.4.1 `PROOF(old, D[new])` from any hash source. Equal sizes give an empty
/// proof; `old == 0` is refused ([`ProofError::EmptyOldTree`]), as the verifier refuses it.
pub fn consistency_proof_from<S: HashSource + ?Sized>(
    src: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, new)?;
    if old > new {
        return Err(ProofError::OldLargerThanNew { old, new });
    }
    if old == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    let mut out = Vec::with_capacity(64);
    subproof(src, old, 0, new, true, &mut out);
    Ok(out)
}

fn subproof<S: HashSource + ?Sized>(
    src: &S,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) {
    if m == n {
        if !complete {
            out.push(src.subtree(start, n));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, start, k, complete, out);
        out.push(src.subtree(start + k, n - k));
    } else {
        subproof(src, m - k, start + k, n - k, false, out);
        out.push(src.subtree(start, k));
    }
}

fn check_size<S: HashSource + ?Sized>(src: &S, size: u64) -> Result<(), ProofError> {
    let available = src.size();
    if size > available {
        return Err(ProofError::SizeExceedsLeaves { size, available });
    }
    Ok(())
}

/// `MTH` of a list of leaf hashes (`O(n)`).
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    if leaf_hashes.is_empty() {
        empty_root()
    } else {
        leaf_hashes.subtree(0, leaf_hashes.len() as u64)
    }
}

/// Inclusion proof for leaf `index` in the tree of the first `tree_size` leaf hashes.
pub fn inclusion_proof(
    leaf_hashes: &[Hash],
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    inclusion_proof_from(leaf_hashes, index, tree_size)
}

/// Consistency proof from the tree of the first `old` leaf hashes to that of the first `new`.
pub fn consistency_proof(
    leaf_hashes: &[Hash],
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError> {
    consistency_proof_from(leaf_hashes, old, new)
}

/// RFC 9162 §2.1.3.2: check that `leaf_hash` is leaf `index` of the tree of size `size`
/// whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: check that the tree of size `old_size` with root `old_root` is a
/// prefix of the tree of size `new_size` with root `new_root`.
///
/// `old_size == 0` is refused ([`ProofError::EmptyOldTree`]): every tree extends the empty
/// tree, so such a "proof" proves nothing and a caller asking for one has a bug.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes);
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::EmptyProof);
    };
    // If the old size is a power of two the old root is itself the first node of the path.
    let (start, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in path {
        if snode == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// An append-only Merkle tree that caches the hash of every perfect aligned subtree, like
/// a tiled log: `levels[k][i]` is the hash of leaves `[i·2^k, (i+1)·2^k)`. Level 0 holds the
/// leaf hashes.
///
/// Memory is about `2n` hashes (64 MiB at 1M leaves). Append is amortised `O(1)` (one node
/// hash per completed block), and `root`, inclusion and consistency proofs at any size up
/// to [`CompactTree::size`] are `O(log n)`. The node rebuilds it from stored leaf hashes at
/// start-up ([`CompactTree::from_leaf_hashes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactTree {
    levels: Vec<Vec<Hash>>,
}

impl CompactTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuild from stored leaf hashes, in order.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaf_hashes: I) -> Self {
        let mut t = Self::new();
        for h in leaf_hashes {
            t.push_hash(h);
        }
        t
    }

    /// Append a leaf by its data; returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_hash(leaf_hash(data))
    }

    /// Append a leaf by its leaf hash; returns its index.
    pub fn push_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut h = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(h);
            let len = row.len();
            if len % 2 == 1 {
                break;
            }
            h = node_hash(&row[len - 2], &row[len - 1]);
            level += 1;
        }
        index
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Root of the whole tree.
    pub fn root(&self) -> Hash {
        let n = self.size();
        if n == 0 {
            empty_root()
        } else {
            self.subtree(0, n)
        }
    }

    /// Root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        root_at(self, size)
    }

    /// Inclusion proof for leaf `index` in the tree of size `tree_size`.
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash>, ProofError> {
        inclusion_proof_from(self, index, tree_size)
    }

    /// Index of the first leaf with this hash, if any (`O(n)` scan; the node keeps an index
    /// from leaf hash to position in its store).
    pub fn find(&self, leaf: &Hash) -> Option<u64> {
        self.levels
            .first()?
            .iter()
            .position(|h| h == leaf)
            .map(|i| i as u64)
    }

    /// Inclusion proof for the first leaf with this hash.
    pub fn inclusion_proof_by_hash(
        &self,
        leaf: &Hash,
        tree_size: u64,
    ) -> Result<(u64, Vec<Hash>), ProofError> {
        let index = self
            .find(leaf)
            .filter(|&i| i < tree_size)
            .ok_or(ProofError::LeafNotFound { size: tree_size })?;
        Ok((index, self.inclusion_proof(index, tree_size)?))
    }

    /// Consistency proof between sizes `old` and `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        consistency_proof_from(self, old, new)
    }

    fn perfect(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}

impl HashSource for CompactTree {
    fn leaf(&self, index: u64) -> Hash {
        self.perfect(0, index).unwrap_or([0; 32])
    }

    fn size(&self) -> u64 {
        CompactTree::size(self)
    }

    fn subtree(&self, start: u64, len: u64) -> Hash {
        // Perfect aligned block: one lookup.
        if len.is_power_of_two() && start.is_multiple_of(len) {
            let level = len.trailing_zeros();
            if let Some(h) = self.perfect(level, start >> level) {
                return h;
            }
        }
        if len == 1 {
            return self.leaf(start);
        }
        let k = split(len);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }
}
