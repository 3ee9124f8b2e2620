//! `hallmark log check`: recompute the transparency log from the store and compare.
//!
//! The check trusts nothing stored about the log itself. It recomputes every leaf from the
//! audit event it records (`AuditRecord::leaf_hash`, i.e. core's
//! `hallmark_core::tlog::event::LeafEvent`, the leaf definition the store wrote with),
//! compares it with the stored leaf
//! hash, rebuilds the Merkle tree from the *recomputed* leaves, and compares every stored
//! checkpoint's size, root and (given the log's verifier key) signature with it. It reports
//! the first divergence: a modified or missing audit row, a modified leaf, a checkpoint whose
//! root no longer matches the events, or a checkpoint with a bad signature.

use hallmark_core::tlog::event::{
    Action, CredentialHashes, Detail, KeyAuthenticated, KeyRegistered, KeyStatusChanged,
    Publication,
};
use hallmark_core::tlog::{self, CompactTree, VerifierKey};

use crate::{Store, StoreError};

/// What the check found first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Divergence {
    /// The stored leaf hash differs from the hash of the audit event it records.
    #[error("leaf {index} (audit event {seq}) does not match its audit event: the event or the leaf was changed")]
    LeafMismatch {
        /// Leaf index.
        index: u64,
        /// Audit sequence number.
        seq: u64,
    },
    /// An audit event has no leaf.
    #[error("audit event {seq} has no log leaf {index}")]
    MissingLeaf {
        /// Leaf index.
        index: u64,
        /// Audit sequence number.
        seq: u64,
    },
    /// A leaf exists beyond the last audit event.
    #[error("log leaf {index} has no audit event")]
    ExtraLeaf {
        /// Leaf index.
        index: u64,
    },
    /// Audit sequence numbers are not 1, 2, 3, …
    #[error("audit sequence has a gap or disorder at {seq} (expected {expected})")]
    AuditGap {
        /// The sequence number found.
        seq: u64,
        /// The one expected.
        expected: u64,
    },
    /// A checkpoint commits to a root the recomputed log does not have at that size.
    #[error("checkpoint at size {size} does not match the log recomputed from the audit events")]
    CheckpointRoot {
        /// Its tree size.
        size: u64,
    },
    /// A checkpoint claims more leaves than the log has.
    #[error("checkpoint at size {size} is beyond the log's {leaves} leaves")]
    CheckpointBeyondLog {
        /// Its tree size.
        size: u64,
        /// Leaves in the log.
        leaves: u64,
    },
    /// A checkpoint's signed note does not verify or disagrees with its row.
    #[error("checkpoint at size {size}: {reason}")]
    CheckpointNote {
        /// Its tree size.
        size: u64,
        /// Why.
        reason: String,
    },
}

/// The outcome of [`check_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    /// Leaves (= audit events) examined.
    pub leaves: u64,
    /// Checkpoints examined.
    pub checkpoints: usize,
    /// Root of the recomputed log.
    pub root: tlog::Hash,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
}

const PAGE: u32 = 1_000;

/// Recompute the log from the audit events and compare leaves and checkpoints.
///
/// With `verifier`, every checkpoint's signed note must also verify under the log key.
pub async fn check_log(
    store: &dyn Store,
    verifier: Option<&VerifierKey>,
) -> Result<LogCheck, StoreError> {
    let mut tree = CompactTree::new();
    let mut divergence = None;
    let mut next_seq = 1u64;
    loop {
        let events = store.list_audit(next_seq, PAGE).await?;
        let leaves = store.list_leaf_hashes(next_seq - 1, PAGE).await?;
        if events.is_empty() {
            if let (None, Some(_)) = (&divergence, leaves.first()) {
                divergence = Some(Divergence::ExtraLeaf {
                    index: next_seq - 1,
                });
            }
            break;
        }
        for (i, event) in events.iter().enumerate() {
            let index = next_seq - 1;
            if divergence.is_none() && event.seq != next_seq {
                divergence = Some(Divergence::AuditGap {
                    seq: event.seq,
                    expected: next_seq,
                });
            }
            let recomputed = event.leaf_hash()?;
            if divergence.is_none() {
                match leaves.get(i) {
                    None => {
                        divergence = Some(Divergence::MissingLeaf {
                            index,
                            seq: event.seq,
                        })
                    }
                    Some(stored) if *stored != recomputed => {
                        divergence = Some(Divergence::LeafMismatch {
                            index,
                            seq: event.seq,
                        })
                    }
                    Some(_) => {}
                }
            }
            tree.push_hash(recomputed);
            next_seq += 1;
        }
    }
    let checkpoints = store.list_checkpoints().await?;
    for c in &checkpoints {
        if divergence.is_some() {
            break;
        }
        divergence = check_checkpoint(&tree, c, verifier);
    }
    Ok(LogCheck {
        leaves: tree.size(),
        checkpoints: checkpoints.len(),
        root: tree.root(),
        divergence,
    })
}

