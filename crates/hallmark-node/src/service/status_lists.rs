//! Status lists (W3C Bitstring Status List v1.0; verifier and operator guide:
//! `docs/status.md`): where a passport's status bits live, and every signed version of each
//! list.
//!
//! - **Positions.** A passport gets one [`StatusRef`] at its first publication (since status
//!   lists; a passport published before gets one at its next publication): the open list —
//!   the highest list filled below [`OPEN_LIST_FILL`] positions, else the next one — and a
//!   position drawn uniformly at random in it ([`hallmark_keys::random_u32`]), so positions
//!   reveal nothing about publication order. The position is stored in the publish
//!   transaction; one another passport took meanwhile is drawn again (at most
//!   [`MAX_ATTEMPTS`] times).
//! - **Lists.** Every list in use has a signed version for both purposes from start-up
//!   ([`Service::ensure_status_lists`]) or from the moment its first position is drawn.
//! - **Changes.** A status change signs the affected list's next version before the write
//!   and hands it to the store's status change: the status, the list version and both audit
//!   events commit in one transaction, so the list served is never behind the status. A
//!   version another writer stored first (the list moved on) is re-read, re-signed and
//!   retried ([`MAX_ATTEMPTS`]).
//! - **Validity.** A list is valid for 24 hours from signing
//!   ([`hallmark_core::status::LIST_VALIDITY_SECS`]); [`Service::refresh_status_lists`]
//!   (every [`REFRESH_INTERVAL`] from `crate::node`) signs a new version with the same bits
//!   of every list whose latest version expires within [`REFRESH_MARGIN`].

use super::{events, now, Service, ServiceError};
use crate::positions::OpenList;
use hallmark_core::passport::PassportStatus;
use hallmark_core::status::{BitstringStatusList, StatusPurpose, StatusRef, LIST_SIZE};
use hallmark_store::{NewStatusListVersion, StatusListRecord, StoreError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// A list stays open for new positions until this many positions are taken (half the list):
/// every list keeps at least half its positions free, so a random draw rarely collides, and
/// each list holds at least this many passports before the next one opens.
pub const OPEN_LIST_FILL: u64 = LIST_SIZE as u64 / 2;

/// Draws of a position, or re-signings of a list that moved on, before giving up.
pub const MAX_ATTEMPTS: usize = 8;

/// A list whose latest version expires within this margin is re-signed.
pub const REFRESH_MARGIN: time::Duration = time::Duration::hours(1);

/// How often the node looks for lists to re-sign.
pub const REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The actor of list versions signed by the node itself (start-up, re-signing).
pub const NODE_ACTOR: &str = "node:status-lists";

/// What a passport's status lists say now (the latest stored versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedStatus {
    /// The passport's position.
    pub at: StatusRef,
    /// The suspension bit (`None`: the list has no version).
    pub suspended: Option<bool>,
    /// The revocation bit (`None`: the list has no version).
    pub revoked: Option<bool>,
}

/// The bit a status change sets or clears in each purpose's list: suspend sets the
/// suspension bit, resume and archive clear it (archived: neither bit), deactivate sets the
/// revocation bit (the suspension bit stays as it is; revocation decides).
pub fn bits_for(to: PassportStatus) -> &'static [(StatusPurpose, bool)] {
    match to {
        PassportStatus::Suspended => &[(StatusPurpose::Suspension, true)],
        PassportStatus::Published | PassportStatus::Archived => {
            &[(StatusPurpose::Suspension, false)]
        }
        PassportStatus::Deactivated => &[(StatusPurpose::Revocation, true)],
        PassportStatus::Draft => &[],
    }
}

