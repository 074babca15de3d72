//! Writing stored captures as WARC/1.1 (ISO 28500:2017; the specification:
//! <https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/>),
//! through the `warc` crate, one gzip member per record (`.warc.gz`, as
//! archives and their tools expect) or plain.
//!
//! The file starts with a `warcinfo` record. Each snapshot redliner fetched
//! itself becomes a `request` record and a `response` record
//! (`application/http;msgtype=response`); each snapshot imported from a web
//! archive becomes a `resource` record of the capture as the archive
//! replayed it, with `WARC-Source-URI` naming the replay. The payload (the
//! body exactly as stored, after HTTP content decoding, which is why no
//! `Content-Encoding` is written) carries `WARC-Payload-Digest`, and every
//! record `WARC-Block-Digest`, both `sha256:` in base32 (RFC 4648). The
//! request and the response headers are rebuilt from the store's index
//! (status, content type, validators); the payloads are byte-exact, and
//! their digests are the ledger's `raw` digests (in base32 rather than hex).
//! Record ids are derived from the store and snapshot, so exporting the
//! same snapshots twice gives the same ids.

use std::io::Write;

use data_encoding::BASE32;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use warc::{RecordBuilder, RecordType, WarcHeader, WarcWriter};

use crate::error::{Error, Result};
use crate::store::{SnapshotRow, Store};

/// What [`write_warc`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Snapshots exported.
    pub snapshots: usize,
    /// Records written (the `warcinfo` included).
    pub records: usize,
}

/// `sha256:` and the base32 of the SHA-256 of `bytes`, as WARC digests are
/// written.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", BASE32.encode(&Sha256::digest(bytes)))
}

/// The same digest from a hex SHA-256 (a ledger entry's), when it is one.
pub fn digest_of_hex(hex_sha256: &str) -> Option<String> {
    hex::decode(hex_sha256)
        .ok()
        .filter(|b| b.len() == 32)
        .map(|b| format!("sha256:{}", BASE32.encode(&b)))
}

/// A record id, `<urn:uuid:…>`, derived from `seed` (a UUID-shaped SHA-256
/// prefix, version 8).
fn record_id(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// WARC-Date text: UTC, seconds.
fn warc_date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Writes one record (header fields in the order given) to `out`, gzipped
/// as a member of its own when `gzip`.
fn put(
    out: &mut dyn Write,
    gzip: bool,
    kind: RecordType,
    fields: Vec<(WarcHeader, String)>,
    block: Vec<u8>,
) -> Result<()> {
    let mut builder = RecordBuilder::default()
        .version("1.1".to_string())
        .warc_type(kind);
    for (name, value) in fields {
        builder = match name {
            WarcHeader::RecordID => builder.warc_id(value),
            other => builder.header(other, value),
        };
    }
    let block_digest = digest(&block);
    let record = builder
        .header(WarcHeader::BlockDigest, block_digest)
        .body(block)
        .build()
        .map_err(|e| Error::Usage(format!("a WARC record could not be made: {e}")))?;
    let mut bytes = Vec::new();
    WarcWriter::new(&mut bytes).write(&record).map_err(io)?;
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(&mut *out, flate2::Compression::default());
        gz.write_all(&bytes).map_err(io)?;
        gz.finish().map_err(io)?;
    } else {
        out.write_all(&bytes).map_err(io)?;
    }
    Ok(())
}

fn io(source: std::io::Error) -> Error {
    Error::System {
        what: "writing the WARC file",
        source,
    }
}

/// The reason phrase of a status, for the rebuilt status line.
fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// Writes the `warcinfo` record, then the records of every snapshot of
/// `targets` (capture order within each target) to `out`.
///
/// # Errors
/// [`Error::Store`] when a body cannot be read; [`Error::System`] when
/// `out` fails.
pub fn write_warc(
    store: &Store,
    targets: &[String],
    out: &mut dyn Write,
    gzip: bool,
    filename: &str,
) -> Result<Written> {
    let mut written = Written::default();
    let info_id = record_id(&format!(
        "{}/warcinfo/{filename}",
        store.location().display()
    ));
    let info = format!(
        "software: redliner/{}\r\nformat: WARC File Format 1.1\r\n\
         conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
         description: Pages captured by redliner, or imported by it from web archives. \
         Payloads are byte-exact as stored (after HTTP content decoding); request records and \
         response headers are rebuilt from the store's index.\r\n",
        env!("CARGO_PKG_VERSION")
    );
    put(
        out,
        gzip,
        RecordType::WarcInfo,
        vec![
            (WarcHeader::RecordID, info_id.clone()),
            (WarcHeader::Date, warc_date(Timestamp::now())),
            (WarcHeader::Filename, filename.to_string()),
            (
                WarcHeader::ContentType,
                "application/warc-fields".to_string(),
            ),
        ],
        info.into_bytes(),
    )?;
    written.records += 1;
    for target in targets {
        for row in store.snapshots_in_order(target)? {
            let body = super::checked_body(store, &row)?;
            written.records += write_snapshot(store, &row, &body, out, gzip, &info_id)?;
            written.snapshots += 1;
        }
    }
    Ok(written)
}

