//! # strata-sync: the V2 sync protocol's wire types
//!
//! The format contract shared by `strata-server` (which serves it) and an embedded
//! replica (which consumes it), as the `libsql` client (crate 0.9.x, npm `libsql` 0.5.x)
//! speaks it (`shared/notes/libsql-protocols.md`, section 5). No HTTP types here.
//!
//! ## Contract
//! - **Frame** ([`Frame`]): exactly [`FRAME_SIZE`] = 4120 bytes: a 24-byte big-endian
//!   header, then one [`PAGE_SIZE`] = 4096-byte page. Header: bytes 0..4 page number
//!   (>= 1); 4..8 the database size in pages after the commit, non-zero only on the
//!   last frame of a transaction (the *commit frame*); 8..24 four u32 words that clients
//!   ignore (SQLite's salts and checksums). Strata fills them with its log's integrity
//!   fields ([`Frame::encode`]): generation, frame number, CRC32 of bytes 0..16 and the
//!   page, and zero. The page size is the client's constant: 4096 only.
//! - **Frame numbers** are 1-based and per generation: frame N of generation G is the
//!   N-th frame committed in G. A pull body (`GET /sync/{g}/{s}/{e}`) is k >= 1 frames
//!   s, s+1, ... concatenated; a replica writes frame N at its WAL position N.
//! - **Generations** ([`InfoResponse`]) are integers >= 1, consecutive, that never
//!   decrease. Generation G+1 continues from the last committed state of G: a replica
//!   that has every frame of G checkpoints and goes on with G+1's frame 1.
//!   `GET /export/{G}` is the database image at G's start.
//! - **End of generation** ([`EndOfGeneration`]): `HTTP 400` with `{"generation": G}`
//!   (the current generation) when nothing exists at or after `s` in `g`.
//! - **Replica metadata** ([`ReplicaMeta`]): the replica's `<db>-info` file, JSON
//!   `{"hash", "version": 0, "durable_frame_num", "generation"}`, where `hash` is the
//!   CRC32 of `version`, `durable_frame_num`, `generation` as little-endian u32s.
//!
//! Decoding never panics: malformed input is a [`SyncError`] naming what is wrong.

use serde::{Deserialize, Serialize};

/// The page size of every frame (a constant of the libSQL client).
pub const PAGE_SIZE: usize = 4096;
/// Bytes of a frame header.
pub const FRAME_HEADER_SIZE: usize = 24;
/// Bytes of a frame: header and page.
pub const FRAME_SIZE: usize = FRAME_HEADER_SIZE + PAGE_SIZE;
/// How many frames the libSQL client asks for per pull.
pub const CLIENT_PULL_BATCH: u32 = 128;
/// The only metadata version the client knows.
pub const META_VERSION: u32 = 0;

/// What is wrong with input that should be protocol data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncError {
    /// A frame buffer of the wrong length.
    FrameLength { len: usize },
    /// A pull body whose length is zero or not a multiple of [`FRAME_SIZE`].
    BodyLength { len: usize },
    /// A frame with page number 0.
    ZeroPageNumber,
    /// A Strata-written frame whose checksum does not match (torn or damaged).
    Checksum { expected: u32, found: u32 },
    /// JSON that does not have the expected shape.
    Json(String),
    /// `current_generation` or `generation` 0 (generations start at 1).
    ZeroGeneration,
    /// A metadata file whose hash does not match its fields.
    MetaHash { stored: u32, computed: u32 },
    /// A metadata file of another version.
    MetaVersion { found: u32 },
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::FrameLength { len } => {
                write!(f, "a frame is {FRAME_SIZE} bytes, got {len}")
            }
            SyncError::BodyLength { len } => write!(
                f,
                "a frames body is a non-zero multiple of {FRAME_SIZE} bytes, got {len}"
            ),
            SyncError::ZeroPageNumber => write!(f, "frame with page number 0"),
            SyncError::Checksum { expected, found } => write!(
                f,
                "frame checksum mismatch: header says {expected:#010x}, content gives {found:#010x}"
            ),
            SyncError::Json(m) => write!(f, "malformed JSON: {m}"),
            SyncError::ZeroGeneration => write!(f, "generation 0 is invalid (they start at 1)"),
            SyncError::MetaHash { stored, computed } => write!(
                f,
                "replica metadata hash mismatch: stored {stored}, computed {computed}"
            ),
            SyncError::MetaVersion { found } => write!(
                f,
                "replica metadata version {found} is not supported (expected {META_VERSION})"
            ),
        }
    }
}