fn check_checkpoint(
    tree: &CompactTree,
    c: &crate::CheckpointRecord,
    verifier: Option<&VerifierKey>,
) -> Option<Divergence> {
    let size = c.tree_size;
    if size > tree.size() {
        return Some(Divergence::CheckpointBeyondLog {
            size,
            leaves: tree.size(),
        });
    }
    match tree.root_at(size) {
        Ok(root) if root == c.root_hash => {}
        _ => return Some(Divergence::CheckpointRoot { size }),
    }
    let note = |reason: String| Some(Divergence::CheckpointNote { size, reason });
    let body = match verifier {
        Some(key) => match tlog::verify_checkpoint(&c.note, key.name(), key.verifying_key()) {
            Ok(cp) => cp,
            Err(e) => return note(e.to_string()),
        },
        None => {
            let text = c.note.split("\n\n").next().unwrap_or_default();
            match tlog::Checkpoint::parse_text(&format!("{text}\n")) {
                Ok(cp) => cp,
                Err(e) => return note(e.to_string()),
            }
        }
    };
    if body.size != size || body.root != c.root_hash {
        return note("the signed note names a different size or root than its row".into());
    }
    None
}

/// A row the node did not write, named by what it forges (`hallmark log check` with the
/// node's row-authentication keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    /// A log leaf after row authentication began that does not match its event or lacks
    /// the node's tag.
    #[error("forged leaf {index} (audit event {seq}, {action}): {reason}{}", if *quarantined { " [quarantined]" } else { "" })]
    ForgedLeaf {
        /// Leaf index.
        index: u64,
        /// Audit sequence number of the event it points at.
        seq: u64,
        /// That event's action.
        action: String,
        /// What is wrong.
        reason: &'static str,
        /// Whether the operator quarantined it.
        quarantined: bool,
    },
    /// A published version with no node-authenticated `passport.published` event whose
    /// credential hashes match the stored bytes.
    #[error("forged version {passport} v{version}: {reason}")]
    ForgedVersion {
        /// Passport id.
        passport: String,
        /// Version.
        version: u32,
        /// What is wrong.
        reason: String,
    },
    /// A signing-key row without the node's valid tag.
    #[error("unauthenticated signing-key row {key_id}: {reason}")]
    UnauthenticatedKeyRow {
        /// Key id.
        key_id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A signing-key row no node-authenticated key event registered, or whose status no
    /// authenticated event set.
    #[error("foreign key {key_id}: {reason}")]
    ForeignKey {
        /// Key id.
        key_id: String,
        /// What is wrong.
        reason: String,
    },
    /// An API-key row with no node-authenticated `api-key.created` event.
    #[error("unauthenticated API key {prefix}: no node-authenticated api-key.created event")]
    UnauthenticatedApiKey {
        /// Its lookup prefix.
        prefix: String,
    },
}

/// The outcome of [`check_integrity`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegrityCheck {
    /// Leaves examined.
    pub leaves: u64,
    /// Leaves written before row authentication (trusted by the checkpoints over them).
    pub legacy_leaves: u64,
    /// Published versions examined.
    pub versions: u64,
    /// Every forgery found, in the order found.
    pub forgeries: Vec<Forgery>,
}