impl Service<'_> {
    /// Signs version `version` of list `list` of `purpose` with `bits`, and its
    /// `status-list.published` event, ready for the store.
    async fn sign_list(
        &self,
        actor: &str,
        purpose: StatusPurpose,
        list: u32,
        version: u32,
        bits: &BitstringStatusList,
        at: OffsetDateTime,
    ) -> Result<NewStatusListVersion, ServiceError> {
        let signer = self.passport_signer().await?;
        let secured =
            self.app
                .issuer
                .issue_status_list(purpose, list, bits, signer.as_ref(), at)?;
        let jwt_sha256: [u8; 32] = Sha256::digest(secured.jwt.as_bytes()).into();
        let event = events::status_list_published(
            actor,
            at,
            purpose,
            list,
            version,
            &secured.sha256,
            &jwt_sha256,
        )?;
        // validFrom is the signing time to the second (core's list_credential).
        let valid_from = at
            .replace_nanosecond(0)
            .map_err(|e| ServiceError::internal("status list time", e))?;
        Ok(NewStatusListVersion {
            purpose,
            list,
            version,
            credential: secured.data_integrity,
            credential_jwt: secured.jwt,
            encoded_list: bits
                .encode()
                .map_err(|e| ServiceError::internal("status list encoding", e))?,
            valid_from,
            valid_until: valid_from
                + time::Duration::seconds(hallmark_core::status::LIST_VALIDITY_SECS),
            event,
        })
    }

    /// The next version of `purpose`'s list `list` with `bits` (the first one if the list has
    /// none), signed now.
    async fn next_version(
        &self,
        actor: &str,
        purpose: StatusPurpose,
        list: u32,
        latest: Option<&StatusListRecord>,
        bits: &BitstringStatusList,
    ) -> Result<NewStatusListVersion, ServiceError> {
        let version = latest.map_or(1, |l| l.version.saturating_add(1));
        self.sign_list(actor, purpose, list, version, bits, now())
            .await
    }

    /// Every list in use (0 at least, up to `Store::last_status_list`) has a version for
    /// both purposes: a missing one is signed (all bits clear) and stored. Another node
    /// storing it first is fine.
    pub async fn ensure_status_lists(&self) -> Result<(), ServiceError> {
        let last = self.app.store.last_status_list().await?.unwrap_or(0);
        for list in 0..=last {
            self.ensure_list(list).await?;
        }
        Ok(())
    }

    /// List `list` has a version for both purposes.
    async fn ensure_list(&self, list: u32) -> Result<(), ServiceError> {
        let store = &self.app.store;
        for purpose in StatusPurpose::ALL {
            if store.status_list_latest(purpose, list).await?.is_some() {
                continue;
            }
            let first = self
                .next_version(NODE_ACTOR, purpose, list, None, &BitstringStatusList::new())
                .await?;
            match store.put_status_list(first).await {
                Ok(_) | Err(StoreError::StatusListConflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            self.app.status_list_changed();
        }
        Ok(())
    }

    /// A new passport's position: the open list (the highest list with fewer than
    /// [`OPEN_LIST_FILL`] positions taken, else the next one, whose first versions are
    /// signed now), and a position drawn at random among its free ones. The open list's
    /// positions are held in memory (`crate::positions`): read from the store once per
    /// list, marked as they are given out. Not stored here: the publish transaction stores
    /// it (or refuses it, taken by another node, and the caller calls
    /// [`Service::status_position_taken`] and draws again).
    pub(crate) async fn draw_status_position(&self) -> Result<StatusRef, ServiceError> {
        let store = &self.app.store;
        let mut held = self.app.status_positions.open.lock().await;
        loop {
            let load = match held.as_ref() {
                Some(open) if open.count() < OPEN_LIST_FILL => None,
                Some(full) => Some(full.list().checked_add(1).ok_or_else(|| {
                    ServiceError::internal("status lists", "every status list number is used")
                })?),
                None => Some(store.last_status_list().await?.unwrap_or(0)),
            };
            if let Some(list) = load {
                self.ensure_list(list).await?;
                let taken = store.status_positions(list).await?;
                *held = Some(OpenList::new(list, &taken));
            }
            let Some(open) = held.as_mut() else { continue };
            if open.count() >= OPEN_LIST_FILL {
                continue;
            }
            if let Some(drawn) = open.draw(hallmark_keys::random_u32)? {
                return Ok(drawn);
            }
        }
    }

    /// A position drawn here was taken meanwhile by another node sharing the database: the
    /// open list's positions are read again at the next draw.
    pub(crate) async fn status_position_taken(&self) {
        self.app.status_positions.forget().await;
    }

    /// The list versions a status change of a passport at `at` to `to` needs: for each
    /// purpose whose bit changes ([`bits_for`]), the latest version's bits with the
    /// passport's bit changed, signed as the next version. None when no bit changes.
    pub(crate) async fn list_changes(
        &self,
        actor: &str,
        at: StatusRef,
        to: PassportStatus,
    ) -> Result<Vec<NewStatusListVersion>, ServiceError> {
        let mut out = Vec::new();
        for &(purpose, value) in bits_for(to) {
            let latest = self.app.store.status_list_latest(purpose, at.list).await?;
            let mut bits = match &latest {
                Some(l) => BitstringStatusList::decode(&l.encoded_list)
                    .map_err(|e| ServiceError::internal("stored status list", e))?,
                None => BitstringStatusList::new(),
            };
            let bit = bits
                .get(at.index)
                .map_err(|e| ServiceError::internal("status list position", e))?;
            if bit == value {
                continue;
            }
            bits.set(at.index, value)
                .map_err(|e| ServiceError::internal("status list position", e))?;
            out.push(
                self.next_version(actor, purpose, at.list, latest.as_ref(), &bits)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Re-signs, with the same bits, every list whose latest version's `validUntil` is
    /// within `margin` of now (or past), so that a list served is always within its
    /// validity while the node can sign. Answers how many versions it stored. A version
    /// another writer stored first is left to it.
    pub async fn refresh_status_lists(&self, margin: time::Duration) -> Result<u32, ServiceError> {
        let store = &self.app.store;
        let Some(last) = store.last_status_list().await? else {
            return Ok(0);
        };
        let mut stored = 0;
        for list in 0..=last {
            for purpose in StatusPurpose::ALL {
                let latest = store.status_list_latest(purpose, list).await?;
                let bits = match &latest {
                    Some(l) if l.valid_until - now() > margin => continue,
                    Some(l) => BitstringStatusList::decode(&l.encoded_list)
                        .map_err(|e| ServiceError::internal("stored status list", e))?,
                    None => BitstringStatusList::new(),
                };
                let next = self
                    .next_version(NODE_ACTOR, purpose, list, latest.as_ref(), &bits)
                    .await?;
                match store.put_status_list(next).await {
                    Ok(_) => stored += 1,
                    Err(StoreError::StatusListConflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                self.app.status_list_changed();
            }
        }
        Ok(stored)
    }

    /// The latest version of a list (`version` `None`) or the given one; `NotFound` for a
    /// list or version that does not exist.
    pub async fn status_list(
        &self,
        purpose: StatusPurpose,
        list: u32,
        version: Option<u32>,
    ) -> Result<StatusListRecord, ServiceError> {
        let store = &self.app.store;
        let record = match version {
            None => store.status_list_latest(purpose, list).await?,
            Some(v) => store.status_list_version(purpose, list, v).await?,
        };
        record.ok_or(ServiceError::NotFound)
    }

    /// What the latest lists say about passport `id`, if it has a position.
    pub async fn listed_status_of(
        &self,
        id: &hallmark_core::passport::PassportId,
    ) -> Result<Option<ListedStatus>, ServiceError> {
        match self.app.store.status_index(id).await? {
            Some(at) => Ok(Some(self.listed_status(at).await?)),
            None => Ok(None),
        }
    }

    /// What the latest lists say about a passport at `at`.
    pub async fn listed_status(&self, at: StatusRef) -> Result<ListedStatus, ServiceError> {
        let bit = |purpose| async move {
            let Some(l) = self.app.store.status_list_latest(purpose, at.list).await? else {
                return Ok::<_, ServiceError>(None);
            };
            let bits = BitstringStatusList::decode(&l.encoded_list)
                .map_err(|e| ServiceError::internal("stored status list", e))?;
            Ok(bits.get(at.index).ok())
        };
        Ok(ListedStatus {
            at,
            suspended: bit(StatusPurpose::Suspension).await?,
            revoked: bit(StatusPurpose::Revocation).await?,
        })
    }
}

/// Starts the re-signer: every [`REFRESH_INTERVAL`], [`Service::ensure_status_lists`] and
/// [`Service::refresh_status_lists`] with [`REFRESH_MARGIN`]; it stops when `stop` becomes
/// true. A failure (custody cannot sign, the store does not answer) is logged and tried
/// again next interval; a list still expires only after 24 hours without a node that signs.
pub fn spawn_refresher(
    app: std::sync::Arc<crate::app::App>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(REFRESH_INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            let service = app.service();
            let result = match service.ensure_status_lists().await {
                Ok(()) => service.refresh_status_lists(REFRESH_MARGIN).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(versions = n, "status lists re-signed before expiry"),
                Err(e) => tracing::warn!(error = %e, "status lists: re-signing failed; retrying"),
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_change_moves_the_bits_it_should() {
        use StatusPurpose::{Revocation, Suspension};
        assert_eq!(bits_for(PassportStatus::Suspended), &[(Suspension, true)]);
        assert_eq!(bits_for(PassportStatus::Published), &[(Suspension, false)]);
        assert_eq!(bits_for(PassportStatus::Archived), &[(Suspension, false)]);
        assert_eq!(bits_for(PassportStatus::Deactivated), &[(Revocation, true)]);
        assert!(bits_for(PassportStatus::Draft).is_empty());
        assert_eq!(OPEN_LIST_FILL, 65_536);
    }
}