/// The records of one snapshot; returns how many.
///
/// # Errors
/// As [`write_warc`].
pub fn write_snapshot(
    store: &Store,
    row: &SnapshotRow,
    body: &[u8],
    out: &mut dyn Write,
    gzip: bool,
    info_id: &str,
) -> Result<usize> {
    let seed = format!("{}/{}/{}", store.location().display(), row.target, row.id);
    let date = warc_date(row.captured_at);
    let content_type = row
        .content_type
        .clone()
        .unwrap_or_else(|| "text/html".to_string());
    let payload_digest = digest(body);
    if let Some(archive) = &row.source {
        let mut fields = vec![
            (WarcHeader::RecordID, record_id(&format!("{seed}/resource"))),
            (WarcHeader::Date, date),
            (
                WarcHeader::TargetURI,
                row.source_url
                    .as_deref()
                    .and_then(crate::backfill::replayed_original)
                    .unwrap_or_else(|| row.url.clone()),
            ),
            (WarcHeader::ContentType, content_type),
            (WarcHeader::PayloadDigest, payload_digest),
            (WarcHeader::WarcInfoID, info_id.to_string()),
            (
                WarcHeader::Unknown("WARC-Source-Archive".into()),
                archive.clone(),
            ),
        ];
        if let Some(source) = &row.source_url {
            fields.push((
                WarcHeader::Unknown("WARC-Source-URI".into()),
                source.clone(),
            ));
        }
        put(out, gzip, RecordType::Resource, fields, body.to_vec())?;
        return Ok(1);
    }
    let uri = row.final_url.clone();
    let url = url::Url::parse(&uri).ok();
    let request_id = record_id(&format!("{seed}/request"));
    let response_id = record_id(&format!("{seed}/response"));
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        row.http_status,
        reason(row.http_status),
        body.len()
    );
    if let Some(etag) = &row.etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    if let Some(lm) = &row.last_modified {
        head.push_str(&format!("Last-Modified: {lm}\r\n"));
    }
    head.push_str("\r\n");
    let mut block = head.into_bytes();
    block.extend_from_slice(body);
    put(
        out,
        gzip,
        RecordType::Response,
        vec![
            (WarcHeader::RecordID, response_id.clone()),
            (WarcHeader::Date, date.clone()),
            (WarcHeader::TargetURI, uri.clone()),
            (
                WarcHeader::ContentType,
                "application/http;msgtype=response".to_string(),
            ),
            (WarcHeader::PayloadDigest, payload_digest),
            (WarcHeader::WarcInfoID, info_id.to_string()),
        ],
        block,
    )?;
    let target = url.as_ref().map_or_else(
        || "/".to_string(),
        |u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
    );
    let host = url
        .as_ref()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: {}\r\nAccept-Language: {}\r\n\r\n",
        crate::fetch::default_user_agent(),
        crate::fetch::ACCEPT,
        crate::fetch::ACCEPT_LANGUAGE
    );
    put(
        out,
        gzip,
        RecordType::Request,
        vec![
            (WarcHeader::RecordID, request_id),
            (WarcHeader::Date, date),
            (WarcHeader::TargetURI, uri),
            (
                WarcHeader::ContentType,
                "application/http;msgtype=request".to_string(),
            ),
            (WarcHeader::ConcurrentTo, response_id),
            (WarcHeader::WarcInfoID, info_id.to_string()),
        ],
        request.into_bytes(),
    )?;
    Ok(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_in_base32() {
        assert_eq!(
            digest(b""),
            "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ===="
        );
        assert_eq!(
            digest_of_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            Some(digest(b""))
        );
        let id = record_id("x");
        assert_eq!(id.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&id[24..25], "8");
    }
}
