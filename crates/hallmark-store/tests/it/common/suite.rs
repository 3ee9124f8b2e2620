//! The conformance suite: the same behaviour, run against every backend through
//! `&dyn Store`. Each backend's test binary instantiates it with `conformance_tests!`.

use std::sync::Arc;

use hallmark_core::passport::{Granularity, PassportId, PassportStatus};
use hallmark_core::tlog::event::{Action, Detail, StatusListPublished};
use hallmark_store::{
    AuditEvent, LinkFilter, NewApiKey, PassportFilter, ProductKey, SigningKeyRecord,
    SigningKeyStatus, StatusPurpose, StatusRef, Store, StoreError,
};
use hallmark_testkit::StoreTestExt;
use sha2::{Digest, Sha256};

use super::{
    at, audit, batch, item, list_version, model, new_link, new_passport, new_passport_for,
    new_reader, new_version, new_version_at, public_sha256, reader_event, registration,
};

/// Generates one `#[tokio::test]` per conformance case, each with a fresh harness built
/// by `$new` (an async constructor whose value has `.store()`).
#[macro_export]
macro_rules! conformance_tests {
    ($new:expr) => {
        $crate::conformance_tests!(@cases $new;
            create_draft_and_read_back,
            update_draft_while_pending,
            publish_first_version,
            new_version_of_published_passport,
            publish_refusals,
            lifecycle_and_terminal_states,
            invalid_transitions_are_typed,
            list_filters_and_keyset_pagination,
            audit_is_gapless_and_ordered,
            api_keys,
            signing_keys,
            failed_audit_rolls_back_status_change,
            failed_audit_rolls_back_publish,
            failed_audit_rolls_back_create,
            concurrent_writers_get_gapless_sequence,
            concurrent_publishers_of_one_passport,
            not_found_errors,
            every_audit_event_is_a_log_leaf,
            publish_seq_finds_each_versions_publish_event,
            pending_and_publish_answer_as_the_separate_calls,
            failing_writes_among_concurrent_ones_fail_alone,
            live_identifier_is_unique_at_its_granularity,
            deactivated_identifier_is_free_for_a_successor,
            concurrent_creates_of_one_identifier,
            committed_follows_the_writer,
            product_links_added_listed_and_removed,
            status_positions_are_unique_and_taken_at_publication,
            status_list_versions_append_in_sequence,
            status_change_writes_its_list_versions_atomically,
            concurrent_status_changes_of_one_list_conflict,
            import_jobs_write_each_item_whole_or_not_at_all,
            failing_import_jobs_among_concurrent_ones_fail_alone,
            registry_registrations_are_recorded_once_per_version,
            registry_pending_lists_published_current_versions,
            readers_register_inert_and_change_by_approval,
            request_nonces_are_used_once,
            outbox_events_exist_iff_their_change_committed,
            outbox_relay_lease_and_delivery_marks,
            webhooks_subscribe_log_attempts_and_disable,
        );
    };
    (@cases $new:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let harness = $new.await;
                common::suite::$case(Arc::new(harness.store().clone())).await;
            }
        )*
    };
}

type S = Arc<dyn Store>;

async fn published(s: &S, gtin: &str) -> hallmark_core::passport::PassportId {
    let p = s
        .create_draft(new_passport(gtin, "battery"), audit(0, "passport.create"))
        .await
        .unwrap();
    s.publish(&p.id, new_version(1, 1), audit(1, "passport.publish"))
        .await
        .unwrap();
    p.id
}

/// The audit event of publishing `version` (its detail names the version, as the node's).
fn publish(n: i64, version: u32) -> AuditEvent {
    let mut a = audit(n, "passport.published");
    a.detail = serde_json::json!({ "version": version });
    a
}

fn bad_audit() -> AuditEvent {
    // Violates the audit table's CHECK (action is 1–128 characters): fails at the LAST
    // statement of the transaction, after the change itself has been written.
    AuditEvent::new(at(50), "test-operator", "")
}

pub async fn create_draft_and_read_back(s: S) {
    let new = new_passport("04012345678901", "battery");
    let rec = s
        .create_draft(new.clone(), audit(0, "passport.create"))
        .await
        .unwrap();
    assert_eq!(rec.id, new.id);
    assert_eq!(rec.status, PassportStatus::Draft);
    assert_eq!(rec.current_version, 0);
    assert_eq!(rec.created_at, at(0));
    assert_eq!(rec.published_at, None);
    assert_eq!(s.get_passport(&new.id).await.unwrap(), rec);
    let draft = s.get_draft(&new.id).await.unwrap().unwrap();
    assert_eq!(draft.version, 1);
    assert_eq!(draft.content, new.content);
    let history = s.history(&new.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].event.action, "passport.create");
    assert_eq!(history[0].event.passport.as_ref(), Some(&new.id));
    assert_eq!(history[0].event.detail["note"], "passport.create");
    // Same id twice: conflict.
    let again = s.create_draft(new, audit(1, "passport.create")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

pub async fn update_draft_while_pending(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let d = s
        .update_draft(
            &p.id,
            b"{\"edited\":true}".to_vec(),
            None,
            audit(5, "passport.edit"),
        )
        .await
        .unwrap();
    assert_eq!(d.version, 1);
    assert_eq!(d.content, b"{\"edited\":true}");
    assert_eq!(d.updated_at, at(5));
    assert_eq!(s.get_passport(&p.id).await.unwrap().updated_at, at(5));
    assert_eq!(
        s.get_draft(&p.id).await.unwrap().unwrap().content,
        b"{\"edited\":true}"
    );
}

pub async fn publish_first_version(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let v = new_version(1, 9);
    let (stored, _) = s
        .publish(&p.id, v.clone(), audit(10, "passport.publish"))
        .await
        .unwrap();
    let expected: [u8; 32] = Sha256::digest(&v.content).into();
    assert_eq!(stored.content_sha256, expected);
    let rec = s.get_passport(&p.id).await.unwrap();
    assert_eq!(rec.status, PassportStatus::Published);
    assert_eq!(rec.current_version, 1);
    assert_eq!(rec.published_at, Some(at(10)));
    let read = s.get_version(&p.id, None).await.unwrap();
    assert_eq!(read, stored);
    assert_eq!(
        read.credentials, v.credentials,
        "bytes stored exactly as issued"
    );
    assert_eq!(read.signed_at, at(9));
    assert_eq!(s.get_version(&p.id, Some(1)).await.unwrap(), stored);
    assert_eq!(s.get_draft(&p.id).await.unwrap(), None, "no pending draft");
    let upd = s
        .update_draft(&p.id, b"{}".to_vec(), None, audit(11, "e"))
        .await;
    assert!(matches!(upd, Err(StoreError::NotFound(_))), "{upd:?}");
}

pub async fn new_version_of_published_passport(s: S) {
    let id = published(&s, "04012345678901").await;
    let v1 = s.get_version(&id, Some(1)).await.unwrap();
    let d = s
        .start_version(
            &id,
            b"{\"v\":2}".to_vec(),
            None,
            audit(20, "passport.revise"),
        )
        .await
        .unwrap();
    assert_eq!(d.version, 2);
    let twice = s
        .start_version(&id, b"{}".to_vec(), None, audit(21, "r"))
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    s.update_draft(&id, b"{\"v\":2.1}".to_vec(), None, audit(22, "e"))
        .await
        .unwrap();
    // Still published at version 1 while the draft is pending.
    let rec = s.get_passport(&id).await.unwrap();
    assert_eq!(
        (rec.status, rec.current_version),
        (PassportStatus::Published, 1)
    );
    let (v2, _) = s
        .publish(&id, new_version(2, 23), audit(24, "passport.publish"))
        .await
        .unwrap();
    let rec = s.get_passport(&id).await.unwrap();
    assert_eq!(rec.current_version, 2);
    assert_eq!(rec.published_at, Some(at(1)), "first publication time kept");
    assert_eq!(s.get_version(&id, None).await.unwrap(), v2);
    assert_eq!(
        s.get_version(&id, Some(1)).await.unwrap(),
        v1,
        "v1 unchanged"
    );
    assert_eq!(
        s.version_times(&id).await.unwrap(),
        vec![(1, v1.signed_at), (2, v2.signed_at)],
        "every version with its signing time, oldest first"
    );
    // A draft cannot start a new version.
    let draft = s
        .create_draft(new_passport("04012345678901", "battery"), audit(25, "c"))
        .await
        .unwrap();
    let r = s
        .start_version(&draft.id, b"{}".to_vec(), None, audit(26, "r"))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        s.version_times(&draft.id).await.unwrap(),
        vec![],
        "no version yet"
    );
}

