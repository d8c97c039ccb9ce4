//! The 100-byte database header at the start of page 1.
//!
//! | offset | size | field                                                   |
//! |-------:|-----:|---------------------------------------------------------|
//! |      0 |   16 | "SQLite format 3\0"                                     |
//! |     16 |    2 | page size in bytes (1 means 65536), big-endian          |
//! |     18 |    1 | file format write version (1 legacy, 2 WAL)             |
//! |     19 |    1 | file format read version (1 legacy, 2 WAL)              |
//! |     20 |    1 | reserved bytes at the end of each page                  |
//! |     21 |    1 | max embedded payload fraction, must be 64               |
//! |     22 |    1 | min embedded payload fraction, must be 32               |
//! |     23 |    1 | leaf payload fraction, must be 32                       |
//! |     24 |    4 | file change counter                                     |
//! |     28 |    4 | database size in pages (valid if 24 == 92)              |
//! |     32 |    4 | first freelist trunk page (maintained by the B-tree)    |
//! |     36 |    4 | total freelist pages (maintained by the B-tree)         |
//! |     40 |    4 | schema cookie                                           |
//! |     44 |    4 | schema format number (1..=4)                            |
//! |     48 |    4 | default page cache size                                 |
//! |     52 |    4 | largest root page (auto-vacuum), 0 if none              |
//! |     56 |    4 | text encoding (1 UTF-8, 2 UTF-16le, 3 UTF-16be)         |
//! |     60 |    4 | user version                                            |
//! |     64 |    4 | incremental vacuum mode                                 |
//! |     68 |    4 | application id                                          |
//! |     72 |   20 | reserved, zero                                          |
//! |     92 |    4 | version-valid-for: change counter when 28 was written   |
//! |     96 |    4 | SQLITE_VERSION_NUMBER of the last writer                |
//!
//! The pager owns 24, 28, 92 and 96 (written at every commit that touches page 1 or changes
//! the database size); the B-tree owns the freelist fields; the SQL layer owns the rest.

pub const HEADER_SIZE: usize = 100;
pub const MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub const OFFSET_PAGE_SIZE: usize = 16;
pub const OFFSET_WRITE_VERSION: usize = 18;
pub const OFFSET_READ_VERSION: usize = 19;
pub const OFFSET_RESERVED_BYTES: usize = 20;
pub const OFFSET_MAX_PAYLOAD_FRACTION: usize = 21;
pub const OFFSET_MIN_PAYLOAD_FRACTION: usize = 22;
pub const OFFSET_LEAF_PAYLOAD_FRACTION: usize = 23;
pub const OFFSET_CHANGE_COUNTER: usize = 24;
pub const OFFSET_DB_SIZE_PAGES: usize = 28;
pub const OFFSET_FREELIST_TRUNK: usize = 32;
pub const OFFSET_FREELIST_COUNT: usize = 36;
pub const OFFSET_SCHEMA_COOKIE: usize = 40;
pub const OFFSET_SCHEMA_FORMAT: usize = 44;
pub const OFFSET_DEFAULT_CACHE_SIZE: usize = 48;
pub const OFFSET_LARGEST_ROOT: usize = 52;
pub const OFFSET_TEXT_ENCODING: usize = 56;
pub const OFFSET_USER_VERSION: usize = 60;
pub const OFFSET_INCREMENTAL_VACUUM: usize = 64;
pub const OFFSET_APPLICATION_ID: usize = 68;
pub const OFFSET_VERSION_VALID_FOR: usize = 92;
pub const OFFSET_SQLITE_VERSION: usize = 96;

/// The SQLite version we claim to write as (3.46.0), as SQLite records its own.
pub const SQLITE_VERSION_NUMBER: u32 = 3_046_000;

pub const PAGE_SIZE_MIN: usize = 512;
pub const PAGE_SIZE_MAX: usize = 65536;

/// Smallest usable page size SQLite accepts (page size minus reserved bytes).
pub const USABLE_SIZE_MIN: usize = 480;

pub fn read_u32(buf: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        buf[offset],
        buf[offset + 1],
        buf[offset + 2],
        buf[offset + 3],
    ])
}

