//! Recovery: rebuilds the frame index from the WAL file's valid prefix when the WAL opens.
//!
//! The prefix ends at the first frame that fails validation (salt mismatch, checksum
//! mismatch, page number 0, or the end of the file); of that prefix, only frames up to the
//! last commit frame count. A damaged header means an empty WAL, never an error: the first
//! append rewrites the file from its start.

use strata_io::{Completion, File, IoError, IO};

use crate::format::{
    decode_frame, frame_bytes, Checksum, WalHeader, FRAME_HEADER_BYTES, WAL_HEADER_BYTES,
};
use crate::{FrameInfo, Result};

/// Frames read per `pread` while scanning: big reads keep recovery at a few syscalls per
/// megabyte instead of one per frame.
pub(crate) const RECOVERY_FRAMES_PER_READ: u64 = 64;

/// What recovery found.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// The valid header, if the file has one.
    pub header: Option<WalHeader>,
    /// The committed frames, in order (frame 1 first).
    pub frames: Vec<FrameInfo>,
    /// Checksum of the last committed frame (or of the header when there is none): the seed
    /// of the next frame appended.
    pub last_checksum: Checksum,
}

impl Recovered {
    /// What an empty (or missing) WAL file holds.
    pub(crate) fn empty() -> Recovered {
        Recovered {
            header: None,
            frames: Vec::new(),
            last_checksum: (0, 0),
        }
    }
}

/// Reads exactly what the file holds at `offset_bytes` (up to `len_bytes`), blocking on `io`.
fn read_blocking(
    io: &dyn IO,
    file: &dyn File,
    offset_bytes: u64,
    len_bytes: usize,
) -> Result<Vec<u8>> {
    let c = Completion::read(len_bytes);
    file.pread(offset_bytes, &c)?;
    let read_bytes = strata_io::wait(io, &c)?;
    if read_bytes > len_bytes {
        return Err(IoError::new(
            std::io::ErrorKind::Other,
            "read returned more than requested",
        )
        .into());
    }
    let mut buf = c.take_buf();
    buf.truncate(read_bytes);
    Ok(buf)
}

/// Scans the WAL file and returns its committed frames.
pub(crate) fn recover(io: &dyn IO, file: &dyn File) -> Result<Recovered> {
    let size_bytes = file.size_bytes()?;
    let empty = Recovered::empty();
    if size_bytes < WAL_HEADER_BYTES as u64 {
        return Ok(empty);
    }
    let header_bytes = read_blocking(io, file, 0, WAL_HEADER_BYTES)?;
    let Some((header, header_checksum)) = WalHeader::decode(&header_bytes) else {
        return Ok(empty);
    };

    let frame_size_bytes = frame_bytes(header.page_size);
    // Whole frames the file can hold; a partial last frame is a torn write.
    let frames_in_file = (size_bytes - WAL_HEADER_BYTES as u64) / frame_size_bytes;

    let mut frames: Vec<FrameInfo> = Vec::new();
    // Frames after the last commit frame: kept aside until a commit frame confirms them.
    let mut pending: Vec<FrameInfo> = Vec::new();
    let mut running = header_checksum;
    let mut last_commit_checksum = header_checksum;
    let mut next_frame_no: u64 = 1;
    'scan: while next_frame_no <= frames_in_file {
        let batch_frames = RECOVERY_FRAMES_PER_READ.min(frames_in_file - next_frame_no + 1);
        let offset_bytes = crate::format::frame_offset_bytes(next_frame_no, header.page_size);
        let len_bytes = usize::try_from(batch_frames * frame_size_bytes)
            .map_err(|_| IoError::new(std::io::ErrorKind::Other, "recovery read too large"))?;
        let buf = read_blocking(io, file, offset_bytes, len_bytes)?;
        // The file may have shrunk since size_bytes(); only whole frames count.
        for frame in buf.chunks_exact(FRAME_HEADER_BYTES + header.page_size) {
            let Some(decoded) = decode_frame(frame, &header, running) else {
                break 'scan;
            };
            running = decoded.checksum;
            pending.push(FrameInfo {
                page_no: decoded.page_no,
                commit_db_size_pages: decoded.commit_db_size_pages,
            });
            if decoded.commit_db_size_pages != 0 {
                frames.append(&mut pending);
                last_commit_checksum = running;
            }
            next_frame_no += 1;
        }
        if (buf.len() as u64) < len_bytes as u64 {
            break;
        }
    }
    debug_assert!(frames.last().is_none_or(|f| f.commit_db_size_pages != 0));
    Ok(Recovered {
        header: Some(header),
        frames,
        last_checksum: last_commit_checksum,
    })
}