pub async fn publish_refusals(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let wrong = s.publish(&p.id, new_version(2, 1), audit(1, "p")).await;
    assert!(matches!(wrong, Err(StoreError::Conflict(_))), "{wrong:?}");
    s.publish(&p.id, new_version(1, 1), audit(1, "p"))
        .await
        .unwrap();
    // No pending draft for version 2.
    let no_draft = s.publish(&p.id, new_version(2, 2), audit(2, "p")).await;
    assert!(
        matches!(no_draft, Err(StoreError::Conflict(_))),
        "{no_draft:?}"
    );
    // Republishing version 1.
    let again = s.publish(&p.id, new_version(1, 2), audit(2, "p")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // Suspended: resume first.
    s.start_version(&p.id, b"{}".to_vec(), None, audit(3, "r"))
        .await
        .unwrap();
    s.suspend(&p.id, "investigation".into(), audit(4, "s"))
        .await
        .unwrap();
    let susp = s.publish(&p.id, new_version(2, 5), audit(5, "p")).await;
    assert!(matches!(susp, Err(StoreError::Conflict(_))), "{susp:?}");
    assert_eq!(s.get_passport(&p.id).await.unwrap().current_version, 1);
}

pub async fn lifecycle_and_terminal_states(s: S) {
    let id = published(&s, "04012345678901").await;
    let r = s
        .suspend(&id, "recall check".into(), audit(2, "s"))
        .await
        .unwrap();
    assert_eq!(r.status, PassportStatus::Suspended);
    assert_eq!(r.status_reason.as_deref(), Some("recall check"));
    let r = s.resume(&id, audit(3, "r")).await.unwrap();
    assert_eq!(
        (r.status, r.status_reason),
        (PassportStatus::Published, None)
    );
    s.start_version(&id, b"{}".to_vec(), None, audit(4, "v"))
        .await
        .unwrap();
    let r = s
        .archive(&id, Some("end of life".into()), audit(5, "a"))
        .await
        .unwrap();
    assert_eq!(r.status, PassportStatus::Archived);
    assert_eq!(r.updated_at, at(5));
    // Terminal: nothing changes any more.
    for to in PassportStatus::ALL {
        let e = s
            .change_status(&id, to, None, audit(6, "x"), Vec::new())
            .await;
        assert!(
            matches!(
                e,
                Err(StoreError::InvalidTransition { .. } | StoreError::Conflict(_))
            ),
            "{to}: {e:?}"
        );
    }
    let e = s
        .update_draft(&id, b"{}".to_vec(), None, audit(6, "e"))
        .await;
    assert!(matches!(e, Err(StoreError::ImmutableViolation(_))), "{e:?}");
    let e = s
        .start_version(&id, b"{}".to_vec(), None, audit(6, "e"))
        .await;
    assert!(matches!(e, Err(StoreError::ImmutableViolation(_))), "{e:?}");
    let e = s.publish(&id, new_version(2, 6), audit(6, "p")).await;
    assert!(matches!(e, Err(StoreError::ImmutableViolation(_))), "{e:?}");
    // Versions stay readable.
    assert_eq!(s.get_version(&id, None).await.unwrap().version, 1);

    // suspended -> deactivated
    let id2 = published(&s, "04012345678902").await;
    s.suspend(&id2, "fraud".into(), audit(2, "s"))
        .await
        .unwrap();
    let r = s
        .deactivate(&id2, "destroyed".into(), audit(3, "d"))
        .await
        .unwrap();
    assert_eq!(r.status, PassportStatus::Deactivated);
    let e = s.resume(&id2, audit(4, "r")).await;
    assert!(
        matches!(e, Err(StoreError::InvalidTransition { .. })),
        "{e:?}"
    );
}

pub async fn invalid_transitions_are_typed(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let e = s.suspend(&p.id, "x".into(), audit(1, "s")).await;
    assert_eq!(
        e,
        Err(StoreError::InvalidTransition {
            from: "draft".into(),
            to: "suspended".into()
        })
    );
    let e = s.archive(&p.id, None, audit(1, "a")).await;
    assert!(
        matches!(e, Err(StoreError::InvalidTransition { .. })),
        "{e:?}"
    );
    let e = s
        .change_status(
            &p.id,
            PassportStatus::Published,
            None,
            audit(1, "p"),
            Vec::new(),
        )
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let id = published(&s, "04012345678902").await;
    for to in [PassportStatus::Draft, PassportStatus::Published] {
        let e = s
            .change_status(&id, to, None, audit(2, "x"), Vec::new())
            .await;
        assert_eq!(
            e,
            Err(StoreError::InvalidTransition {
                from: "published".into(),
                to: to.as_str().into()
            })
        );
    }
    assert_eq!(
        s.get_passport(&id).await.unwrap().status,
        PassportStatus::Published
    );
}

pub async fn list_filters_and_keyset_pagination(s: S) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let sector = if i % 2 == 0 { "battery" } else { "generic" };
        let p = s
            .create_draft(
                new_passport(&format!("0401234567890{i}"), sector),
                audit(i, "c"),
            )
            .await
            .unwrap();
        ids.push(p.id);
    }
    s.publish(&ids[1], new_version(1, 9), audit(9, "p"))
        .await
        .unwrap();
    s.publish(&ids[3], new_version(1, 9), audit(9, "p"))
        .await
        .unwrap();
    let all = PassportFilter::default();
    let page1 = s.list_passports(&all, None, 2).await.unwrap();
    assert_eq!(
        page1.items.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&ids[0], &ids[1]]
    );
    let page2 = s
        .list_passports(&all, page1.next.as_ref(), 2)
        .await
        .unwrap();
    assert_eq!(
        page2.items.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&ids[2], &ids[3]]
    );
    let page3 = s
        .list_passports(&all, page2.next.as_ref(), 2)
        .await
        .unwrap();
    assert_eq!(
        page3.items.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&ids[4]]
    );
    assert_eq!(page3.next, None);
    let published = PassportFilter {
        status: Some(PassportStatus::Published),
        ..Default::default()
    };
    let got = s.list_passports(&published, None, 10).await.unwrap();
    assert_eq!(
        got.items.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&ids[1], &ids[3]]
    );
    let generic_published = PassportFilter {
        status: Some(PassportStatus::Published),
        sector_id: Some("generic".into()),
        gtin: Some("04012345678903".into()),
    };
    let got = s
        .list_passports(&generic_published, None, 10)
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].id, ids[3]);
    let battery = PassportFilter {
        sector_id: Some("battery".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_passports(&battery, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}

pub async fn audit_is_gapless_and_ordered(s: S) {
    let id = published(&s, "04012345678901").await;
    s.append_audit(audit(5, "node.start")).await.unwrap();
    s.suspend(&id, "r".into(), audit(6, "s")).await.unwrap();
    let n = s.audit_len().await.unwrap();
    assert_eq!(n, 4);
    let all = s.list_audit(1, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(all[2].event.action, "node.start");
    assert_eq!(all[2].event.passport, None);
    let range = s.list_audit(2, 2).await.unwrap();
    assert_eq!(range.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![2, 3]);
    let history = s.history(&id).await.unwrap();
    assert_eq!(
        history.iter().map(|a| a.seq).collect::<Vec<_>>(),
        vec![1, 2, 4]
    );
}

pub async fn api_keys(s: S) {
    let key = NewApiKey {
        prefix: "hm_abc123".into(),
        hash: vec![7; 32],
        scope: "passports:write".into(),
        label: "ci".into(),
        expires_at: Some(at(1000)),
    };
    let rec = s
        .insert_api_key(key.clone(), audit(0, "apikey.create"))
        .await
        .unwrap();
    assert_eq!(rec.created_at, at(0));
    assert_eq!(
        s.find_api_key("hm_abc123").await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(s.find_api_key("hm_nope").await.unwrap(), None);
    let dup = s.insert_api_key(key, audit(1, "apikey.create")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    s.touch_api_key("hm_abc123", at(5)).await.unwrap();
    let e = s.touch_api_key("hm_nope", at(5)).await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");
    let revoked = s
        .revoke_api_key("hm_abc123", audit(6, "apikey.revoke"))
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(6)));
    assert_eq!(revoked.last_used_at, Some(at(5)));
    let e = s
        .revoke_api_key("hm_abc123", audit(7, "apikey.revoke"))
        .await;
    assert!(matches!(e, Err(StoreError::ImmutableViolation(_))), "{e:?}");
    assert_eq!(s.list_api_keys().await.unwrap(), vec![revoked]);
    assert_eq!(s.audit_len().await.unwrap(), 2);
}

pub async fn signing_keys(s: S) {
    let key = |id: &str| SigningKeyRecord {
        key_id: id.into(),
        purpose: "passport-signing".into(),
        backend: "file".into(),
        public_key_multibase: format!("z6Mk{id}"),
        status: SigningKeyStatus::Current,
        created_at: at(0),
        retired_at: None,
        revoked_at: None,
        revocation_reason: None,
        tag: None,
    };
    s.insert_signing_key(key("k1"), audit(0, "key.generate"))
        .await
        .unwrap();
    let second = s
        .insert_signing_key(key("k2"), audit(1, "key.generate"))
        .await;
    assert!(
        matches!(second, Err(StoreError::Conflict(_))),
        "one current key per purpose: {second:?}"
    );
    let retired = s
        .set_signing_key_status(
            "k1",
            SigningKeyStatus::Retired,
            None,
            audit(2, "key.rotate"),
        )
        .await
        .unwrap();
    assert_eq!(retired.retired_at, Some(at(2)));
    s.insert_signing_key(key("k2"), audit(2, "key.generate"))
        .await
        .unwrap();
    let back = s
        .set_signing_key_status("k1", SigningKeyStatus::Current, None, audit(3, "x"))
        .await;
    assert!(
        matches!(back, Err(StoreError::InvalidTransition { .. })),
        "{back:?}"
    );
    let revoked = s
        .set_signing_key_status(
            "k1",
            SigningKeyStatus::Revoked,
            Some("leak".into()),
            audit(4, "key.revoke"),
        )
        .await
        .unwrap();
    assert_eq!(
        (revoked.revoked_at, revoked.revocation_reason.as_deref()),
        (Some(at(4)), Some("leak"))
    );
    let again = s
        .set_signing_key_status("k1", SigningKeyStatus::Revoked, None, audit(5, "x"))
        .await;
    assert!(
        matches!(again, Err(StoreError::InvalidTransition { .. })),
        "{again:?}"
    );
    let list = s.list_signing_keys().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], revoked);
    assert_eq!(list[1].status, SigningKeyStatus::Current);
}

pub async fn failed_audit_rolls_back_status_change(s: S) {
    let id = published(&s, "04012345678901").await;
    let before = s.get_passport(&id).await.unwrap();
    let n = s.audit_len().await.unwrap();
    let e = s.suspend(&id, "x".into(), bad_audit()).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(
        s.get_passport(&id).await.unwrap(),
        before,
        "status change rolled back"
    );
    assert_eq!(s.audit_len().await.unwrap(), n);
    // And the store still works afterwards (head row not left locked or advanced).
    s.suspend(&id, "x".into(), audit(60, "s")).await.unwrap();
    assert_eq!(s.audit_len().await.unwrap(), n + 1);
    assert_eq!(s.list_audit(n + 1, 1).await.unwrap()[0].seq, n + 1);
}

pub async fn failed_audit_rolls_back_publish(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let e = s.publish(&p.id, new_version(1, 1), bad_audit()).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(
        s.get_passport(&p.id).await.unwrap(),
        p,
        "still an unpublished draft"
    );
    let v = s.get_version(&p.id, Some(1)).await;
    assert!(
        matches!(v, Err(StoreError::NotFound(_))),
        "no version persisted: {v:?}"
    );
    assert_eq!(s.audit_len().await.unwrap(), 1);
    // The same publication then succeeds.
    s.publish(&p.id, new_version(1, 1), audit(2, "p"))
        .await
        .unwrap();
}

pub async fn failed_audit_rolls_back_create(s: S) {
    let new = new_passport("04012345678901", "battery");
    let e = s.create_draft(new.clone(), bad_audit()).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    let g = s.get_passport(&new.id).await;
    assert!(matches!(g, Err(StoreError::NotFound(_))), "{g:?}");
    assert_eq!(s.audit_len().await.unwrap(), 0);
}

pub async fn concurrent_writers_get_gapless_sequence(s: S) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..5 {
                let p = s
                    .create_draft(
                        new_passport("04012345678901", "battery"),
                        audit(i * 10 + j, "c"),
                    )
                    .await
                    .unwrap();
                s.append_audit(audit(i * 10 + j, "tick")).await.unwrap();
                s.publish(&p.id, new_version(1, 1), audit(i * 10 + j, "p"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = s.list_audit(1, 1000).await.unwrap();
    assert_eq!(all.len(), 120);
    assert!(
        all.iter().enumerate().all(|(i, a)| a.seq == i as u64 + 1),
        "gapless 1..=120"
    );
    assert_eq!(s.audit_len().await.unwrap(), 120);
    // Concurrent writers: the log still has exactly one leaf per event, in audit order.
    let leaves = s.list_leaf_hashes(0, 1000).await.unwrap();
    let expected: Vec<[u8; 32]> = all.iter().map(|a| a.leaf_hash().unwrap()).collect();
    assert_eq!(leaves, expected);
}

/// Writes are committed in batches (one transaction, one savepoint per write). Many
/// concurrent writes, every third of which fails at its last statement: each failing write
/// gets its own error and leaves nothing, every other write is committed and acknowledged,
/// and the audit sequence and the log stay gapless.
pub async fn failing_writes_among_concurrent_ones_fail_alone(s: S) {
    let mut tasks = Vec::new();
    for i in 0..96u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let fail = i % 3 == 0;
            let event = if fail {
                bad_audit()
            } else {
                audit(i.into(), "c")
            };
            let new = new_passport("04012345678901", "battery");
            let id = new.id;
            (fail, id, s.create_draft(new, event).await)
        }));
    }
    let mut committed = Vec::new();
    for t in tasks {
        let (fail, id, result) = t.await.unwrap();
        if fail {
            assert!(result.is_err(), "a write with a bad audit event must fail");
            assert!(
                matches!(s.get_passport(&id).await, Err(StoreError::NotFound(_))),
                "a failed write leaves nothing"
            );
        } else {
            assert_eq!(result.unwrap().id, id);
            committed.push(id);
        }
    }
    assert_eq!(committed.len(), 64);
    for id in &committed {
        s.get_passport(id).await.unwrap();
    }
    let all = s.list_audit(1, 1000).await.unwrap();
    assert_eq!(all.len(), 64);
    assert!(all.iter().enumerate().all(|(i, a)| a.seq == i as u64 + 1));
    let leaves = s.list_leaf_hashes(0, 1000).await.unwrap();
    let expected: Vec<[u8; 32]> = all.iter().map(|a| a.leaf_hash().unwrap()).collect();
    assert_eq!(leaves, expected);
}

/// Every audit event is appended to the transparency log in the same transaction: leaf
/// `seq - 1` is the RFC 6962 leaf hash of the event's canonical bytes, recomputable by
/// anyone from the audit events alone; a rolled-back change leaves no leaf.
pub async fn every_audit_event_is_a_log_leaf(s: S) {
    let id = published(&s, "04012345678901").await;
    s.append_audit(audit(5, "node.start")).await.unwrap();
    assert!(s.suspend(&id, "r".into(), bad_audit()).await.is_err());
    s.suspend(&id, "recall".into(), audit(6, "passport.suspend"))
        .await
        .unwrap();
    let events = s.list_audit(1, 100).await.unwrap();
    let leaves = s.list_leaf_hashes(0, 100).await.unwrap();
    assert_eq!(leaves.len(), events.len());
    assert_eq!(leaves.len(), 4, "the failed suspend left no leaf");
    for (leaf, event) in leaves.iter().zip(&events) {
        let bytes = event.leaf_bytes().unwrap();
        assert_eq!(
            *leaf,
            hallmark_core::tlog::leaf_hash(&bytes),
            "leaf {}",
            event.seq - 1
        );
        // The leaf bytes are canonical JSON naming the event.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["seq"], event.seq);
        assert_eq!(v["action"], event.event.action.as_str());
    }
    assert_eq!(s.list_leaf_hashes(2, 1).await.unwrap(), vec![leaves[2]]);
    // Every leaf is found by its hash; an unknown hash is not.
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(s.find_leaf(leaf).await.unwrap(), Some(i as u64));
    }
    assert_eq!(s.find_leaf(&[0u8; 32]).await.unwrap(), None);
    // The tree over the stored leaves is the tree over the recomputed events.
    let recomputed: Vec<[u8; 32]> = events.iter().map(|e| e.leaf_hash().unwrap()).collect();
    assert_eq!(
        hallmark_core::tlog::root(&leaves),
        hallmark_core::tlog::root(&recomputed)
    );
}