pub fn write_u32(buf: &mut [u8], offset: usize, value: u32) {
    buf[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

pub fn read_u16(buf: &[u8], offset: usize) -> u16 {
    u16::from_be_bytes([buf[offset], buf[offset + 1]])
}

/// Whether `size` is a legal page size.
pub fn is_valid_page_size(size: usize) -> bool {
    (PAGE_SIZE_MIN..=PAGE_SIZE_MAX).contains(&size) && size.is_power_of_two()
}

/// The fields of a header that the pager needs, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseHeader {
    pub page_size: usize,
    pub reserved_bytes: usize,
    pub read_version: u8,
    pub write_version: u8,
    pub change_counter: u32,
    /// Database size from offset 28 when it is valid (non-zero and 24 == 92).
    pub db_size_pages: Option<u32>,
    /// Auto-vacuum or incremental vacuum is on (offset 52 non-zero): the file has
    /// pointer-map pages.
    pub auto_vacuum: bool,
    /// Incremental vacuum (offset 64 non-zero; meaningful only with `auto_vacuum`).
    pub incremental_vacuum: bool,
    /// Text encoding as SQLite reads it (offset 56 masked with 3; 0 means UTF-8):
    /// 1 UTF-8, 2 UTF-16le, 3 UTF-16be.
    pub text_encoding: u32,
}

impl DatabaseHeader {
    /// Parses and validates the first 100 bytes of a database file.
    pub fn parse(buf: &[u8]) -> Result<DatabaseHeader, String> {
        if buf.len() < HEADER_SIZE {
            return Err(format!(
                "file is not a database: header is {} bytes",
                buf.len()
            ));
        }
        if &buf[..16] != MAGIC {
            return Err("file is not a database: bad magic".into());
        }
        let raw_page_size = read_u16(buf, OFFSET_PAGE_SIZE) as usize;
        let page_size = if raw_page_size == 1 {
            PAGE_SIZE_MAX
        } else {
            raw_page_size
        };
        if !is_valid_page_size(page_size) {
            return Err(format!(
                "file is not a database: invalid page size {raw_page_size}"
            ));
        }
        let reserved_bytes = buf[OFFSET_RESERVED_BYTES] as usize;
        if page_size - reserved_bytes < USABLE_SIZE_MIN {
            return Err(format!(
                "file is not a database: {reserved_bytes} reserved bytes"
            ));
        }
        if buf[OFFSET_MAX_PAYLOAD_FRACTION] != 64
            || buf[OFFSET_MIN_PAYLOAD_FRACTION] != 32
            || buf[OFFSET_LEAF_PAYLOAD_FRACTION] != 32
        {
            return Err("file is not a database: bad payload fractions".into());
        }
        let write_version = buf[OFFSET_WRITE_VERSION];
        let read_version = buf[OFFSET_READ_VERSION];
        if !(1..=2).contains(&read_version) || !(1..=2).contains(&write_version) {
            return Err(format!(
                "unsupported file format (read version {read_version}, write version \
                 {write_version}; a newer SQLite made this file)"
            ));
        }
        let change_counter = read_u32(buf, OFFSET_CHANGE_COUNTER);
        let size = read_u32(buf, OFFSET_DB_SIZE_PAGES);
        let valid_for = read_u32(buf, OFFSET_VERSION_VALID_FOR);
        let db_size_pages = (size != 0 && valid_for == change_counter).then_some(size);
        let auto_vacuum = read_u32(buf, OFFSET_LARGEST_ROOT) != 0;
        let incremental_vacuum = read_u32(buf, OFFSET_INCREMENTAL_VACUUM) != 0;
        let text_encoding = text_encoding_of(buf);
        Ok(DatabaseHeader {
            auto_vacuum,
            incremental_vacuum,
            text_encoding,
            page_size,
            reserved_bytes,
            read_version,
            write_version,
            change_counter,
            db_size_pages,
        })
    }
}

impl DatabaseHeader {
    /// Why Strata must refuse to open this (valid) database, with what to do instead; `None`
    /// when it can be opened. Checked before any byte is written or any file created, so a
    /// refused database is left exactly as it was.
    pub fn unsupported_reason(&self) -> Option<String> {
        // Every text encoding is supported (records hold text in the database encoding,
        // see strata_btree::text_encoding), and auto-vacuum databases are opened and
        // written (the B-tree keeps their pointer maps through the commit hook,
        // [`crate::CommitHook`]). Nothing is refused today; the hook stays for the next
        // feature.
        None
    }
}

/// The text encoding in page 1's header (1 UTF-8, 2 UTF-16le, 3 UTF-16be): SQLite keeps
/// only the low two bits (`meta & 3`) and treats 0 as UTF-8. `page1` holds the header.
pub fn text_encoding_of(page1: &[u8]) -> u32 {
    match read_u32(page1, OFFSET_TEXT_ENCODING) & 3 {
        0 => TEXT_ENCODING_UTF8,
        e => e,
    }
}

pub const TEXT_ENCODING_UTF8: u32 = 1;
pub const TEXT_ENCODING_UTF16LE: u32 = 2;
pub const TEXT_ENCODING_UTF16BE: u32 = 3;

/// SQLite's name for a text encoding (`PRAGMA encoding`).
pub fn encoding_name(text_encoding: u32) -> &'static str {
    match text_encoding {
        TEXT_ENCODING_UTF16LE => "UTF-16le",
        TEXT_ENCODING_UTF16BE => "UTF-16be",
        _ => "UTF-8",
    }
}