impl std::error::Error for SyncError {}

/// The header of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub page_no: u32,
    /// Database size in pages after the commit; non-zero marks a commit frame.
    pub db_size_after: u32,
    /// Bytes 8..24 as four big-endian words (SQLite's salts and checksums; ignored by
    /// clients; Strata's integrity fields, see [`Frame::encode`]).
    pub extra: [u32; 4],
}

impl FrameHeader {
    pub fn is_commit(&self) -> bool {
        self.db_size_after != 0
    }
}

/// One frame: a header and a 4096-byte page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub page: Vec<u8>,
}

fn be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The CRC Strata stores in header bytes 16..20: over bytes 0..16 and the page.
fn frame_crc(head16: &[u8], page: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(head16);
    h.update(page);
    h.finalize()
}

impl Frame {
    /// Encodes a frame as Strata writes it: header words 8..24 are `generation`,
    /// `frame_no`, the CRC32 of bytes 0..16 and the page, and 0. `page` must be
    /// [`PAGE_SIZE`] bytes and `page_no` non-zero.
    pub fn encode(
        page_no: u32,
        db_size_after: u32,
        generation: u32,
        frame_no: u32,
        page: &[u8],
    ) -> Result<[u8; FRAME_SIZE], SyncError> {
        if page.len() != PAGE_SIZE {
            return Err(SyncError::FrameLength {
                len: FRAME_HEADER_SIZE + page.len(),
            });
        }
        if page_no == 0 {
            return Err(SyncError::ZeroPageNumber);
        }
        let mut out = [0u8; FRAME_SIZE];
        out[0..4].copy_from_slice(&page_no.to_be_bytes());
        out[4..8].copy_from_slice(&db_size_after.to_be_bytes());
        out[8..12].copy_from_slice(&generation.to_be_bytes());
        out[12..16].copy_from_slice(&frame_no.to_be_bytes());
        out[FRAME_HEADER_SIZE..].copy_from_slice(page);
        let crc = frame_crc(&out[0..16], page);
        out[16..20].copy_from_slice(&crc.to_be_bytes());
        Ok(out)
    }

    /// Decodes one frame from exactly [`FRAME_SIZE`] bytes (the checksum words are not
    /// checked: clients ignore them; see [`Frame::verify_strata_checksum`]).
    pub fn decode(bytes: &[u8]) -> Result<Frame, SyncError> {
        if bytes.len() != FRAME_SIZE {
            return Err(SyncError::FrameLength { len: bytes.len() });
        }
        let header = FrameHeader {
            page_no: be(bytes, 0),
            db_size_after: be(bytes, 4),
            extra: [be(bytes, 8), be(bytes, 12), be(bytes, 16), be(bytes, 20)],
        };
        if header.page_no == 0 {
            return Err(SyncError::ZeroPageNumber);
        }
        Ok(Frame {
            header,
            page: bytes[FRAME_HEADER_SIZE..].to_vec(),
        })
    }

    /// Checks the CRC a Strata log wrote into bytes 16..20 of an encoded frame (used
    /// to find a torn tail when the server scans its log).
    pub fn verify_strata_checksum(bytes: &[u8]) -> Result<(), SyncError> {
        if bytes.len() != FRAME_SIZE {
            return Err(SyncError::FrameLength { len: bytes.len() });
        }
        let expected = be(bytes, 16);
        let found = frame_crc(&bytes[0..16], &bytes[FRAME_HEADER_SIZE..]);
        if expected != found {
            return Err(SyncError::Checksum { expected, found });
        }
        Ok(())
    }
}

