//! Operator links per product identifier (served in the resolver's linkset): added (with
//! the node's tag, when the store has its keys), removed for good (the row is never changed
//! otherwise nor deleted — the database's triggers refuse it), each write with its audit
//! event in the same transaction.

use hallmark_core::resolver::MAX_LINKS_PER_IDENTIFIER;

use super::audit::append_audit_tx;
use super::db::{query, Columns};
use super::rows::{page_limit, parse_granularity, utc};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{AuditEvent, LinkFilter, NewProductLink, ProductKey, ProductLinkRecord};

const LINK_COLS: &str = "id, gtin, granularity, lot, serial, link_type, href, title, media_type, \
     hreflang, created_at, removed_at, removed_reason, tag";

fn link_from_row(row: &impl Columns) -> Result<ProductLinkRecord> {
    let granularity: String = row.col("granularity")?;
    let hreflang: String = row.col("hreflang")?;
    Ok(ProductLinkRecord {
        id: row.col("id")?,
        product: ProductKey {
            gtin: row.col("gtin")?,
            granularity: parse_granularity(&granularity)?,
            lot: row.col("lot")?,
            serial: row.col("serial")?,
        },
        link_type: row.col("link_type")?,
        href: row.col("href")?,
        title: row.col("title")?,
        media_type: row.col("media_type")?,
        hreflang: serde_json::from_str(&hreflang)
            .map_err(|e| StoreError::Corrupt(format!("link hreflang {hreflang:?}: {e}")))?,
        created_at: row.col("created_at")?,
        removed_at: row.col("removed_at")?,
        removed_reason: row.col("removed_reason")?,
        tag: row.col("tag")?,
    })
}

pub(super) async fn add_link<B: Backend>(
    s: &SqlStore<B>,
    link: NewProductLink,
    audit: AuditEvent,
) -> Result<ProductLinkRecord> {
    if !link.product.fits_granularity()
        || (link.product.granularity == hallmark_core::passport::Granularity::Item
            && link.product.lot.is_some())
    {
        return Err(StoreError::Constraint(format!(
            "a link's identifier has exactly the parts of its level: {}",
            link.product
        )));
    }
    let hreflang = serde_json::to_string(&link.hreflang)
        .map_err(|e| StoreError::Constraint(format!("link hreflang: {e}")))?;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ProductLinkRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let key = &link.product;
                // Every audited write of every node holds the audit head until it commits
                // (the batch's `BEGIN_WRITE`), so the count cannot change before the insert.
                let active: i64 = query(
                    "SELECT count(*) AS n FROM product_links WHERE gtin = $1 \
                     AND granularity = $2 AND coalesce(serial, lot, '') = $3 \
                     AND removed_at IS NULL",
                )
                .bind(&key.gtin)
                .bind(key.granularity.as_str())
                .bind(key.qualifier())
                .fetch_one(&mut *tx)
                .await?
                .col("n")?;
                if usize::try_from(active).unwrap_or(usize::MAX) >= MAX_LINKS_PER_IDENTIFIER {
                    return Err(StoreError::Conflict(format!(
                        "{key} already has {MAX_LINKS_PER_IDENTIFIER} active links, the most \
                         allowed; remove one first"
                    )));
                }
                let mut record = ProductLinkRecord {
                    id: link.id,
                    product: link.product,
                    link_type: link.link_type,
                    href: link.href,
                    title: link.title,
                    media_type: link.media_type,
                    hreflang: link.hreflang,
                    created_at: now,
                    removed_at: None,
                    removed_reason: None,
                    tag: None,
                };
                record.tag = match tags.as_ref() {
                    Some(keys) => Some(keys.link_row_tag(&record.authenticated_bytes()?).to_vec()),
                    None => None,
                };
                let key = &record.product;
                query(
                    "INSERT INTO product_links (id, gtin, granularity, lot, serial, link_type, \
                     href, title, media_type, hreflang, created_at, removed_at, removed_reason, \
                     tag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12)",
                )
                .bind(&record.id)
                .bind(&key.gtin)
                .bind(key.granularity.as_str())
                .bind(&key.lot)
                .bind(&key.serial)
                .bind(&record.link_type)
                .bind(&record.href)
                .bind(&record.title)
                .bind(&record.media_type)
                .bind(&hreflang)
                .bind(now)
                .bind(&record.tag)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(record)
            })
        },
    )
    .await
}

pub(super) async fn remove_link<B: Backend>(
    s: &SqlStore<B>,
    id: &str,
    reason: &str,
    audit: AuditEvent,
) -> Result<ProductLinkRecord> {
    let id = id.to_owned();
    let reason = reason.to_owned();
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ProductLinkRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let sql = format!(
                    "SELECT {LINK_COLS} FROM product_links WHERE id = $1{}",
                    B::FOR_UPDATE
                );
                let row = query(&sql)
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("link {id}")))?;
                let mut link = link_from_row(&row)?;
                if link.removed_at.is_some() {
                    return Err(StoreError::ImmutableViolation(format!(
                        "link {id} is already removed"
                    )));
                }
                query(
                    "UPDATE product_links SET removed_at = $1, removed_reason = $2 WHERE id = $3",
                )
                .bind(now)
                .bind(&reason)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                link.removed_at = Some(now);
                link.removed_reason = Some(reason);
                Ok(link)
            })
        },
    )
    .await
}

pub(super) async fn get_link<B: Backend>(
    s: &SqlStore<B>,
    id: &str,
) -> Result<Option<ProductLinkRecord>> {
    let sql = format!("SELECT {LINK_COLS} FROM product_links WHERE id = $1");
    query(&sql)
        .bind(id)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(link_from_row)
        .transpose()
}

pub(super) async fn links_for<B: Backend>(
    s: &SqlStore<B>,
    keys: &[ProductKey],
) -> Result<Vec<ProductLinkRecord>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let levels: Vec<String> = (0..keys.len())
        .map(|i| {
            let n = 3 * i;
            format!(
                "(gtin = ${} AND granularity = ${} AND coalesce(serial, lot, '') = ${})",
                n + 1,
                n + 2,
                n + 3
            )
        })
        .collect();
    let sql = format!(
        "SELECT {LINK_COLS} FROM product_links WHERE removed_at IS NULL AND ({}) \
         ORDER BY created_at, id",
        levels.join(" OR ")
    );
    let mut q = query(&sql);
    for key in keys {
        q = q
            .bind(key.gtin.as_str())
            .bind(key.granularity.as_str())
            .bind(key.qualifier());
    }
    q.fetch_all(&s.pool)
        .await?
        .iter()
        .map(link_from_row)
        .collect()
}

pub(super) async fn list_links<B: Backend>(
    s: &SqlStore<B>,
    filter: &LinkFilter,
) -> Result<Vec<ProductLinkRecord>> {
    let mut conditions = vec!["gtin = $1".to_owned()];
    let mut args: Vec<&str> = vec![filter.gtin.as_str()];
    for (column, value) in [("lot", &filter.lot), ("serial", &filter.serial)] {
        if let Some(v) = value {
            args.push(v);
            conditions.push(format!("{column} = ${}", args.len()));
        }
    }
    if !filter.removed {
        conditions.push("removed_at IS NULL".to_owned());
    }
    let sql = format!(
        "SELECT {LINK_COLS} FROM product_links WHERE {} ORDER BY created_at, id LIMIT ${}",
        conditions.join(" AND "),
        args.len() + 1
    );
    let mut q = query(&sql);
    for arg in args {
        q = q.bind(arg);
    }
    q.bind(page_limit(crate::MAX_PAGE))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(link_from_row)
        .collect()
}