/// `publish_seq` names the audit event (and so the log leaf) that published a version.
pub async fn publish_seq_finds_each_versions_publish_event(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let other = s
        .create_draft(new_passport("04012345678902", "battery"), audit(1, "c"))
        .await
        .unwrap();
    let (v1, _) = s
        .publish(&p.id, new_version(1, 2), publish(2, 1))
        .await
        .unwrap();
    s.start_version(&p.id, b"{}".to_vec(), None, audit(3, "v"))
        .await
        .unwrap();
    s.publish(&p.id, new_version(2, 4), publish(4, 2))
        .await
        .unwrap();
    let events = s.history(&p.id).await.unwrap();
    let seq_of = |v: u64| {
        events
            .iter()
            .find(|e| e.event.action == "passport.published" && e.event.detail["version"] == v)
            .map(|e| e.seq)
    };
    assert_eq!(v1.version, 1);
    assert_eq!(s.publish_seq(&p.id, 1).await.unwrap(), seq_of(1));
    assert_eq!(s.publish_seq(&p.id, 2).await.unwrap(), seq_of(2));
    assert!(seq_of(1).is_some() && seq_of(1) != seq_of(2));
    assert_eq!(s.publish_seq(&p.id, 3).await.unwrap(), None);
    assert_eq!(s.publish_seq(&other.id, 1).await.unwrap(), None);
}