/// Splits a pull body into frames: it must be k >= 1 whole frames.
pub fn decode_frames(body: &[u8]) -> Result<Vec<Frame>, SyncError> {
    if body.is_empty() || body.len() % FRAME_SIZE != 0 {
        return Err(SyncError::BodyLength { len: body.len() });
    }
    body.chunks(FRAME_SIZE).map(Frame::decode).collect()
}

/// `GET /info`'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub current_generation: u32,
    /// Strata's extension (ignored by libSQL clients): the last commit frame of the
    /// current generation when the answer was made, so that a replica's sync has a
    /// target and ends while the primary keeps writing. Absent from other servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_frame_no: Option<u32>,
}

impl InfoResponse {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain struct encodes")
    }
    /// Decodes and checks `current_generation >= 1` (the client refuses 0).
    pub fn from_json(text: &[u8]) -> Result<InfoResponse, SyncError> {
        let v: InfoResponse =
            serde_json::from_slice(text).map_err(|e| SyncError::Json(e.to_string()))?;
        if v.current_generation == 0 {
            return Err(SyncError::ZeroGeneration);
        }
        Ok(v)
    }
}

/// The body of the 400 "end of generation" answer to a pull: the current generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfGeneration {
    pub generation: u32,
}

impl EndOfGeneration {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain struct encodes")
    }
    pub fn from_json(text: &[u8]) -> Result<EndOfGeneration, SyncError> {
        let v: EndOfGeneration =
            serde_json::from_slice(text).map_err(|e| SyncError::Json(e.to_string()))?;
        if v.generation == 0 {
            return Err(SyncError::ZeroGeneration);
        }
        Ok(v)
    }
}

/// The replica's `<db>-info` file: how far it has durably applied the primary's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaMeta {
    pub hash: u32,
    pub version: u32,
    /// The last commit frame of `generation` applied (0: none yet).
    pub durable_frame_num: u32,
    pub generation: u32,
}

impl ReplicaMeta {
    /// Metadata for a position, with its hash.
    pub fn new(generation: u32, durable_frame_num: u32) -> ReplicaMeta {
        let mut m = ReplicaMeta {
            hash: 0,
            version: META_VERSION,
            durable_frame_num,
            generation,
        };
        m.hash = m.compute_hash();
        m
    }