/// Page 1 of a new, empty database in WAL mode: the header and an empty table leaf
/// (the root of `sqlite_schema`).
pub fn new_database_page1(page_size: usize, reserved_bytes: usize) -> Vec<u8> {
    assert!(is_valid_page_size(page_size));
    assert!(page_size - reserved_bytes >= USABLE_SIZE_MIN);
    let mut page = vec![0u8; page_size];
    page[..16].copy_from_slice(MAGIC);
    let raw_page_size = if page_size == PAGE_SIZE_MAX {
        1
    } else {
        page_size as u16
    };
    page[OFFSET_PAGE_SIZE..OFFSET_PAGE_SIZE + 2].copy_from_slice(&raw_page_size.to_be_bytes());
    page[OFFSET_WRITE_VERSION] = 2;
    page[OFFSET_READ_VERSION] = 2;
    page[OFFSET_RESERVED_BYTES] = reserved_bytes as u8;
    page[OFFSET_MAX_PAYLOAD_FRACTION] = 64;
    page[OFFSET_MIN_PAYLOAD_FRACTION] = 32;
    page[OFFSET_LEAF_PAYLOAD_FRACTION] = 32;
    write_u32(&mut page, OFFSET_CHANGE_COUNTER, 1);
    write_u32(&mut page, OFFSET_DB_SIZE_PAGES, 1);
    write_u32(&mut page, OFFSET_SCHEMA_FORMAT, 4);
    write_u32(&mut page, OFFSET_TEXT_ENCODING, 1);
    write_u32(&mut page, OFFSET_VERSION_VALID_FOR, 1);
    write_u32(&mut page, OFFSET_SQLITE_VERSION, SQLITE_VERSION_NUMBER);
    // The B-tree page header of the empty sqlite_schema leaf: type 13 (table leaf), no
    // freeblocks, no cells, content area starting at the end of the usable space.
    let usable = page_size - reserved_bytes;
    page[HEADER_SIZE] = 13;
    let content_start = if usable == 65536 { 0 } else { usable as u16 };
    page[HEADER_SIZE + 5..HEADER_SIZE + 7].copy_from_slice(&content_start.to_be_bytes());
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_page1_parses_back() {
        for page_size in [512, 4096, 65536] {
            let page = new_database_page1(page_size, 0);
            let h = DatabaseHeader::parse(&page).unwrap();
            assert_eq!(h.page_size, page_size);
            assert_eq!(h.db_size_pages, Some(1));
            assert_eq!((h.read_version, h.write_version), (2, 2));
        }
    }

    #[test]
    fn bad_headers_are_errors() {
        assert!(DatabaseHeader::parse(b"short").is_err());
        let mut page = new_database_page1(4096, 0);
        page[0] = b'X';
        assert!(DatabaseHeader::parse(&page).is_err());
        let mut page = new_database_page1(4096, 0);
        page[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert!(DatabaseHeader::parse(&page)
            .unwrap_err()
            .contains("page size"));
        let mut page = new_database_page1(4096, 0);
        page[OFFSET_RESERVED_BYTES] = 255;
        assert!(DatabaseHeader::parse(&page).is_ok());
        let mut page = new_database_page1(512, 0);
        page[OFFSET_RESERVED_BYTES] = 100;
        assert!(DatabaseHeader::parse(&page).is_err());
    }

    /// Page 1 of a new database is SQLite's own, byte for byte, apart from the counters
    /// SQLite's first write moves and the version number of the library that wrote it.
    #[test]
    fn new_page1_is_sqlites() {
        for page_size in [512, 1024, 4096, 65536] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("n.db");
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA page_size={page_size}; PRAGMA journal_mode=WAL; \
                 PRAGMA wal_checkpoint(TRUNCATE);"
            ))
            .unwrap();
            drop(conn);
            let mut theirs = std::fs::read(&path).unwrap()[..page_size].to_vec();
            let mut ours = new_database_page1(page_size, 0);
            for buf in [&mut theirs, &mut ours] {
                for offset in [
                    // The change counter (and its copy) and the writer's version.
                    OFFSET_CHANGE_COUNTER,
                    OFFSET_VERSION_VALID_FOR,
                    OFFSET_SQLITE_VERSION,
                    // SQLite sets these with the first schema entry; Strata at once (4 and
                    // UTF-8, what SQLite's first CREATE writes).
                    OFFSET_SCHEMA_FORMAT,
                    OFFSET_TEXT_ENCODING,
                ] {
                    write_u32(buf, offset, 0);
                }
            }
            assert!(ours == theirs, "page size {page_size}: page 1 differs");
        }
    }

    #[test]
    fn every_field_parses_as_sqlite_reads_it() {
        let base = new_database_page1(4096, 0);
        let h = DatabaseHeader::parse(&base).unwrap();
        assert_eq!(h.reserved_bytes, 0);
        assert_eq!(h.change_counter, 1);
        assert!(!h.auto_vacuum && !h.incremental_vacuum);
        assert_eq!(h.text_encoding, TEXT_ENCODING_UTF8);
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut p = base.clone();
            f(&mut p);
            DatabaseHeader::parse(&p)
        };
        // A buffer of exactly the header is enough.
        assert!(DatabaseHeader::parse(&base[..HEADER_SIZE]).is_ok());
        assert!(DatabaseHeader::parse(&base[..HEADER_SIZE - 1]).is_err());
        // Reserved bytes: usable size 480 is the least SQLite accepts.
        for (page_size, reserved, ok) in [(512, 32, true), (512, 33, false), (1024, 255, true)] {
            let mut p = new_database_page1(page_size, 0);
            p[OFFSET_RESERVED_BYTES] = reserved;
            let parsed = DatabaseHeader::parse(&p);
            assert_eq!(parsed.is_ok(), ok, "{page_size} - {reserved}");
            if ok {
                assert_eq!(parsed.unwrap().reserved_bytes, reserved as usize);
            }
        }
        // Each payload fraction alone.
        for (offset, good) in [
            (OFFSET_MAX_PAYLOAD_FRACTION, 64),
            (OFFSET_MIN_PAYLOAD_FRACTION, 32),
            (OFFSET_LEAF_PAYLOAD_FRACTION, 32),
        ] {
            assert!(
                with(&|p| p[offset] = good + 1).is_err(),
                "fraction at {offset}"
            );
        }
        // Read and write versions 1 and 2 only, each alone.
        for v in [0u8, 3] {
            assert!(with(&|p| p[OFFSET_READ_VERSION] = v).is_err(), "read {v}");
            assert!(with(&|p| p[OFFSET_WRITE_VERSION] = v).is_err(), "write {v}");
        }
        let h = with(&|p| {
            p[OFFSET_READ_VERSION] = 1;
            p[OFFSET_WRITE_VERSION] = 1;
        })
        .unwrap();
        assert_eq!((h.read_version, h.write_version), (1, 1));
        // The size at offset 28 counts only when non-zero and 92 equals 24.
        // Every byte of a big-endian field counts.
        let h = with(&|p| write_u32(p, OFFSET_DB_SIZE_PAGES, 0x0102_0304)).unwrap();
        assert_eq!(h.db_size_pages, Some(0x0102_0304));
        let h = with(&|p| {
            write_u32(p, OFFSET_CHANGE_COUNTER, 0x0a0b_0c0d);
            write_u32(p, OFFSET_VERSION_VALID_FOR, 0x0a0b_0c0d);
        })
        .unwrap();
        assert_eq!((h.change_counter, h.db_size_pages), (0x0a0b_0c0d, Some(1)));
        assert_eq!(read_u16(&[0x12, 0x34], 0), 0x1234);
        let h = with(&|p| write_u32(p, OFFSET_DB_SIZE_PAGES, 7)).unwrap();
        assert_eq!(h.db_size_pages, Some(7));
        let h = with(&|p| write_u32(p, OFFSET_DB_SIZE_PAGES, 0)).unwrap();
        assert_eq!(h.db_size_pages, None);
        let h = with(&|p| write_u32(p, OFFSET_VERSION_VALID_FOR, 2)).unwrap();
        assert_eq!(h.db_size_pages, None);
        let h = with(&|p| write_u32(p, OFFSET_CHANGE_COUNTER, 9)).unwrap();
        assert_eq!((h.change_counter, h.db_size_pages), (9, None));
        // Auto-vacuum and incremental vacuum.
        let h = with(&|p| write_u32(p, OFFSET_LARGEST_ROOT, 3)).unwrap();
        assert!(h.auto_vacuum && !h.incremental_vacuum);
        let h = with(&|p| write_u32(p, OFFSET_INCREMENTAL_VACUUM, 1)).unwrap();
        assert!(h.incremental_vacuum);
        // Text encoding: SQLite keeps the low two bits, 0 is UTF-8.
        for (raw, want) in [(0, 1), (1, 1), (2, 2), (3, 3), (4, 1), (6, 2), (7, 3)] {
            let h = with(&|p| write_u32(p, OFFSET_TEXT_ENCODING, raw)).unwrap();
            assert_eq!(h.text_encoding, want, "encoding {raw}");
        }
        assert_eq!(encoding_name(TEXT_ENCODING_UTF8), "UTF-8");
        assert_eq!(encoding_name(TEXT_ENCODING_UTF16LE), "UTF-16le");
        assert_eq!(encoding_name(TEXT_ENCODING_UTF16BE), "UTF-16be");
        assert_eq!(h.unsupported_reason(), None);
    }

    #[test]
    fn page_sizes_are_powers_of_two_from_512_to_65536() {
        for (size, ok) in [
            (256, false),
            (511, false),
            (512, true),
            (768, false),
            (1024, true),
            (32768, true),
            (65536, true),
            (131072, false),
            (0, false),
        ] {
            assert_eq!(is_valid_page_size(size), ok, "{size}");
        }
        // The schema root's content area starts at the end of the usable space (0 for
        // 65536), reserved bytes excluded.
        for (page_size, reserved, start) in [
            (4096, 0, 4096),
            (4096, 8, 4088),
            (65536, 0, 0),
            (65536, 8, 65528),
        ] {
            let p = new_database_page1(page_size, reserved);
            assert_eq!(p[OFFSET_RESERVED_BYTES] as usize, reserved);
            assert_eq!(
                read_u16(&p, HEADER_SIZE + 5),
                start,
                "{page_size} - {reserved}"
            );
        }
        // 65536 is stored as 1; a stored 1 reads back as 65536, a stored 0 is invalid.
        let p = new_database_page1(65536, 0);
        assert_eq!(read_u16(&p, OFFSET_PAGE_SIZE), 1);
        let mut p = new_database_page1(512, 0);
        p[OFFSET_PAGE_SIZE..OFFSET_PAGE_SIZE + 2].copy_from_slice(&0u16.to_be_bytes());
        assert!(DatabaseHeader::parse(&p).is_err());
    }
}