/// The combined reads/writes the publish path uses answer exactly what the separate calls
/// answer: `get_pending` = `get_passport` + the draft, and `publish`'s number is the
/// `passport.published` event's (`publish_seq`).
pub async fn pending_and_publish_answer_as_the_separate_calls(s: S) {
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(0, "c"))
        .await
        .unwrap();
    let (passport, draft) = s.get_pending(&p.id).await.unwrap();
    assert_eq!(passport, s.get_passport(&p.id).await.unwrap());
    assert_eq!(draft, s.get_draft(&p.id).await.unwrap());
    assert_eq!(draft.as_ref().map(|d| d.version), Some(1));
    let (v1, seq1) = s
        .publish(&p.id, new_version(1, 1), publish(1, 1))
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(s.publish_seq(&p.id, 1).await.unwrap(), Some(seq1));
    assert_eq!(s.audit_len().await.unwrap(), seq1, "the newest event");
    // Published, nothing pending.
    let (passport, draft) = s.get_pending(&p.id).await.unwrap();
    assert_eq!(passport.status, PassportStatus::Published);
    assert_eq!(passport.current_version, 1);
    assert_eq!(draft, None);
    assert_eq!(s.get_draft(&p.id).await.unwrap(), None);
    // The next version's draft is pending; publishing it is a later event.
    let started = s
        .start_version(&p.id, b"{\"v\":2}".to_vec(), None, audit(2, "r"))
        .await
        .unwrap();
    let (passport, draft) = s.get_pending(&p.id).await.unwrap();
    assert_eq!(passport.current_version, 1);
    let draft = draft.unwrap();
    assert_eq!(
        (draft.version, draft.content.as_slice()),
        (2, &b"{\"v\":2}"[..])
    );
    assert_eq!(draft, started, "the draft as start_version stored it");
    assert_eq!(Some(draft), s.get_draft(&p.id).await.unwrap());
    let (v2, seq2) = s
        .publish(&p.id, new_version(2, 3), publish(3, 2))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert!(seq2 > seq1);
    assert_eq!(s.publish_seq(&p.id, 2).await.unwrap(), Some(seq2));
    // Refusals are the same as publish's, and change nothing.
    let again = s.publish(&p.id, new_version(3, 4), publish(4, 3)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.audit_len().await.unwrap(), seq2);
    let unknown = new_passport("04012345678902", "battery").id;
    assert!(matches!(
        s.get_pending(&unknown).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn concurrent_publishers_of_one_passport(s: S) {
    let id = published(&s, "04012345678901").await;
    s.start_version(&id, b"{}".to_vec(), None, audit(2, "r"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.publish(&id, new_version(2, 3 + i), audit(3 + i, "p"))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one publisher wins version 2");
    assert_eq!(s.get_passport(&id).await.unwrap().current_version, 2);
}

pub async fn not_found_errors(s: S) {
    let id = super::new_id();
    assert!(matches!(
        s.get_passport(&id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.get_draft(&id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.get_version(&id, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(s.history(&id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.suspend(&id, "x".into(), audit(0, "s")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.publish(&id, new_version(1, 0), audit(0, "p")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.set_signing_key_status("nope", SigningKeyStatus::Retired, None, audit(0, "k"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.audit_len().await.unwrap(),
        0,
        "failed writes leave no audit"
    );
}

/// Direct database access with the guards bypassed, as an operator (or attacker) with the
/// privileged credential could: used to prove `check_log` notices.
#[async_trait::async_trait(?Send)]
pub trait Tamper {
    /// Change the actor of audit event `seq`.
    async fn set_actor(&self, seq: u64, actor: &str);
    /// Overwrite the stored hash of leaf `index`.
    async fn set_leaf(&self, index: u64, hash: [u8; 32]);
}

/// `hallmark log check` over a real store: clean, wrong log key, a modified audit row, and a
/// consistent rewrite (event and leaf both changed) caught by the signed checkpoint.
pub async fn log_check_detects_tampering(s: S, tamper: &dyn Tamper) {
    use hallmark_core::tlog::{self, VerifierKey};
    use hallmark_store::logcheck::{check_log, Divergence};
    use hallmark_store::CheckpointRecord;

    let log_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let name = "dpp.example.com/log";
    let verifier = VerifierKey::new(name, log_key.verifying_key()).unwrap();
    let log_key = &log_key;
    let checkpoint = |s: S| async move {
        let leaves = s.list_leaf_hashes(0, 10_000).await.unwrap();
        let root = tlog::root(&leaves);
        let cp = tlog::Checkpoint::new(name, leaves.len() as u64, root);
        let note = tlog::sign_checkpoint(&cp, name, log_key).unwrap();
        s.insert_checkpoint(CheckpointRecord {
            tree_size: leaves.len() as u64,
            root_hash: root,
            note,
            created_at: at(90),
        })
        .await
        .unwrap();
        leaves.len() as u64
    };
    let id = published(&s, "04012345678901").await;
    s.append_audit(audit(5, "node.start")).await.unwrap();
    let first = checkpoint(s.clone()).await;
    s.suspend(&id, "recall".into(), audit(6, "passport.suspend"))
        .await
        .unwrap();
    let second = checkpoint(s.clone()).await;
    assert_eq!((first, second), (3, 4));
    assert_eq!(s.latest_checkpoint().await.unwrap().unwrap().tree_size, 4);
    assert_eq!(s.list_checkpoints().await.unwrap().len(), 2);

    let clean = check_log(&*s, Some(&verifier)).await.unwrap();
    assert_eq!(clean.divergence, None);
    assert_eq!((clean.leaves, clean.checkpoints), (4, 2));
    assert_eq!(
        clean.root,
        tlog::root(&s.list_leaf_hashes(0, 100).await.unwrap())
    );

    // A checkpoint signed by another key is named.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[10; 32]).verifying_key();
    let other = VerifierKey::new(name, stranger).unwrap();
    let report = check_log(&*s, Some(&other)).await.unwrap();
    assert!(
        matches!(
            report.divergence,
            Some(Divergence::CheckpointNote { size: 3, .. })
        ),
        "{report:?}"
    );

    // An audit row changed behind the store's back: its leaf no longer matches.
    tamper.set_actor(2, "mallory").await;
    let report = check_log(&*s, Some(&verifier)).await.unwrap();
    assert_eq!(
        report.divergence,
        Some(Divergence::LeafMismatch { index: 1, seq: 2 })
    );

    // A consistent rewrite (the leaf recomputed to match the forged event) passes the leaf
    // comparison, but the signed checkpoint still commits to the old tree.
    let forged = s.list_audit(2, 1).await.unwrap()[0].leaf_hash().unwrap();
    tamper.set_leaf(1, forged).await;
    let report = check_log(&*s, Some(&verifier)).await.unwrap();
    assert_eq!(
        report.divergence,
        Some(Divergence::CheckpointRoot { size: 3 })
    );
}

// ---------------------------------------------------------------------------------------
// One live passport per product identifier
// ---------------------------------------------------------------------------------------

const GTIN: &str = "09506000134352";

fn key(granularity: Granularity, lot: Option<&str>, serial: Option<&str>) -> ProductKey {
    ProductKey {
        gtin: GTIN.to_owned(),
        granularity,
        lot: lot.map(str::to_owned),
        serial: serial.map(str::to_owned),
    }
}

/// Creates a passport for `key`, answering its id or the error.
async fn create(s: &S, key: ProductKey) -> Result<PassportId, StoreError> {
    s.create_draft(
        new_passport_for(key, "battery"),
        audit(0, "passport.create"),
    )
    .await
    .map(|p| p.id)
}

/// Asserts `result` is the live-identifier refusal naming `existing`.
fn assert_in_use(result: Result<PassportId, StoreError>, existing: PassportId) {
    match result {
        Err(StoreError::IdentifierInUse {
            existing: Some(id), ..
        }) => assert_eq!(id, existing),
        other => panic!("expected IdentifierInUse naming {existing}, got {other:?}"),
    }
}

/// Item: GTIN + serial (a lot takes no part); batch: GTIN + lot; model: GTIN. Granularities
/// do not collide with each other, and a passport holds its identifier in every status but
/// `deactivated` — draft, published, suspended, archived.
pub async fn live_identifier_is_unique_at_its_granularity(s: S) {
    let first = create(&s, item(GTIN, "NC-0001")).await.unwrap();
    let events = s.audit_len().await.unwrap();
    assert_in_use(create(&s, item(GTIN, "NC-0001")).await, first);
    assert_in_use(
        create(&s, key(Granularity::Item, Some("LOT-7"), Some("NC-0001"))).await,
        first,
    );
    assert_eq!(
        s.audit_len().await.unwrap(),
        events,
        "a refused create writes nothing"
    );
    let e = create(&s, item(GTIN, "NC-0001")).await.unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "(01){GTIN}(21)NC-0001 at item level is already used by passport {first}"
        )),
        "{e}"
    );

    // Other serials, other GTINs and the other granularities are other identifiers.
    create(&s, item(GTIN, "NC-0002")).await.unwrap();
    create(&s, item("04012345678901", "NC-0001")).await.unwrap();
    let batch = create(&s, key(Granularity::Batch, Some("NC-0001"), None))
        .await
        .unwrap();
    assert_in_use(
        create(&s, key(Granularity::Batch, Some("NC-0001"), None)).await,
        batch,
    );
    let model = create(&s, key(Granularity::Model, None, None))
        .await
        .unwrap();
    assert_in_use(create(&s, key(Granularity::Model, None, None)).await, model);

    // An identifier whose parts do not fit its granularity is refused before the database.
    let e = create(&s, key(Granularity::Batch, None, None)).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");

    assert_eq!(
        s.find_live(&item(GTIN, "NC-0001"))
            .await
            .unwrap()
            .map(|p| p.id),
        Some(first)
    );
    let record = s.get_passport(&first).await.unwrap();
    assert_eq!(record.product, Some(item(GTIN, "NC-0001")));
    assert!(s.find_live(&item(GTIN, "NC-0099")).await.unwrap().is_none());

    // Drafts do not make a GTIN known to the resolver; a publication does.
    assert!(!s.gtin_published(GTIN).await.unwrap());

    // Published, suspended, archived: still the one passport of its identifier.
    s.publish(&first, new_version(1, 1), publish(1, 1))
        .await
        .unwrap();
    assert!(s.gtin_published(GTIN).await.unwrap());
    assert!(!s.gtin_published("04012345678918").await.unwrap());
    assert_in_use(create(&s, item(GTIN, "NC-0001")).await, first);
    s.suspend(&first, "recall".into(), audit(2, "s"))
        .await
        .unwrap();
    assert_in_use(create(&s, item(GTIN, "NC-0001")).await, first);
    s.archive(&first, None, audit(3, "a")).await.unwrap();
    assert_in_use(create(&s, item(GTIN, "NC-0001")).await, first);
    assert!(
        s.gtin_published(GTIN).await.unwrap(),
        "archived still answers"
    );
}

/// A deactivated passport no longer holds its identifier: a successor may be created for
/// the same product, and it is then the one live passport of that identifier.
pub async fn deactivated_identifier_is_free_for_a_successor(s: S) {
    let first = create(&s, item(GTIN, "NC-0001")).await.unwrap();
    s.publish(&first, new_version(1, 1), publish(1, 1))
        .await
        .unwrap();
    assert!(s.gtin_published(GTIN).await.unwrap());
    s.deactivate(&first, "issued with wrong data".into(), audit(2, "d"))
        .await
        .unwrap();
    assert!(
        !s.gtin_published(GTIN).await.unwrap(),
        "a deactivated passport does not keep its GTIN known"
    );
    let successor = create(&s, item(GTIN, "NC-0001")).await.unwrap();
    assert_ne!(successor, first);
    assert_eq!(
        s.find_live(&item(GTIN, "NC-0001"))
            .await
            .unwrap()
            .map(|p| p.id),
        Some(successor)
    );
    assert_in_use(create(&s, item(GTIN, "NC-0001")).await, successor);
    // The deactivated passport keeps its identifier on record.
    assert_eq!(
        s.get_passport(&first).await.unwrap().product,
        Some(item(GTIN, "NC-0001"))
    );
}

/// Many concurrent creates of one identifier (batched together or not): exactly one
/// passport is created; every other create is refused, naming it.
pub async fn concurrent_creates_of_one_identifier(s: S) {
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            create(&s, item(GTIN, "NC-RACE")).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let winners: Vec<PassportId> = results.iter().filter_map(|r| r.clone().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in results.into_iter().filter(Result::is_err) {
        assert_in_use(r, winners[0]);
    }
    let page = s
        .list_passports(&PassportFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(s.audit_len().await.unwrap(), 1);
}

/// `committed` is the last audit sequence number the store's writer committed: it starts at
/// the stored head, moves with every audited write before the write is answered, and not
/// for a refused one.
pub async fn committed_follows_the_writer(s: S) {
    let mut committed = s.committed();
    assert_eq!(
        *committed.borrow_and_update(),
        s.audit_len().await.unwrap(),
        "starts at the stored head"
    );
    let event = s.append_audit(audit(1, "node.started")).await.unwrap();
    assert!(committed.has_changed().unwrap(), "sent before the answer");
    assert_eq!(*committed.borrow_and_update(), event.seq);
    let p = s
        .create_draft(new_passport("04012345678901", "battery"), audit(2, "c"))
        .await
        .unwrap();
    assert_eq!(*committed.borrow_and_update(), event.seq + 1);
    // A draft cannot be suspended: nothing committed, nothing sent.
    let refused = s.suspend(&p.id, "x".into(), audit(3, "s")).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(!committed.has_changed().unwrap());
    assert_eq!(*committed.borrow(), s.audit_len().await.unwrap());
    // Not audited: no leaf, no change.
    s.insert_checkpoint(hallmark_store::CheckpointRecord {
        tree_size: 1,
        root_hash: [7; 32],
        note: "note".into(),
        created_at: at(4),
    })
    .await
    .unwrap();
    assert!(!committed.has_changed().unwrap());
}

/// Operator links: added with their audit event; served (`links_for`) only for the levels
/// asked for and only while active; listed by GTIN, lot, serial; removed once, with the
/// reason and an audit event; at most `MAX_LINKS_PER_IDENTIFIER` active per identifier; an
/// identifier whose parts do not fit its level is refused with nothing written.
pub async fn product_links_added_listed_and_removed(s: S) {
    let g = "09506000134352";
    // Without the node's keys a link is stored untagged; with them, tagged over its bytes.
    let untagged = s
        .add_link(
            new_link(model("04012345678901"), "pip"),
            audit(0, "link.added"),
        )
        .await
        .unwrap();
    assert_eq!(untagged.tag, None);
    let keys = Arc::new(hallmark_store::IntegrityKeys::derive(&[7; 32]).unwrap());
    assert!(s.set_integrity(Arc::clone(&keys)));
    let head = s.audit_len().await.unwrap();
    let m = s
        .add_link(new_link(model(g), "instructions"), audit(1, "link.added"))
        .await
        .unwrap();
    assert!(m.is_authentic(&keys));
    assert!(!untagged.is_authentic(&keys));
    let stored = s.get_link(&m.id).await.unwrap().unwrap();
    assert_eq!(stored, m);
    assert!(stored.is_authentic(&keys));
    let mut moved = stored.clone();
    moved.href = "https://evil.example/".into();
    assert!(!moved.is_authentic(&keys));
    assert!(!m.is_authentic(&hallmark_store::IntegrityKeys::derive(&[8; 32]).unwrap()));
    assert_eq!(m.removed_at, None);
    assert_eq!(m.hreflang, ["en", "de-AT"]);
    assert_eq!(s.audit_len().await.unwrap(), head + 1);
    let last = s.list_audit(head + 1, 1).await.unwrap();
    assert_eq!(last[0].event.action, "link.added");
    let b = s
        .add_link(
            new_link(batch(g, "L1"), "safetyInfo"),
            audit(2, "link.added"),
        )
        .await
        .unwrap();
    let i = s
        .add_link(new_link(item(g, "S1"), "pip"), audit(3, "link.added"))
        .await
        .unwrap();
    let other = s
        .add_link(new_link(item(g, "S2"), "pip"), audit(4, "link.added"))
        .await
        .unwrap();
    assert_eq!(s.get_link(&i.id).await.unwrap().as_ref(), Some(&i));
    assert_eq!(
        s.get_link("00000000-0000-7000-8000-000000000000")
            .await
            .unwrap(),
        None
    );

    // A request's levels: item S1, batch L1, model.
    let levels = [item(g, "S1"), batch(g, "L1"), model(g)];
    let ids = |v: Vec<hallmark_store::ProductLinkRecord>| -> Vec<String> {
        v.into_iter().map(|l| l.id).collect()
    };
    assert_eq!(
        ids(s.links_for(&levels).await.unwrap()),
        [m.id.as_str(), b.id.as_str(), i.id.as_str()]
    );
    assert_eq!(
        ids(s.links_for(&[model(g)]).await.unwrap()),
        [m.id.as_str()]
    );
    assert!(s.links_for(&[]).await.unwrap().is_empty());
    assert!(s
        .links_for(&[model("09506000134369")])
        .await
        .unwrap()
        .is_empty());

    let filter = |lot: Option<&str>, serial: Option<&str>, removed: bool| LinkFilter {
        gtin: g.into(),
        lot: lot.map(Into::into),
        serial: serial.map(Into::into),
        removed,
    };
    assert_eq!(
        s.list_links(&filter(None, None, false))
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        ids(s
            .list_links(&filter(None, Some("S2"), false))
            .await
            .unwrap()),
        [other.id.as_str()]
    );
    assert_eq!(
        ids(s
            .list_links(&filter(Some("L1"), None, false))
            .await
            .unwrap()),
        [b.id.as_str()]
    );

    // Removal: once, with its reason and event; gone from the resolver's lookup.
    let head = s.audit_len().await.unwrap();
    let removed = s
        .remove_link(&i.id, "moved to the model level", audit(5, "link.removed"))
        .await
        .unwrap();
    assert_eq!(removed.removed_at, Some(at(5)));
    assert_eq!(
        removed.removed_reason.as_deref(),
        Some("moved to the model level")
    );
    assert_eq!(s.audit_len().await.unwrap(), head + 1);
    assert_eq!(
        ids(s.links_for(&levels).await.unwrap()),
        [m.id.as_str(), b.id.as_str()]
    );
    assert_eq!(
        s.list_links(&filter(None, None, false))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.list_links(&filter(None, None, true)).await.unwrap().len(),
        4
    );
    assert!(matches!(
        s.remove_link(&i.id, "again", audit(6, "link.removed"))
            .await,
        Err(StoreError::ImmutableViolation(_))
    ));
    assert!(matches!(
        s.remove_link(
            "00000000-0000-7000-8000-000000000000",
            "x",
            audit(6, "link.removed")
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.audit_len().await.unwrap(), head + 1);

    // The limit per identifier counts active links only.
    let limit = hallmark_core::resolver::MAX_LINKS_PER_IDENTIFIER;
    let key = batch(g, "FULL");
    let mut first = None;
    for _ in 0..limit {
        let l = s
            .add_link(
                new_link(key.clone(), "certificationInfo"),
                audit(7, "link.added"),
            )
            .await
            .unwrap();
        first.get_or_insert(l.id);
    }
    let head = s.audit_len().await.unwrap();
    let refused = s
        .add_link(
            new_link(key.clone(), "certificationInfo"),
            audit(8, "link.added"),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("32")),
        "{refused:?}"
    );
    assert_eq!(s.audit_len().await.unwrap(), head);
    s.remove_link(&first.unwrap(), "replaced", audit(9, "link.removed"))
        .await
        .unwrap();
    s.add_link(new_link(key, "certificationInfo"), audit(10, "link.added"))
        .await
        .unwrap();

    // An identifier that does not fit its level: refused, nothing written.
    let head = s.audit_len().await.unwrap();
    let mut lot_and_serial = item(g, "S3");
    lot_and_serial.lot = Some("L1".into());
    let mut model_with_lot = model(g);
    model_with_lot.lot = Some("L1".into());
    for key in [lot_and_serial, model_with_lot] {
        assert!(matches!(
            s.add_link(new_link(key, "pip"), audit(11, "link.added"))
                .await,
            Err(StoreError::Constraint(_))
        ));
    }
    assert_eq!(s.audit_len().await.unwrap(), head);
}

// ---------------------------------------------------------------------------------------
// Status lists (issue 17)
// ---------------------------------------------------------------------------------------

const SUSPENSION: StatusPurpose = StatusPurpose::Suspension;
const REVOCATION: StatusPurpose = StatusPurpose::Revocation;

async fn draft(s: &S, gtin: &str) -> PassportId {
    s.create_draft(new_passport(gtin, "battery"), audit(0, "passport.create"))
        .await
        .unwrap()
        .id
}

/// A passport published at status list position `index` of list `list`.
async fn published_at(s: &S, gtin: &str, list: u32, index: u32) -> PassportId {
    let id = draft(s, gtin).await;
    s.publish(&id, new_version_at(1, 1, list, index), publish(1, 1))
        .await
        .unwrap();
    id
}

/// The audit event `seq` and its log leaf, checked to be each other's.
async fn event_and_leaf(s: &S, seq: u64) -> hallmark_store::AuditRecord {
    let record = s.list_audit(seq, 1).await.unwrap().remove(0);
    assert_eq!(record.seq, seq);
    let leaf = s.list_leaf_hashes(seq - 1, 1).await.unwrap();
    assert_eq!(leaf, vec![record.leaf_hash().unwrap()], "leaf {}", seq - 1);
    record
}

pub async fn status_positions_are_unique_and_taken_at_publication(s: S) {
    assert_eq!(s.last_status_list().await.unwrap(), None);
    let a = published_at(&s, "04012345678901", 0, 7).await;
    assert_eq!(
        s.status_index(&a).await.unwrap(),
        Some(StatusRef { list: 0, index: 7 })
    );
    // Another passport drawing the same position: typed, and nothing written.
    let b = draft(&s, "04012345678902").await;
    let len = s.audit_len().await.unwrap();
    let e = s
        .publish(&b, new_version_at(1, 2, 0, 7), publish(2, 1))
        .await;
    assert_eq!(
        e.unwrap_err(),
        StoreError::StatusIndexTaken { list: 0, index: 7 }
    );
    let rec = s.get_passport(&b).await.unwrap();
    assert_eq!(rec.status, PassportStatus::Draft);
    assert_eq!(rec.current_version, 0);
    assert_eq!(s.status_index(&b).await.unwrap(), None);
    assert_eq!(s.audit_len().await.unwrap(), len);
    assert!(s.get_version(&b, Some(1)).await.is_err());
    // Beyond the list: refused, nothing written.
    let e = s
        .publish(&b, new_version_at(1, 2, 0, 131_072), publish(2, 1))
        .await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(s.audit_len().await.unwrap(), len);
    // The same position in another list is free; so is the last one of a list.
    s.publish(&b, new_version_at(1, 3, 1, 7), publish(3, 1))
        .await
        .unwrap();
    let c = published_at(&s, "04012345678903", 0, 131_071).await;
    assert_eq!(s.status_positions(0).await.unwrap().len(), 2);
    assert_eq!(s.status_positions(1).await.unwrap().len(), 1);
    assert_eq!(s.status_positions(2).await.unwrap().len(), 0);
    assert_eq!(s.last_status_list().await.unwrap(), Some(1));
    // A passport keeps its position: a later version cannot take another one.
    s.start_version(&a, b"{}".to_vec(), None, audit(4, "passport.version"))
        .await
        .unwrap();
    let len = s.audit_len().await.unwrap();
    let e = s
        .publish(&a, new_version_at(2, 5, 0, 8), publish(5, 2))
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.get_passport(&a).await.unwrap().current_version, 1);
    assert_eq!(s.audit_len().await.unwrap(), len);
    s.publish(&a, new_version(2, 6), publish(6, 2))
        .await
        .unwrap();
    assert_eq!(
        s.status_index(&a).await.unwrap(),
        Some(StatusRef { list: 0, index: 7 })
    );
    // Deactivation frees nothing: the position stays taken.
    s.deactivate(&c, "end of life".into(), audit(7, "passport.deactivated"))
        .await
        .unwrap();
    assert_eq!(
        s.status_index(&c).await.unwrap(),
        Some(StatusRef {
            list: 0,
            index: 131_071
        })
    );
    let d = draft(&s, "04012345678904").await;
    let e = s
        .publish(&d, new_version_at(1, 8, 0, 131_071), publish(8, 1))
        .await;
    assert!(
        matches!(e, Err(StoreError::StatusIndexTaken { .. })),
        "{e:?}"
    );
    // Published without a position (as before status lists): none.
    s.publish(&d, new_version(1, 9), publish(9, 1))
        .await
        .unwrap();
    assert_eq!(s.status_index(&d).await.unwrap(), None);
}

pub async fn status_list_versions_append_in_sequence(s: S) {
    assert_eq!(s.status_list_latest(SUSPENSION, 0).await.unwrap(), None);
    let v1 = s
        .put_status_list(list_version(SUSPENSION, 0, 1, 10))
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.valid_from, at(10));
    assert_eq!(v1.valid_until, at(310));
    assert_eq!(v1.created_at, at(10));
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0).await.unwrap().as_ref(),
        Some(&v1)
    );
    // Its event is a public log leaf naming it and the hashes of both forms.
    let event = event_and_leaf(&s, v1.seq).await;
    assert_eq!(
        event.event.known_action(),
        Some(Action::StatusListPublished)
    );
    assert!(Action::StatusListPublished.is_public());
    let detail = StatusListPublished::from_value(&event.event.detail).unwrap();
    assert_eq!(
        detail,
        StatusListPublished::new(
            "suspension",
            0,
            1,
            &Sha256::digest(&v1.credential).into(),
            &Sha256::digest(v1.credential_jwt.as_bytes()).into(),
        )
    );
    // Not latest + 1: a typed conflict, nothing written.
    let len = s.audit_len().await.unwrap();
    for version in [1, 3] {
        let e = s
            .put_status_list(list_version(SUSPENSION, 0, version, 11))
            .await;
        assert_eq!(
            e.unwrap_err(),
            StoreError::StatusListConflict {
                purpose: SUSPENSION,
                list: 0,
                expected: 2,
                got: version
            }
        );
    }
    // An event that does not name the version, or names other bytes, or is another action.
    let mut wrong_version = list_version(SUSPENSION, 0, 2, 11);
    wrong_version.event = list_version(SUSPENSION, 0, 3, 11).event;
    let mut wrong_bytes = list_version(SUSPENSION, 0, 2, 11);
    wrong_bytes.credential.push(b' ');
    let mut wrong_jwt = list_version(SUSPENSION, 0, 2, 11);
    wrong_jwt.credential_jwt.push('x');
    let mut wrong_action = list_version(SUSPENSION, 0, 2, 11);
    wrong_action.event.action = Action::PassportPublished.as_str().to_owned();
    let mut wrong_purpose = list_version(SUSPENSION, 0, 2, 11);
    wrong_purpose.event = list_version(REVOCATION, 0, 2, 11).event;
    let mut backwards = list_version(SUSPENSION, 0, 2, 11);
    backwards.valid_until = backwards.valid_from;
    let mut not_multibase = list_version(SUSPENSION, 0, 2, 11);
    not_multibase.encoded_list = "H4sI".into();
    for bad in [
        wrong_version,
        wrong_bytes,
        wrong_jwt,
        wrong_action,
        wrong_purpose,
        backwards,
        not_multibase,
    ] {
        let e = s.put_status_list(bad).await;
        assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    }
    assert_eq!(s.audit_len().await.unwrap(), len);
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0).await.unwrap().as_ref(),
        Some(&v1)
    );
    // The next version; lists and purposes are independent sequences.
    let v2 = s
        .put_status_list(list_version(SUSPENSION, 0, 2, 12))
        .await
        .unwrap();
    assert_eq!(v2.seq, v1.seq + 1);
    let r1 = s
        .put_status_list(list_version(REVOCATION, 0, 1, 13))
        .await
        .unwrap();
    let other = s
        .put_status_list(list_version(SUSPENSION, 1, 1, 14))
        .await
        .unwrap();
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0).await.unwrap().as_ref(),
        Some(&v2)
    );
    assert_eq!(
        s.status_list_latest(REVOCATION, 0).await.unwrap().as_ref(),
        Some(&r1)
    );
    assert_eq!(
        s.status_list_latest(SUSPENSION, 1).await.unwrap().as_ref(),
        Some(&other)
    );
    assert_eq!(s.status_list_latest(REVOCATION, 1).await.unwrap(), None);
    // Every version stays readable, as stored.
    assert_eq!(
        s.status_list_version(SUSPENSION, 0, 1)
            .await
            .unwrap()
            .as_ref(),
        Some(&v1)
    );
    assert_eq!(
        s.status_list_version(SUSPENSION, 0, 2)
            .await
            .unwrap()
            .as_ref(),
        Some(&v2)
    );
    assert_eq!(s.status_list_version(SUSPENSION, 0, 3).await.unwrap(), None);
    assert_eq!(s.last_status_list().await.unwrap(), Some(1));
    for record in [&v2, &r1, &other] {
        let e = event_and_leaf(&s, record.seq).await;
        let d = StatusListPublished::from_value(&e.event.detail).unwrap();
        assert_eq!(
            (d.purpose.as_str(), d.list, d.version),
            (record.purpose.as_str(), record.list, record.version)
        );
    }
}

pub async fn status_change_writes_its_list_versions_atomically(s: S) {
    let id = published_at(&s, "04012345678901", 0, 5).await;
    s.put_status_list(list_version(SUSPENSION, 0, 1, 2))
        .await
        .unwrap();
    s.put_status_list(list_version(REVOCATION, 0, 1, 2))
        .await
        .unwrap();
    // Suspend: the status, its event, the re-signed list and its event, in that order.
    let before = s.audit_len().await.unwrap();
    let mut suspend = audit(3, "passport.suspended");
    suspend.detail = serde_json::json!({ "reason": "recall" });
    let rec = s
        .change_status(
            &id,
            PassportStatus::Suspended,
            Some("recall".into()),
            suspend,
            vec![list_version(SUSPENSION, 0, 2, 3)],
        )
        .await
        .unwrap();
    assert_eq!(rec.status, PassportStatus::Suspended);
    assert_eq!(s.audit_len().await.unwrap(), before + 2);
    let status_event = event_and_leaf(&s, before + 1).await;
    assert_eq!(status_event.event.action, "passport.suspended");
    assert_eq!(status_event.event.passport, Some(id));
    let list_event = event_and_leaf(&s, before + 2).await;
    assert_eq!(
        list_event.event.known_action(),
        Some(Action::StatusListPublished)
    );
    assert_eq!(list_event.event.passport, None);
    let latest = s.status_list_latest(SUSPENSION, 0).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.seq), (2, before + 2));

    // A stale list version (another writer stored version 2 first): typed conflict, and the
    // passport's status is unchanged — nothing at all was written.
    let len = s.audit_len().await.unwrap();
    let e = s
        .change_status(
            &id,
            PassportStatus::Published,
            None,
            audit(4, "passport.resumed"),
            vec![list_version(SUSPENSION, 0, 2, 4)],
        )
        .await;
    assert_eq!(
        e.unwrap_err(),
        StoreError::StatusListConflict {
            purpose: SUSPENSION,
            list: 0,
            expected: 3,
            got: 2
        }
    );
    // One good and one stale version: still nothing.
    let e = s
        .change_status(
            &id,
            PassportStatus::Deactivated,
            None,
            audit(4, "passport.deactivated"),
            vec![
                list_version(SUSPENSION, 0, 3, 4),
                list_version(REVOCATION, 0, 1, 4),
            ],
        )
        .await;
    assert!(
        matches!(
            e,
            Err(StoreError::StatusListConflict {
                purpose: StatusPurpose::Revocation,
                ..
            })
        ),
        "{e:?}"
    );
    // Versions of another list, two of one purpose, an event that does not name its version.
    let mut unnamed = list_version(SUSPENSION, 0, 3, 4);
    unnamed.event = audit(4, "status-list.published");
    for lists in [
        vec![list_version(SUSPENSION, 1, 1, 4)],
        vec![
            list_version(SUSPENSION, 0, 3, 4),
            list_version(SUSPENSION, 0, 4, 4),
        ],
        vec![unnamed],
    ] {
        let e = s
            .change_status(
                &id,
                PassportStatus::Published,
                None,
                audit(4, "passport.resumed"),
                lists,
            )
            .await;
        assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    }
    // A refused transition writes no list either.
    let e = s
        .change_status(
            &id,
            PassportStatus::Suspended,
            None,
            audit(4, "passport.suspended"),
            vec![list_version(SUSPENSION, 0, 3, 4)],
        )
        .await;
    assert!(
        matches!(e, Err(StoreError::InvalidTransition { .. })),
        "{e:?}"
    );
    assert_eq!(s.audit_len().await.unwrap(), len);
    assert_eq!(
        s.get_passport(&id).await.unwrap().status,
        PassportStatus::Suspended
    );
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        s.status_list_latest(REVOCATION, 0)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    // Re-read, re-sign, retry: resume with version 3.
    s.change_status(
        &id,
        PassportStatus::Published,
        None,
        audit(5, "passport.resumed"),
        vec![list_version(SUSPENSION, 0, 3, 5)],
    )
    .await
    .unwrap();
    // Deactivate from suspended: both bits change, both lists in one transaction.
    s.suspend(&id, "again".into(), audit(6, "passport.suspended"))
        .await
        .unwrap();
    let before = s.audit_len().await.unwrap();
    s.change_status(
        &id,
        PassportStatus::Deactivated,
        Some("end of life".into()),
        audit(7, "passport.deactivated"),
        vec![
            list_version(SUSPENSION, 0, 4, 7),
            list_version(REVOCATION, 0, 2, 7),
        ],
    )
    .await
    .unwrap();
    assert_eq!(s.audit_len().await.unwrap(), before + 3);
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0)
            .await
            .unwrap()
            .unwrap()
            .seq,
        before + 2
    );
    assert_eq!(
        s.status_list_latest(REVOCATION, 0)
            .await
            .unwrap()
            .unwrap()
            .seq,
        before + 3
    );

    // A passport without a position changes no list.
    let legacy = published(&s, "04012345678902").await;
    let e = s
        .change_status(
            &legacy,
            PassportStatus::Suspended,
            None,
            audit(8, "passport.suspended"),
            vec![list_version(SUSPENSION, 0, 5, 8)],
        )
        .await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(
        s.get_passport(&legacy).await.unwrap().status,
        PassportStatus::Published
    );
}

pub async fn concurrent_status_changes_of_one_list_conflict(s: S) {
    // Passports in one list, each suspended concurrently with "latest + 1" as each read it:
    // exactly one commits; every other is a typed conflict that left its passport as it was.
    let mut ids = Vec::new();
    for (n, gtin) in [
        "04012345678901",
        "04012345678902",
        "04012345678903",
        "04012345678904",
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(published_at(&s, gtin, 0, 100 + n as u32).await);
    }
    s.put_status_list(list_version(SUSPENSION, 0, 1, 2))
        .await
        .unwrap();
    let before = s.audit_len().await.unwrap();
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (s, id) = (Arc::clone(&s), *id);
            tokio::spawn(async move {
                s.change_status(
                    &id,
                    PassportStatus::Suspended,
                    None,
                    audit(3, "passport.suspended"),
                    vec![list_version(SUSPENSION, 0, 2, 3)],
                )
                .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for (id, task) in ids.iter().zip(tasks) {
        match task.await.unwrap() {
            Ok(rec) => won.push(rec.id),
            Err(StoreError::StatusListConflict {
                expected: 3,
                got: 2,
                ..
            }) => {
                assert_eq!(
                    s.get_passport(id).await.unwrap().status,
                    PassportStatus::Published
                );
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one change commits");
    assert_eq!(
        s.get_passport(&won[0]).await.unwrap().status,
        PassportStatus::Suspended
    );
    assert_eq!(s.audit_len().await.unwrap(), before + 2);
    assert_eq!(
        s.status_list_latest(SUSPENSION, 0)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

fn import_create(
    reference: &str,
    secs: i64,
    publish_version: Option<u32>,
) -> (hallmark_store::ImportWrite, PassportId) {
    use hallmark_store::{ImportDraft, ImportWrite};
    let new = new_passport("04012345678901", "battery");
    let id = new.id;
    let write = ImportWrite {
        draft: ImportDraft::Create {
            new,
            external_ref: Some(reference.to_owned()),
            audit: audit(secs, "passport.draft-created"),
        },
        publish: publish_version.map(|v| (new_version(v, secs), publish(secs, v))),
    };
    (write, id)
}

fn refs(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

/// The import job (issue 18): create + reference [+ publish], update or start a version
/// [+ publish], or publish the pending draft — each item all or nothing, its events
/// included; references unique per operator and read back in one query with the latest
/// draft row's digest.
pub async fn import_jobs_write_each_item_whole_or_not_at_all(s: S) {
    use hallmark_store::{ImportDraft, ImportWrite};
    // Created and published in one job, with its reference.
    let (write, a) = import_create("ERP-1", 1, Some(1));
    let done = s.import(write).await.unwrap();
    assert_eq!(done.id, a);
    assert_eq!(done.draft.as_ref().map(|d| d.version), Some(1));
    let (v, seq) = done.published.unwrap();
    assert_eq!(v.version, 1);
    assert_eq!(
        seq, 2,
        "draft-created is event 1, passport.published event 2"
    );
    let states = s
        .external_refs("operator-1", &refs(&["ERP-1", "ERP-unknown"]))
        .await
        .unwrap();
    assert_eq!(states.len(), 1);
    let st = &states[0];
    assert_eq!((st.external_ref.as_str(), st.passport.id), ("ERP-1", a));
    assert_eq!(st.passport.status, PassportStatus::Published);
    assert!(!st.pending);
    assert_eq!(st.latest_version, 1);
    assert_eq!(st.submission_sha256, Some([1; 32]));
    assert_eq!(st.content, None, "content only when no digest is stored");
    // Another operator's namespace is separate.
    assert!(s
        .external_refs("operator-2", &refs(&["ERP-1"]))
        .await
        .unwrap()
        .is_empty());

    // The same reference again: refused, nothing of the item written.
    let len = s.audit_len().await.unwrap();
    let (write, b) = import_create("ERP-1", 2, None);
    let e = s.import(write).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert!(matches!(
        s.get_passport(&b).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.audit_len().await.unwrap(), len);
    // A publication that fails (wrong version) takes the passport, draft and reference
    // with it.
    let (write, c) = import_create("ERP-2", 3, Some(2));
    let e = s.import(write).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert!(matches!(
        s.get_passport(&c).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(s
        .external_refs("operator-1", &refs(&["ERP-2"]))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.audit_len().await.unwrap(), len);
    // An empty or over-long reference is refused too.
    for bad in [String::new(), "r".repeat(257)] {
        let (write, _) = import_create(&bad, 3, None);
        assert!(s.import(write).await.is_err(), "{} characters", bad.len());
    }
    assert_eq!(s.audit_len().await.unwrap(), len);

    // A draft with a reference, then edited: the digest moves with the content.
    let (write, d) = import_create("ERP-2", 4, None);
    assert!(s.import(write).await.unwrap().published.is_none());
    let edit = ImportWrite {
        draft: ImportDraft::Update {
            id: d,
            content: b"{\"v\":1.1}".to_vec(),
            submission_sha256: [2; 32],
            audit: audit(5, "passport.draft-updated"),
        },
        publish: None,
    };
    assert_eq!(s.import(edit).await.unwrap().draft.unwrap().version, 1);
    let st = s
        .external_refs("operator-1", &refs(&["ERP-2"]))
        .await
        .unwrap()
        .remove(0);
    assert!(st.pending);
    assert_eq!(
        (st.latest_version, st.submission_sha256),
        (1, Some([2; 32]))
    );
    // Publishing the pending draft as it stands needs a publication.
    let nothing = ImportWrite {
        draft: ImportDraft::Pending { id: d },
        publish: None,
    };
    assert!(matches!(
        s.import(nothing).await,
        Err(StoreError::Constraint(_))
    ));
    let publish_pending = ImportWrite {
        draft: ImportDraft::Pending { id: d },
        publish: Some((new_version(1, 6), publish(6, 1))),
    };
    let done = s.import(publish_pending).await.unwrap();
    assert!(done.draft.is_none());
    assert_eq!(done.published.unwrap().0.version, 1);

    // A new version started and published in one job.
    let next = ImportWrite {
        draft: ImportDraft::StartVersion {
            id: a,
            content: b"{\"v\":2}".to_vec(),
            submission_sha256: [3; 32],
            audit: audit(7, "passport.version-started"),
        },
        publish: Some((new_version(2, 7), publish(7, 2))),
    };
    let done = s.import(next).await.unwrap();
    assert_eq!(done.draft.unwrap().version, 2);
    assert_eq!(done.published.unwrap().0.version, 2);
    let mut states = s
        .external_refs("operator-1", &refs(&["ERP-1", "ERP-2"]))
        .await
        .unwrap();
    states.sort_by(|x, y| x.external_ref.cmp(&y.external_ref));
    assert_eq!(states[0].passport.current_version, 2);
    assert_eq!(
        (states[0].pending, states[0].latest_version),
        (false, 2),
        "the published version's draft row is the latest"
    );
    assert_eq!(states[0].submission_sha256, Some([3; 32]));
    assert_eq!(states[1].passport.status, PassportStatus::Published);
    assert_eq!(states[1].submission_sha256, Some([2; 32]));
    // The single-passport writes store the digest they are given (or none).
    s.start_version(&d, b"{\"v\":3}".to_vec(), None, audit(8, "r"))
        .await
        .unwrap();
    let st = s
        .external_refs("operator-1", &refs(&["ERP-2"]))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((st.pending, st.latest_version), (true, 2));
    assert_eq!(st.submission_sha256, None);
    assert_eq!(st.content.as_deref(), Some(&b"{\"v\":3}"[..]));

    // No reference (EN 18222's create): created and published in one job, no reference
    // row; a failing publication takes the passport with it.
    let unreferenced = |secs: i64, version: u32| {
        let new = new_passport("04012345678901", "battery");
        let id = new.id;
        let write = ImportWrite {
            draft: ImportDraft::Create {
                new,
                external_ref: None,
                audit: audit(secs, "passport.draft-created"),
            },
            publish: Some((new_version(version, secs), publish(secs, version))),
        };
        (write, id)
    };
    let (write, d) = unreferenced(7, 1);
    let done = s.import(write).await.unwrap();
    assert_eq!(done.id, d);
    assert_eq!(done.published.map(|(v, _)| v.version), Some(1));
    assert_eq!(
        s.get_passport(&d).await.unwrap().status,
        PassportStatus::Published
    );
    let len = s.audit_len().await.unwrap();
    let (write, e) = unreferenced(8, 2);
    let refused = s.import(write).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(matches!(
        s.get_passport(&e).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.audit_len().await.unwrap(), len, "nothing of it written");

    // Gapless, and the log recomputes from the events.
    let all = s.list_audit(1, 1000).await.unwrap();
    assert!(all.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
    let check = hallmark_store::logcheck::check_log(&*s, None)
        .await
        .unwrap();
    assert_eq!(check.divergence, None);
    assert_eq!(check.leaves, all.len() as u64);
}

/// Import jobs queued together commit together; the ones refused (a reference given twice)
/// leave nothing and the others' sequence numbers stay gapless.
pub async fn failing_import_jobs_among_concurrent_ones_fail_alone(s: S) {
    let mut tasks = Vec::new();
    for i in 0..48u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // Items 3k and 3k+1 share a reference: exactly one of each pair lands.
            let reference = format!("REF-{}", i - i % 3 + u32::from(i % 3 == 2));
            let (write, id) = import_create(&reference, i.into(), Some(1));
            (reference, id, s.import(write).await)
        }));
    }
    let mut landed = std::collections::BTreeMap::new();
    let mut refused = 0;
    for t in tasks {
        let (reference, id, result) = t.await.unwrap();
        match result {
            Ok(done) => {
                assert_eq!(done.id, id);
                assert!(landed.insert(reference, id).is_none(), "a reference twice");
            }
            Err(StoreError::Conflict(_)) => {
                refused += 1;
                assert!(matches!(
                    s.get_passport(&id).await,
                    Err(StoreError::NotFound(_))
                ));
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((landed.len(), refused), (32, 16));
    let names: Vec<String> = landed.keys().cloned().collect();
    let states = s.external_refs("operator-1", &names).await.unwrap();
    assert_eq!(states.len(), 32);
    for st in states {
        assert_eq!(landed[&st.external_ref], st.passport.id);
    }
    let all = s.list_audit(1, 1000).await.unwrap();
    assert_eq!(all.len(), 64, "two events per landed item");
    assert!(all.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
}

pub async fn registry_registrations_are_recorded_once_per_version(s: S) {
    use hallmark_core::tlog::event::RegistryRecorded;
    use hallmark_store::{ProofMediaType, Recorded};
    let id = published(&s, "04012345678901").await;
    let other = published(&s, "04012345678902").await;
    assert_eq!(s.registration(&id, 1).await.unwrap(), None);
    assert!(s.registrations_of(&id).await.unwrap().is_empty());
    let len = s.audit_len().await.unwrap();

    // A hash that is not the public credential's: refused with both hashes, nothing written.
    let mut wrong = registration(id, 1, "REG-1", 30);
    wrong.dpp_sha256 = [0xab; 32];
    wrong.event = wrong.event(at(30), "test-operator").unwrap();
    match s.record_registration(wrong).await {
        Err(StoreError::RegistryHashMismatch {
            passport,
            version,
            given,
            served,
        }) => {
            assert_eq!((passport, version), (id, 1));
            assert_eq!(given, hex_of(&[0xab; 32]));
            assert_eq!(served, hex_of(&public_sha256(1)));
        }
        other => panic!("{other:?}"),
    }
    // Unknown version, unknown passport: not found.
    let e = s
        .record_registration(registration(id, 2, "REG-1", 30))
        .await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");
    let e = s
        .record_registration(registration(super::new_id(), 1, "REG-1", 30))
        .await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");
    // An event that does not name the registration, or is another action: refused.
    let mut forged = registration(id, 1, "REG-1", 30);
    forged.event.detail["registrationId"] = serde_json::json!("REG-2");
    let e = s.record_registration(forged).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    let mut forged = registration(id, 1, "REG-1", 30);
    forged.event.action = "passport.published".to_owned();
    let e = s.record_registration(forged).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    let mut empty = registration(id, 1, "", 30);
    empty.event = empty.event(at(30), "test-operator").unwrap();
    let e = s.record_registration(empty).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(s.audit_len().await.unwrap(), len, "refusals write nothing");

    // Recorded: the row and its registry.recorded event, one transaction.
    let new = registration(id, 1, "REG-1", 31);
    let recorded = s.record_registration(new.clone()).await.unwrap();
    let Recorded::Created(row) = recorded.clone() else {
        panic!("{recorded:?}")
    };
    assert!(recorded.created());
    assert_eq!(row.seq, len + 1);
    assert_eq!(s.audit_len().await.unwrap(), len + 1);
    assert_eq!(
        (row.passport, row.version, row.registration_id.as_str()),
        (id, 1, "REG-1")
    );
    assert_eq!(row.proof, new.proof);
    assert_eq!(row.proof_media_type, ProofMediaType::Json);
    assert_eq!(row.dpp_sha256, public_sha256(1));
    assert_eq!(row.recorded_at, at(31));
    let event = s.history(&id).await.unwrap().pop().unwrap();
    assert_eq!(event.seq, row.seq);
    assert_eq!(event.event.known_action(), Some(Action::RegistryRecorded));
    assert_eq!(event.event.passport, Some(id));
    let detail = RegistryRecorded::from_value(&event.event.detail).unwrap();
    assert_eq!(detail, new.detail());
    assert_eq!(detail.dpp_sha256, hex_of(&public_sha256(1)));
    assert_eq!(
        detail.proof_sha256,
        hex_of(&Sha256::digest(&new.proof).into())
    );
    assert_eq!(s.registration(&id, 1).await.unwrap(), Some(row.clone()));
    assert_eq!(s.registrations_of(&id).await.unwrap(), vec![row.clone()]);
    assert_eq!(s.registration(&other, 1).await.unwrap(), None);

    // The same registration again (another time, another actor): unchanged, nothing written.
    let again = registration(id, 1, "REG-1", 40);
    assert_eq!(
        s.record_registration(again).await.unwrap(),
        Recorded::Unchanged(row.clone())
    );
    assert_eq!(s.audit_len().await.unwrap(), len + 1);
    // The same version with another id or proof: conflict, never changed.
    let e = s
        .record_registration(registration(id, 1, "REG-1b", 41))
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let mut text = registration(id, 1, "REG-1", 41);
    text.proof_media_type = ProofMediaType::Text;
    let e = s.record_registration(text).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    // The id names one version: another passport's version cannot take it.
    let e = s
        .record_registration(registration(other, 1, "REG-1", 42))
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.audit_len().await.unwrap(), len + 1);

    // Any stored version can be recorded, whatever the status now.
    s.suspend(&other, "recall".into(), audit(43, "passport.suspended"))
        .await
        .unwrap();
    let r2 = s
        .record_registration(registration(other, 1, "REG-2", 44))
        .await
        .unwrap();
    assert!(r2.created());
    assert_eq!(r2.record().seq, len + 3);
    assert_eq!(s.registrations_of(&id).await.unwrap(), vec![row]);
}

pub async fn registry_pending_lists_published_current_versions(s: S) {
    use hallmark_store::PreviousRegistration;
    let a = published(&s, "04012345678901").await;
    let draft = s
        .create_draft(new_passport("04012345678902", "battery"), audit(2, "c"))
        .await
        .unwrap()
        .id;
    let b = published(&s, "04012345678903").await;
    let suspended = published(&s, "04012345678904").await;
    s.suspend(&suspended, "recall".into(), audit(3, "passport.suspended"))
        .await
        .unwrap();
    let archived = published(&s, "04012345678905").await;
    s.archive(&archived, None, audit(4, "passport.archived"))
        .await
        .unwrap();
    let c = published(&s, "04012345678906").await;
    let ids = |page: &hallmark_store::Page<hallmark_store::PendingRegistration>| {
        page.items.iter().map(|p| p.passport.id).collect::<Vec<_>>()
    };

    // Published passports only, by id, each with its current version.
    let all = s.registry_pending(None, 100).await.unwrap();
    assert_eq!(ids(&all), vec![a, b, c]);
    assert_eq!(all.next, None);
    for p in &all.items {
        assert_eq!(p.version.passport, p.passport.id);
        assert_eq!(p.version.version, 1);
        assert_eq!(
            p.version,
            s.get_version(&p.passport.id, None).await.unwrap()
        );
        assert_eq!(p.previous, None);
    }
    assert!(!ids(&all).contains(&draft) && !ids(&all).contains(&suspended));
    assert!(!ids(&all).contains(&archived));
    // Keyset pages.
    let first = s.registry_pending(None, 2).await.unwrap();
    assert_eq!(ids(&first), vec![a, b]);
    assert_eq!(first.next, Some(b));
    let second = s.registry_pending(first.next.as_ref(), 2).await.unwrap();
    assert_eq!(ids(&second), vec![c]);
    assert_eq!(second.next, None);

    // A recorded version is no longer pending; suspended passports stay out even recorded.
    s.record_registration(registration(b, 1, "REG-B1", 10))
        .await
        .unwrap();
    s.record_registration(registration(suspended, 1, "REG-S1", 11))
        .await
        .unwrap();
    assert_eq!(
        ids(&s.registry_pending(None, 100).await.unwrap()),
        vec![a, c]
    );
    // A new version makes it pending again, with the earlier registration.
    s.start_version(&b, b"{\"v\":2}".to_vec(), None, audit(12, "r"))
        .await
        .unwrap();
    assert_eq!(
        ids(&s.registry_pending(None, 100).await.unwrap()),
        vec![a, c],
        "a pending draft changes nothing"
    );
    s.publish(&b, new_version(2, 13), publish(13, 2))
        .await
        .unwrap();
    let page = s.registry_pending(None, 100).await.unwrap();
    assert_eq!(ids(&page), vec![a, b, c]);
    let entry = &page.items[1];
    assert_eq!(entry.version.version, 2);
    assert_eq!(entry.passport.current_version, 2);
    assert_eq!(
        entry.previous,
        Some(PreviousRegistration {
            version: 1,
            registration_id: "REG-B1".to_owned()
        })
    );
    let after_a = s.registry_pending(Some(&a), 1).await.unwrap();
    assert_eq!(ids(&after_a), vec![b]);
    assert_eq!(after_a.next, Some(b));
    // Version 2 recorded: gone again.
    s.record_registration(registration(b, 2, "REG-B2", 14))
        .await
        .unwrap();
    assert_eq!(
        ids(&s.registry_pending(None, 100).await.unwrap()),
        vec![a, c]
    );
    assert_eq!(
        s.registrations_of(&b)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.version, r.registration_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "REG-B1"), (2, "REG-B2")]
    );
}

fn hex_of(bytes: &[u8; 32]) -> String {
    hallmark_core::passport::Sha256Digest(*bytes).to_hex()
}

pub async fn readers_register_inert_and_change_by_approval(s: S) {
    use hallmark_core::reader::{Grant, GrantScope, ReaderChange, ReaderStatus, ReaderTier};
    let (id, new) = new_reader(11);
    let len = s.audit_len().await.unwrap();
    // The event must be the change's action.
    let e = s
        .register_reader(id, new.clone(), reader_event(40, Action::ReaderApproved))
        .await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    assert_eq!(s.reader(&id).await.unwrap(), None);
    let r = s
        .register_reader(id, new.clone(), reader_event(40, Action::ReaderRegistered))
        .await
        .unwrap();
    assert_eq!(r.status, ReaderStatus::Registered);
    assert_eq!(r.grant, None);
    assert_eq!(
        r.fingerprint,
        hallmark_core::reader::fingerprint(&new.ed25519)
    );
    assert!(!r.admitted(at(41)));
    assert_eq!(s.reader(&id).await.unwrap().as_ref(), Some(&r));
    assert_eq!(
        s.reader_by_key(&new.ed25519).await.unwrap().as_ref(),
        Some(&r)
    );
    assert_eq!(s.reader_by_key(&[0; 32]).await.unwrap(), None);
    // Its event, subject the reader.
    let events = s.list_audit(len + 1, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.action, "reader.registered");
    assert_eq!(
        events[0].event.subject.as_deref(),
        Some(id.to_string().as_str())
    );
    // The same key again, under another id: Conflict, nothing written.
    let (other, _) = new_reader(12);
    let e = s
        .register_reader(
            other,
            new.clone(),
            reader_event(41, Action::ReaderRegistered),
        )
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.audit_len().await.unwrap(), len + 1);

    let grant = Grant {
        tier: ReaderTier::LegitimateInterest,
        scope: GrantScope::Sector {
            sector: "battery".into(),
        },
        expires_at: at(100_000),
    };
    // Not yet approved: no suspension, no resumption.
    for change in [
        ReaderChange::Suspend { reason: "x".into() },
        ReaderChange::Resume,
    ] {
        let action = change.action();
        let e = s.change_reader(&id, change, reader_event(42, action)).await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    }
    let approve = ReaderChange::Approve(grant.clone());
    let e = s
        .change_reader(
            &id,
            approve.clone(),
            reader_event(42, Action::ReaderRevoked),
        )
        .await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    let r = s
        .change_reader(&id, approve, reader_event(42, Action::ReaderApproved))
        .await
        .unwrap();
    assert_eq!(r.status, ReaderStatus::Approved);
    assert_eq!(r.grant.as_ref(), Some(&grant));
    assert!(r.admitted(at(43)));
    assert!(!r.admitted(at(100_000)));
    assert_eq!(s.reader(&id).await.unwrap().as_ref(), Some(&r));
    // Re-grant with another scope.
    let regrant = Grant {
        tier: ReaderTier::Authority,
        scope: GrantScope::Gtins {
            gtins: vec!["09506000134352".parse().unwrap()],
        },
        expires_at: at(200_000),
    };
    let r = s
        .change_reader(
            &id,
            ReaderChange::Approve(regrant.clone()),
            reader_event(43, Action::ReaderApproved),
        )
        .await
        .unwrap();
    assert_eq!(r.grant.as_ref(), Some(&regrant));
    let r = s
        .change_reader(
            &id,
            ReaderChange::Suspend {
                reason: "audit".into(),
            },
            reader_event(44, Action::ReaderSuspended),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ReaderStatus::Suspended);
    assert_eq!(r.status_reason.as_deref(), Some("audit"));
    assert_eq!(r.grant.as_ref(), Some(&regrant));
    assert!(!r.admitted(at(45)));
    let r = s
        .change_reader(
            &id,
            ReaderChange::Resume,
            reader_event(45, Action::ReaderResumed),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ReaderStatus::Approved);
    assert_eq!(r.status_reason, None);
    let r = s
        .change_reader(
            &id,
            ReaderChange::Revoke {
                reason: "contract ended".into(),
            },
            reader_event(46, Action::ReaderRevoked),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ReaderStatus::Revoked);
    assert_eq!(r.changed_at, at(46));
    assert_eq!(s.reader(&id).await.unwrap().as_ref(), Some(&r));
    // Revoked is terminal.
    let before = s.audit_len().await.unwrap();
    let e = s
        .change_reader(
            &id,
            ReaderChange::Approve(grant),
            reader_event(47, Action::ReaderApproved),
        )
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.audit_len().await.unwrap(), before);
    assert_eq!(before, len + 6);
    let e = s
        .change_reader(
            &other,
            ReaderChange::Resume,
            reader_event(47, Action::ReaderResumed),
        )
        .await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");

    // Listing: by status, keyset-paged by id.
    let (b, nb) = new_reader(13);
    let (c, nc) = new_reader(14);
    for (rid, n) in [(b, nb), (c, nc)] {
        s.register_reader(rid, n, reader_event(48, Action::ReaderRegistered))
            .await
            .unwrap();
    }
    let all = s.list_readers(None, None, 100).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id, b, c]);
    let registered = s
        .list_readers(Some(ReaderStatus::Registered), None, 100)
        .await
        .unwrap();
    assert_eq!(
        registered.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b, c]
    );
    let page = s.list_readers(None, Some(&id), 1).await.unwrap();
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![b]);
    assert!(s
        .list_readers(Some(ReaderStatus::Suspended), None, 100)
        .await
        .unwrap()
        .is_empty());
}

pub async fn request_nonces_are_used_once(s: S) {
    let (id, new) = new_reader(21);
    s.register_reader(id, new, reader_event(50, Action::ReaderRegistered))
        .await
        .unwrap();
    let len = s.audit_len().await.unwrap();
    assert!(s.use_nonce(&id, "n-1", at(350), at(50)).await.unwrap());
    assert!(!s.use_nonce(&id, "n-1", at(351), at(51)).await.unwrap());
    assert!(s.use_nonce(&id, "n-2", at(350), at(50)).await.unwrap());
    // Another reader's nonces are its own.
    let (other, new) = new_reader(22);
    s.register_reader(other, new, reader_event(52, Action::ReaderRegistered))
        .await
        .unwrap();
    assert!(s.use_nonce(&other, "n-1", at(350), at(52)).await.unwrap());
    let (unknown, _) = new_reader(23);
    let e = s.use_nonce(&unknown, "n-1", at(350), at(52)).await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");
    let e = s.use_nonce(&id, "", at(350), at(52)).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    let e = s.use_nonce(&id, &"n".repeat(257), at(350), at(52)).await;
    assert!(matches!(e, Err(StoreError::Constraint(_))), "{e:?}");
    // Concurrent uses of one nonce: exactly one is new.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.use_nonce(&id, "race", at(350), at(53)).await })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    // Nonces are not audit events.
    assert_eq!(s.audit_len().await.unwrap(), len + 1);
}

/// Issue 21: with the node's event source set, an audit event outsiders hear about gets its
/// CloudEvent in the outbox in the same transaction — and a write that fails leaves none;
/// events outsiders do not hear about (drafts) leave none either.
pub async fn outbox_events_exist_iff_their_change_committed(s: S) {
    use hallmark_core::events::EventSource;
    assert!(s.set_event_source(EventSource::new(
        "did:web:example.com",
        "https://example.com"
    )));
    assert!(!s.set_event_source(EventSource::new(
        "did:web:other.example",
        "https://other.example"
    )));
    let p = s
        .create_draft(
            new_passport("09506000134352", "battery"),
            audit(0, Action::PassportDraftCreated.as_str()),
        )
        .await
        .unwrap();
    assert!(
        s.outbox(0, 100).await.unwrap().is_empty(),
        "a draft is no event"
    );
    let record = s
        .publish(&p.id, new_version(1, 1), publish(1, 1))
        .await
        .unwrap();
    let rows = s.outbox(0, 100).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.topic, "eu.dpp.passport.published");
    assert_eq!(row.published_at, None);
    let seq = s.audit_len().await.unwrap();
    assert_eq!(row.audit_seq, seq);
    let event: serde_json::Value = serde_json::from_slice(&row.payload).unwrap();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["id"], seq.to_string());
    assert_eq!(event["source"], "did:web:example.com");
    assert_eq!(event["subject"], p.id.to_string());
    assert_eq!(event["data"]["version"], 1);
    assert_eq!(event["data"]["logIndex"], seq - 1);
    assert_eq!(
        event["data"]["passportUrl"],
        format!("https://example.com/passports/{}", p.id.uuid())
    );
    let _ = record;

    // A write that fails after its change was written (the same version again; a bad
    // audit event) commits nothing, so no event.
    assert!(s
        .publish(&p.id, new_version(1, 2), publish(2, 1))
        .await
        .is_err());
    assert!(s
        .change_status(
            &p.id,
            PassportStatus::Suspended,
            Some("r".into()),
            bad_audit(),
            vec![]
        )
        .await
        .is_err());
    assert_eq!(s.outbox(0, 100).await.unwrap().len(), 1);
    // A status change is an event.
    let mut suspended = audit(3, Action::PassportSuspended.as_str());
    suspended.detail = serde_json::json!({ "reason": "r" });
    s.change_status(
        &p.id,
        PassportStatus::Suspended,
        Some("r".into()),
        suspended,
        vec![],
    )
    .await
    .unwrap();
    let rows = s.outbox(rows[0].id, 100).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].topic, "eu.dpp.passport.status.changed");
    assert_eq!(s.outbox(rows[0].id, 100).await.unwrap(), vec![]);
}

/// Issue 21: one relay holds the lease at a time (another takes it once it expired); rows
/// are delivered in order and marked once; the backlog counts what waits.
pub async fn outbox_relay_lease_and_delivery_marks(s: S) {
    use hallmark_core::events::EventSource;
    s.set_event_source(EventSource::new(
        "did:web:example.com",
        "https://example.com",
    ));
    assert!(s.claim_relay("node-a", at(0), at(30)).await.unwrap());
    assert!(
        s.claim_relay("node-a", at(10), at(40)).await.unwrap(),
        "renewed"
    );
    assert!(
        !s.claim_relay("node-b", at(20), at(50)).await.unwrap(),
        "held by a"
    );
    assert!(
        s.claim_relay("node-b", at(41), at(71)).await.unwrap(),
        "expired: b takes it"
    );
    assert!(
        !s.claim_relay("node-a", at(50), at(80)).await.unwrap(),
        "now b's"
    );
    assert!(s.claim_relay("", at(50), at(80)).await.is_err());

    assert_eq!(s.outbox_backlog().await.unwrap().0, 0);
    let mut ids = Vec::new();
    for (n, gtin) in [(1, "09506000134352"), (3, "09506000134369")] {
        let p = s
            .create_draft(new_passport(gtin, "battery"), audit(n, "passport.create"))
            .await
            .unwrap();
        s.publish(&p.id, new_version(1, n + 1), publish(n + 1, 1))
            .await
            .unwrap();
        ids.push(p.id);
    }
    let (a, b) = (ids[0], ids[1]);
    let waiting = s.undelivered(100).await.unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(waiting[0].id < waiting[1].id);
    let subjects: Vec<String> = waiting
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap()["subject"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(subjects, vec![a.to_string(), b.to_string()]);
    let (n, oldest) = s.outbox_backlog().await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(oldest, Some(waiting[0].created_at));
    assert_eq!(s.mark_delivered(&[waiting[0].id], at(60)).await.unwrap(), 1);
    // Marked once: a second mark changes nothing.
    assert_eq!(s.mark_delivered(&[waiting[0].id], at(61)).await.unwrap(), 0);
    let left = s.undelivered(100).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, waiting[1].id);
    assert_eq!(s.outbox(0, 10).await.unwrap()[0].published_at, Some(at(60)));
    assert_eq!(s.mark_delivered(&[left[0].id], at(62)).await.unwrap(), 1);
    assert_eq!(s.outbox_backlog().await.unwrap(), (0, None));
}

pub async fn webhooks_subscribe_log_attempts_and_disable(s: S) {
    use hallmark_core::events::EventSource;
    use hallmark_store::{
        NewWebhook, WebhookAttempt, WebhookChange, WebhookProgress, WebhookStatus,
    };
    s.set_event_source(EventSource::new(
        "did:web:example.com",
        "https://example.com",
    ));
    let hook_event = |n: i64, action: &str| {
        let mut e = audit(n, action);
        e.detail = serde_json::json!({ "webhookId": "x" });
        e
    };
    // Events before the subscription are not its business: it starts after the last row.
    let p = s
        .create_draft(
            new_passport("09506000134352", "battery"),
            audit(1, "passport.create"),
        )
        .await
        .unwrap();
    s.publish(&p.id, new_version(1, 2), publish(2, 1))
        .await
        .unwrap();
    let before = s.outbox(0, 100).await.unwrap().last().unwrap().id;
    let id = "0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d";
    let new = NewWebhook {
        id: id.to_owned(),
        url: "https://hooks.example.com/h".to_owned(),
        types: vec!["*".to_owned()],
    };
    assert!(matches!(
        s.create_webhook(new.clone(), audit(3, "passport.create"))
            .await,
        Err(StoreError::Constraint(_))
    ));
    let hook = s
        .create_webhook(new.clone(), hook_event(3, "webhook.created"))
        .await
        .unwrap();
    assert_eq!(hook.cursor, before);
    assert_eq!(hook.status, WebhookStatus::Active);
    assert!(s
        .create_webhook(new.clone(), hook_event(4, "webhook.created"))
        .await
        .is_err());
    assert_eq!(s.webhooks().await.unwrap(), vec![hook.clone()]);
    assert_eq!(s.webhook(id).await.unwrap(), Some(hook.clone()));
    assert_eq!(s.webhook("nope").await.unwrap(), None);

    // A failed attempt: logged, progress kept; a success moves the cursor.
    let attempt = |n: u32, code: Option<u16>| WebhookAttempt {
        webhook_id: id.to_owned(),
        outbox_id: before,
        attempt: n,
        at: at(10 + i64::from(n)),
        status_code: code,
        error: code.is_none().then(|| "connect: refused ".repeat(100)),
        duration_ms: 7,
    };
    let progress = |cursor: u64, failures: u32| WebhookProgress {
        cursor,
        failures,
        next_attempt_at: at(100),
    };
    s.record_webhook_attempt(attempt(1, None), progress(hook.cursor, 1), None)
        .await
        .unwrap();
    s.record_webhook_attempt(attempt(2, Some(503)), progress(hook.cursor, 2), None)
        .await
        .unwrap();
    let h = s.webhook(id).await.unwrap().unwrap();
    assert_eq!((h.failures, h.next_attempt_at), (2, at(100)));
    let log = s.webhook_deliveries(id, None, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].attempt.status_code, Some(503));
    assert!(!log[0].attempt.ok());
    assert_eq!(
        log[1].attempt.error.as_ref().unwrap().len(),
        1000,
        "errors are cut at 1000 bytes"
    );
    assert_eq!(
        s.webhook_deliveries(id, Some(log[0].id), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    s.record_webhook_attempt(attempt(3, Some(204)), progress(before + 5, 0), None)
        .await
        .unwrap();
    let h = s.webhook(id).await.unwrap().unwrap();
    assert_eq!((h.cursor, h.failures), (before + 5, 0));
    assert!(s.webhook_deliveries(id, None, 1).await.unwrap()[0]
        .attempt
        .ok());
    // The cursor never moves back: an older progress leaves it, advance only forward.
    s.record_webhook_attempt(attempt(4, Some(204)), progress(before, 0), None)
        .await
        .unwrap();
    s.advance_webhook(id, before + 1).await.unwrap();
    assert_eq!(s.webhook(id).await.unwrap().unwrap().cursor, before + 5);
    s.advance_webhook(id, before + 9).await.unwrap();
    assert_eq!(s.webhook(id).await.unwrap().unwrap().cursor, before + 9);
    assert!(matches!(
        s.advance_webhook("0190c2f4-0000-7b1a-9c4d-2e5f6a7b8c9d", 1)
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Giving up: the attempt and the disabling, audited, in one transaction.
    let audit_len = s.audit_len().await.unwrap();
    s.record_webhook_attempt(
        attempt(5, Some(500)),
        progress(before + 9, 5),
        Some((
            "too many failures".to_owned(),
            hook_event(20, "webhook.disabled"),
        )),
    )
    .await
    .unwrap();
    let h = s.webhook(id).await.unwrap().unwrap();
    assert_eq!(h.status, WebhookStatus::Disabled);
    assert_eq!(h.disabled_reason.as_deref(), Some("too many failures"));
    assert_eq!(s.audit_len().await.unwrap(), audit_len + 1);
    // Disabled already: a second giving up logs the attempt, writes no second event.
    s.record_webhook_attempt(
        attempt(6, Some(500)),
        progress(before + 9, 6),
        Some(("again".to_owned(), hook_event(21, "webhook.disabled"))),
    )
    .await
    .unwrap();
    assert_eq!(s.audit_len().await.unwrap(), audit_len + 1);
    assert_eq!(
        s.webhook(id)
            .await
            .unwrap()
            .unwrap()
            .disabled_reason
            .as_deref(),
        Some("too many failures")
    );
    assert!(matches!(
        s.change_webhook(
            id,
            WebhookChange::Disable {
                reason: "x".to_owned()
            },
            hook_event(22, "webhook.disabled")
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let h = s
        .change_webhook(id, WebhookChange::Enable, hook_event(23, "webhook.enabled"))
        .await
        .unwrap();
    assert_eq!(
        (h.status, h.failures, h.disabled_reason),
        (WebhookStatus::Active, 0, None)
    );
    assert_eq!(h.cursor, before + 9, "enabling resumes from the cursor");
    assert!(matches!(
        s.change_webhook(id, WebhookChange::Enable, hook_event(24, "webhook.enabled"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.change_webhook(
            "0190c2f4-0000-7b1a-9c4d-2e5f6a7b8c9d",
            WebhookChange::Enable,
            hook_event(25, "webhook.enabled")
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    let actions: Vec<String> = s
        .list_audit(1, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.event.action)
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(
        actions,
        ["webhook.created", "webhook.disabled", "webhook.enabled"]
    );

    // The lease: one holder at a time, named leases only.
    assert!(s
        .claim_lease("webhooks", "node-a", at(0), at(30))
        .await
        .unwrap());
    assert!(!s
        .claim_lease("webhooks", "node-b", at(10), at(40))
        .await
        .unwrap());
    assert!(s
        .claim_lease("webhooks", "node-b", at(31), at(60))
        .await
        .unwrap());
    assert!(s
        .claim_lease("relay", "node-b", at(31), at(60))
        .await
        .is_err());
}
