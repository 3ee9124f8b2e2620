//! A submission's identity: [`PassportDraft::digest`], the SHA-256 of the RFC 8785 form of
//! the fields a client submits, and [`Passport::draft`], those fields of a stored
//! passport. Two submissions that differ only in member order, whitespace or how a number
//! is written (within the input rules) have the same digest; any change to a field changes
//! it. The import's "unchanged" decision compares these digests (docs/import.md).

use super::{Passport, PassportDraft, Sha256Digest};
use crate::jcs::{self, JcsError};

impl PassportDraft {
    /// SHA-256 of the RFC 8785 (JCS) bytes of the submission's fields
    /// (`uniqueProductIdentifier`, `granularity`, `economicOperatorId`, `facilityId` and
    /// `commodityCode` when given, `sector`, `components` — `[]` when absent —, `data`). An
    /// absent optional field is left out, so adding `commodityCode` to the model changed no
    /// existing digest.
    pub fn digest(&self) -> Result<Sha256Digest, JcsError> {
        Ok(Sha256Digest::of(&jcs::canonicalize_serialize(self)?))
    }
}

impl Passport {
    /// The submitted fields of this passport (everything but the id, status, version
    /// and timestamps the node assigns): what [`PassportDraft::digest`] is taken over.
    pub fn draft(&self) -> PassportDraft {
        PassportDraft {
            product: self.product.clone(),
            granularity: self.granularity,
            economic_operator_id: self.economic_operator_id.clone(),
            facility_id: self.facility_id.clone(),
            commodity_code: self.commodity_code.clone(),
            sector: self.sector.clone(),
            components: self.components.clone(),
            data: self.data.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::passport::PassportId;
    use serde_json::{json, Value};
    use time::macros::datetime;

    fn submission() -> Value {
        json!({
            "uniqueProductIdentifier": {"gtin": "09506000134369", "serial": "S-1"},
            "granularity": "item",
            "economicOperatorId": "urn:eori:DE123",
            "sector": {"id": "battery", "schemaVersion": "1.2.0"},
            "data": {"a": {"b": 1.5, "c": [1, 2, {"d": "x"}]}, "e": true}
        })
    }

    /// SHA-256 of the RFC 8785 form of [`submission`], computed independently (Python
    /// `json.dumps(sort_keys=True, separators=(",", ":"))` with `"components": []`).
    const PINNED_DIGEST: &str = "3eff9d83cd5e52412e89aabdde13be46248ff2ef66594af14261c68fedd9a161";

    fn digest_of(text: &str) -> Sha256Digest {
        PassportDraft::from_json_slice(text.as_bytes())
            .unwrap()
            .digest()
            .unwrap()
    }

    #[test]
    fn equal_under_member_order_whitespace_and_number_spelling() {
        let a = digest_of(&submission().to_string());
        let b = digest_of(
            r#"{ "data": {"e": true, "a": {"c": [1, 2, {"d": "x"}], "b": 1.50}},
                 "sector": {"schemaVersion": "1.2.0", "id": "battery"},
                 "granularity": "item", "economicOperatorId": "urn:eori:DE123",
                 "uniqueProductIdentifier": {"serial": "S-1", "gtin": "09506000134369"},
                 "components": [] }"#,
        );
        assert_eq!(a, b);
        // The RFC 8785 bytes hashed are the sorted, whitespace-free form.
        let draft = PassportDraft::from_json_value(&submission()).unwrap();
        let bytes = jcs::canonicalize_serialize(&draft).unwrap();
        assert!(bytes.starts_with(br#"{"components":[],"data":{"a":{"b":1.5,"#));
        assert_eq!(a, Sha256Digest::of(&bytes));
    }

    /// Pinned: the digest of this submission (no `facilityId`, no `commodityCode`) as it was
    /// before `commodityCode` existed. Optional fields are left out when absent.
    #[test]
    fn digest_without_optional_fields_is_pinned() {
        assert_eq!(digest_of(&submission().to_string()).to_hex(), PINNED_DIGEST);
    }

    #[test]
    fn different_for_any_change_of_a_field() {
        let base = digest_of(&submission().to_string());
        let changes: Vec<fn(&mut Value)> = vec![
            |v| v["uniqueProductIdentifier"]["serial"] = json!("S-2"),
            |v| v["uniqueProductIdentifier"]["lot"] = json!("L1"),
            |v| v["economicOperatorId"] = json!("urn:eori:DE124"),
            |v| v["facilityId"] = json!("urn:gln:1"),
            |v| v["commodityCode"] = json!("85076000"),
            |v| v["sector"]["schemaVersion"] = json!("1.2.1"),
            |v| v["components"] = json!([{"uri": "https://x.example/p", "sha256": "0".repeat(64)}]),
            |v| v["data"]["a"]["b"] = json!(1.25),
            |v| v["data"]["a"]["c"][2]["d"] = json!("y"),
            |v| v["data"]["e"] = json!(false),
            |v| v["data"]["f"] = json!(null),
        ];
        let mut seen = std::collections::BTreeSet::from([base]);
        for (n, change) in changes.iter().enumerate() {
            let mut v = submission();
            change(&mut v);
            let d = digest_of(&v.to_string());
            assert!(seen.insert(d), "change {n} did not change the digest");
        }
    }

    #[test]
    fn a_stored_passport_gives_back_its_submission() {
        let draft = PassportDraft::from_json_value(&submission()).unwrap();
        let id = PassportId::from_parts(1_700_000_000_000, [7; 10]).unwrap();
        let now = datetime!(2026-01-01 0:00 UTC);
        let passport = Passport::new_draft(draft.clone(), id, now)
            .unwrap()
            .publish(3, None, now)
            .unwrap();
        assert_eq!(passport.draft(), draft);
        assert_eq!(passport.draft().digest().unwrap(), draft.digest().unwrap());
    }
}
