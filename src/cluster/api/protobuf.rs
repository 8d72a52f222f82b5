//! The one protobuf request body the embedded cluster reads: kubectl sends SelfSubjectAccessReviews
//! (`kubectl auth can-i`) as `application/vnd.kubernetes.protobuf`. This decodes the envelope
//! (`k8s\0` + `runtime.Unknown`) and the review's resource attributes into the JSON form the
//! handler already understands; responses stay JSON, which kubectl also accepts.

use serde_json::{Map, Value, json};

use super::status::{ApiError, ApiResult};

/// The media type kubectl uses for protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The length-delimited fields of a message, by field number (other wire types are skipped).
fn fields(buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        match key & 7 {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => pos = pos.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((key >> 3, buf.get(pos..end)?));
                pos = end;
            }
            5 => pos = pos.checked_add(4)?,
            _ => return None,
        }
    }
    (pos == buf.len()).then_some(out)
}

fn field(fs: &[(u64, &'_ [u8])], number: u64) -> Option<Vec<u8>> {
    fs.iter().find(|(n, _)| *n == number).map(|(_, b)| b.to_vec())
}

/// Decodes a protobuf SelfSubjectAccessReview into its JSON form.
pub fn decode_access_review(body: &[u8]) -> ApiResult<Value> {
    let bad = || ApiError::bad_request("the protobuf body is not a valid SelfSubjectAccessReview");
    let unknown = body.strip_prefix(b"k8s\0").ok_or_else(bad)?;
    let envelope = fields(unknown).ok_or_else(bad)?;
    let raw = field(&envelope, 2).ok_or_else(bad)?;
    let review = fields(&raw).ok_or_else(bad)?;
    let spec_bytes = field(&review, 2).unwrap_or_default();
    let spec = fields(&spec_bytes).ok_or_else(bad)?;
    let mut out =
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {}, "spec": {}});
    if let Some(attrs) = field(&spec, 1) {
        let attrs = fields(&attrs).ok_or_else(bad)?;
        let mut m = Map::new();
        for (number, name) in [
            (1, "namespace"),
            (2, "verb"),
            (3, "group"),
            (4, "version"),
            (5, "resource"),
            (6, "subresource"),
            (7, "name"),
        ] {
            if let Some(v) = field(&attrs, number) {
                m.insert(name.into(), json!(String::from_utf8_lossy(&v)));
            }
        }
        out["spec"]["resourceAttributes"] = Value::Object(m);
    } else if let Some(attrs) = field(&spec, 2) {
        let attrs = fields(&attrs).ok_or_else(bad)?;
        let s = |n| field(&attrs, n).map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
        out["spec"]["nonResourceAttributes"] = json!({"path": s(1), "verb": s(2)});
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![((number << 3) | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_kubectl_auth_can_i() {
        let attrs = [ld(1, b"team-a"), ld(2, b"create"), ld(5, b"pods")].concat();
        let spec = ld(1, &attrs);
        let review = [ld(1, b""), ld(2, &spec)].concat();
        let unknown =
            [ld(1, &[ld(1, b"authorization.k8s.io/v1"), ld(2, b"SelfSubjectAccessReview")].concat()), ld(2, &review)]
                .concat();
        let body = [b"k8s\0".as_slice(), &unknown].concat();
        let v = decode_access_review(&body).expect("decodes");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "team-a", "verb": "create", "resource": "pods"})
        );
        assert!(decode_access_review(b"k8s\0\xff\xff").is_err());
        assert!(decode_access_review(b"{}").is_err());
    }
}