/// Cross-checks the rows the node trusts against the node's authenticated log: every leaf
/// must match its event and carry the node's tag (unless it predates row authentication);
/// every published version must have exactly one authenticated publish event whose
/// credential hashes match the stored bytes; every signing-key row must carry the node's
/// tag and match an authenticated key event (registration and latest status); every API
/// key must have an authenticated creation event. Reports every divergence, by name.
pub async fn check_integrity(
    store: &dyn Store,
    keys: &hallmark_core::integrity::IntegrityKeys,
) -> Result<IntegrityCheck, StoreError> {
    use crate::{LeafCheck, PassportFilter, SigningKeyStatus};
    use std::collections::{BTreeMap, HashMap, HashSet};

    let mut out = IntegrityCheck::default();
    let first_tagged = store.first_tagged_leaf().await?;
    let quarantined: HashSet<u64> = store
        .list_quarantine()
        .await?
        .into_iter()
        .map(|q| q.leaf_index)
        .collect();
    // (passport, version) → the authenticated publish events' credential hashes (`None`:
    // the event records none, or not as a publication does).
    let mut published: HashMap<(String, u64), Vec<Option<CredentialHashes>>> = HashMap::new();
    // key id → (registered public key, latest status from an authenticated event).
    let mut key_events: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    let mut api_keys_created: HashSet<String> = HashSet::new();
    let mut from = 0u64;
    loop {
        let leaves = store.list_leaves(from, PAGE).await?;
        let n = leaves.len();
        for leaf in leaves {
            from = leaf.index + 1;
            out.leaves += 1;
            let authentic = if leaf.index < first_tagged {
                out.legacy_leaves += 1;
                true
            } else {
                match leaf.check(keys) {
                    LeafCheck::Authentic => true,
                    other => {
                        out.forgeries.push(Forgery::ForgedLeaf {
                            index: leaf.index,
                            seq: leaf.event.seq,
                            action: leaf.event.event.action.clone(),
                            reason: match other {
                                LeafCheck::Mismatch => "its hash does not match its audit event",
                                LeafCheck::BadTag => "its tag is not the node's",
                                _ => "it has no tag",
                            },
                            quarantined: quarantined.contains(&leaf.index),
                        });
                        false
                    }
                }
            };
            if !authentic {
                continue;
            }
            let e = &leaf.event.event;
            let subject = e.subject.clone().unwrap_or_default();
            match e.known_action() {
                Some(Action::PassportPublished) => {
                    if let (Some(p), Some(v)) =
                        (e.passport, e.detail.get("version").and_then(|v| v.as_u64()))
                    {
                        published.entry((p.to_string(), v)).or_default().push(
                            Publication::from_value(&e.detail)
                                .ok()
                                .and_then(|d| d.credential_sha256),
                        );
                    }
                }
                Some(Action::ApiKeyCreated) => {
                    api_keys_created.insert(subject);
                }
                Some(a) if a.is_signing_key() => {
                    let entry = key_events.entry(subject).or_default();
                    let status = match a {
                        Action::SigningKeyRegistered => {
                            let d = KeyRegistered::from_value(&e.detail).ok();
                            // Events from before the public key was recorded name none ("").
                            entry.0 = Some(
                                d.as_ref()
                                    .and_then(|d| d.public_key_multibase.clone())
                                    .unwrap_or_default(),
                            );
                            d.map(|d| d.status)
                        }
                        Action::SigningKeyAuthenticated => KeyAuthenticated::from_value(&e.detail)
                            .ok()
                            .map(|d| d.status),
                        _ => KeyStatusChanged::from_value(&e.detail).ok().map(|d| d.to),
                    };
                    if let Some(s) = status {
                        entry.1 = Some(s);
                    }
                }
                _ => {}
            }
        }
        if n < PAGE as usize {
            break;
        }
    }

    // Published versions.
    let mut after = None;
    loop {
        let page = store
            .list_passports(&PassportFilter::default(), after.as_ref(), crate::MAX_PAGE)
            .await?;
        for p in &page.items {
            for version in 1..=p.current_version {
                out.versions += 1;
                let v = store.get_version(&p.id, Some(version)).await?;
                let expected = CredentialHashes::new(
                    &sha2_digest(&v.credentials.public.data_integrity),
                    &sha2_digest(&v.credentials.legitimate_interest.data_integrity),
                    &sha2_digest(&v.credentials.authority.data_integrity),
                );
                let events = published
                    .get(&(p.id.to_string(), u64::from(version)))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let reason = match events {
                    [] => Some("no node-authenticated publish event".to_string()),
                    [Some(one)] if *one == expected => None,
                    [_] => Some(
                        "the stored credentials differ from the hashes its publish event names"
                            .to_string(),
                    ),
                    more => Some(format!("{} publish events", more.len())),
                };
                if let Some(reason) = reason {
                    out.forgeries.push(Forgery::ForgedVersion {
                        passport: p.id.to_string(),
                        version,
                        reason,
                    });
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    // Signing-key rows.
    let mut seen = BTreeMap::new();
    for row in store.list_signing_keys().await? {
        seen.insert(row.key_id.clone(), ());
        if !row.is_authentic(keys) {
            out.forgeries.push(Forgery::UnauthenticatedKeyRow {
                key_id: row.key_id.clone(),
                reason: if row.tag.is_some() {
                    "its tag is not the node's (the row was written or changed by someone else)"
                } else {
                    "it has no tag"
                },
            });
        }
        match key_events.get(&row.key_id) {
            None | Some((None, _)) => out.forgeries.push(Forgery::ForeignKey {
                key_id: row.key_id.clone(),
                reason: "no node-authenticated signing-key.registered event".into(),
            }),
            Some((Some(registered), status)) => {
                // Events from before the public key was recorded in them name no key.
                if !registered.is_empty() && *registered != row.public_key_multibase {
                    out.forgeries.push(Forgery::ForeignKey {
                        key_id: row.key_id.clone(),
                        reason: "its public key differs from the one registered".into(),
                    });
                }
                if status.as_deref() != Some(row.status.as_str())
                    && !(row.status == SigningKeyStatus::Current && status.is_none())
                {
                    out.forgeries.push(Forgery::ForeignKey {
                        key_id: row.key_id.clone(),
                        reason: format!(
                            "its status {} was not set by a node-authenticated event (last: {})",
                            row.status.as_str(),
                            status.as_deref().unwrap_or("none")
                        ),
                    });
                }
            }
        }
    }

    // API keys.
    for key in store.list_api_keys().await? {
        if !api_keys_created.contains(&key.prefix) {
            out.forgeries
                .push(Forgery::UnauthenticatedApiKey { prefix: key.prefix });
        }
    }
    Ok(out)
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