    /// CRC32 of version, durable_frame_num, generation as little-endian u32s.
    pub fn compute_hash(&self) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(&self.version.to_le_bytes());
        h.update(&self.durable_frame_num.to_le_bytes());
        h.update(&self.generation.to_le_bytes());
        h.finalize()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain struct encodes")
    }

    /// Decodes and verifies: the hash, the version, generation >= 1.
    pub fn from_json(text: &[u8]) -> Result<ReplicaMeta, SyncError> {
        let m: ReplicaMeta =
            serde_json::from_slice(text).map_err(|e| SyncError::Json(e.to_string()))?;
        let computed = m.compute_hash();
        if m.hash != computed {
            return Err(SyncError::MetaHash {
                stored: m.hash,
                computed,
            });
        }
        if m.version != META_VERSION {
            return Err(SyncError::MetaVersion { found: m.version });
        }
        if m.generation == 0 {
            return Err(SyncError::ZeroGeneration);
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(fill: u8) -> Vec<u8> {
        (0..PAGE_SIZE).map(|i| fill ^ (i as u8)).collect()
    }

    #[test]
    fn frame_round_trip_and_layout() {
        let p = page(7);
        let bytes = Frame::encode(3, 9, 2, 41, &p).unwrap();
        assert_eq!(&bytes[0..4], &[0, 0, 0, 3]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 9]);
        assert_eq!(&bytes[8..12], &[0, 0, 0, 2]);
        assert_eq!(&bytes[12..16], &[0, 0, 0, 41]);
        assert_eq!(&bytes[20..24], &[0, 0, 0, 0]);
        let f = Frame::decode(&bytes).unwrap();
        assert_eq!(f.header.page_no, 3);
        assert_eq!(f.header.db_size_after, 9);
        assert!(f.header.is_commit());
        assert_eq!(f.page, p);
        Frame::verify_strata_checksum(&bytes).unwrap();
        let non_commit = Frame::decode(&Frame::encode(1, 0, 1, 1, &p).unwrap()).unwrap();
        assert!(!non_commit.header.is_commit());
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert_eq!(
            Frame::decode(&[0u8; 100]),
            Err(SyncError::FrameLength { len: 100 })
        );
        assert_eq!(
            Frame::decode(&[0u8; FRAME_SIZE]),
            Err(SyncError::ZeroPageNumber)
        );
        assert_eq!(
            Frame::encode(0, 1, 1, 1, &page(0)),
            Err(SyncError::ZeroPageNumber)
        );
        assert!(matches!(
            Frame::encode(1, 1, 1, 1, &[0u8; 512]),
            Err(SyncError::FrameLength { .. })
        ));
        let mut bytes = Frame::encode(1, 1, 1, 1, &page(1)).unwrap();
        bytes[100] ^= 1;
        assert!(matches!(
            Frame::verify_strata_checksum(&bytes),
            Err(SyncError::Checksum { .. })
        ));
        assert_eq!(decode_frames(&[]), Err(SyncError::BodyLength { len: 0 }));
        assert_eq!(
            decode_frames(&[1u8; FRAME_SIZE + 1]),
            Err(SyncError::BodyLength {
                len: FRAME_SIZE + 1
            })
        );
        let mut two = Frame::encode(1, 0, 1, 1, &page(1)).unwrap().to_vec();
        two.extend_from_slice(&Frame::encode(2, 2, 1, 2, &page(2)).unwrap());
        let frames = decode_frames(&two).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].header.page_no, 2);
    }

    #[test]
    fn info_and_end_of_generation() {
        let i = InfoResponse {
            current_generation: 3,
            current_frame_no: None,
        };
        assert_eq!(i.to_json(), r#"{"current_generation":3}"#);
        assert_eq!(InfoResponse::from_json(i.to_json().as_bytes()).unwrap(), i);
        let j = InfoResponse {
            current_generation: 3,
            current_frame_no: Some(7),
        };
        assert_eq!(
            j.to_json(),
            r#"{"current_generation":3,"current_frame_no":7}"#
        );
        assert_eq!(InfoResponse::from_json(j.to_json().as_bytes()).unwrap(), j);
        assert_eq!(
            InfoResponse::from_json(br#"{"current_generation":0}"#),
            Err(SyncError::ZeroGeneration)
        );
        assert!(matches!(
            InfoResponse::from_json(b"{"),
            Err(SyncError::Json(_))
        ));
        let e = EndOfGeneration { generation: 2 };
        assert_eq!(e.to_json(), r#"{"generation":2}"#);
        assert_eq!(
            EndOfGeneration::from_json(br#"{"generation":2}"#).unwrap(),
            e
        );
        assert!(EndOfGeneration::from_json(br#"{"message":"x"}"#).is_err());
    }

    #[test]
    fn replica_meta_hash() {
        let m = ReplicaMeta::new(1, 42);
        // The hash is CRC32 over 0, 42, 1 as little-endian u32s.
        let mut bytes = Vec::new();
        for v in [0u32, 42, 1] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(m.hash, crc32fast::hash(&bytes));
        let back = ReplicaMeta::from_json(m.to_json().as_bytes()).unwrap();
        assert_eq!(back, m);
        let tampered = format!(
            r#"{{"hash":{},"version":0,"durable_frame_num":43,"generation":1}}"#,
            m.hash
        );
        assert!(matches!(
            ReplicaMeta::from_json(tampered.as_bytes()),
            Err(SyncError::MetaHash { .. })
        ));
        let v1 = ReplicaMeta {
            version: 1,
            ..ReplicaMeta::new(1, 0)
        };
        let v1 = ReplicaMeta {
            hash: v1.compute_hash(),
            ..v1
        };
        assert_eq!(
            ReplicaMeta::from_json(v1.to_json().as_bytes()),
            Err(SyncError::MetaVersion { found: 1 })
        );
        let g0 = ReplicaMeta::new(0, 0);
        assert_eq!(
            ReplicaMeta::from_json(g0.to_json().as_bytes()),
            Err(SyncError::ZeroGeneration)
        );
    }
}
