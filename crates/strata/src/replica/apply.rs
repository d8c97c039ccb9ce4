//! Applying the primary's committed pages to the replica's own database.
//!
//! A run of whole transactions (frames up to a commit frame) reduces to its net effect:
//! the last image of each page, and the database size after the last commit; pages past
//! that size are dropped. Applying the net effect as ONE local write transaction gives
//! exactly the state after the last of them (each frame is a whole page image), and
//! readers see either the state before or the state after, never a mix. The same path
//! applies a whole export image (a re-bootstrap after a generation was lost), so that
//! too is one atomic switch while readers keep reading.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use strata_pager::Pager;
use strata_sync::Frame;

use crate::connection::busy_wait;
use crate::error::{Error, ErrorCode, Result};

/// The net effect of whole transactions.
#[derive(Debug, Default)]
pub(crate) struct PageSet {
    pub pages: BTreeMap<u32, Vec<u8>>,
    pub db_size_pages: u32,
}

impl PageSet {
    /// The net effect of `frames`, which must end with a commit frame (consumed: the
    /// pages move into the set rather than being copied).
    pub fn from_frames(frames: Vec<Frame>) -> Result<PageSet> {
        let mut set = PageSet::default();
        match frames.last() {
            Some(f) if f.header.is_commit() => {}
            _ => return Err(replica_error("a pull ended inside a transaction")),
        }
        for f in frames {
            set.pages.insert(f.header.page_no, f.page);
            if f.header.is_commit() {
                set.db_size_pages = f.header.db_size_after;
                // A commit that shrank the database drops the pages past its end; a
                // later transaction that grows it again writes them anew.
                set.pages
                    .split_off(&(f.header.db_size_after.saturating_add(1)));
            }
        }
        Ok(set)
    }

    /// A whole database image (page 1 first), as the export endpoint sends it.
    pub fn from_image(image: &[u8], page_size: usize) -> Result<PageSet> {
        if image.is_empty() || image.len() % page_size != 0 {
            return Err(replica_error(format!(
                "a database image of {} bytes is not whole {page_size}-byte pages",
                image.len()
            )));
        }
        let pages: BTreeMap<u32, Vec<u8>> = image
            .chunks(page_size)
            .enumerate()
            .map(|(i, p)| (i as u32 + 1, p.to_vec()))
            .collect();
        Ok(PageSet {
            db_size_pages: pages.len() as u32,
            pages,
        })
    }
}

pub(crate) fn replica_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::Error, format!("replica: {}", message.into()))
}

/// Writes `set` into the database as one committed write transaction through `pager`
/// (a connection of the replica's own, used for nothing else). Blocking: drives `io`
/// and waits out a concurrent checkpoint's lock up to `busy_timeout`. On error the
/// transaction is rolled back and the database is as before.
pub(crate) fn apply(
    pager: &Arc<Pager>,
    io: &Arc<dyn strata_io::IO>,
    set: &PageSet,
    busy_timeout: std::time::Duration,
) -> Result<()> {
    if set.db_size_pages == 0 {
        return Err(replica_error("a transaction leaving an empty database"));
    }
    let mut busy_since: Option<Instant> = None;
    loop {
        match pager.begin_write() {
            Ok(()) => break,
            Err(strata_pager::Error::Busy) => {
                if pager.in_read_tx() {
                    pager.end_read();
                }
                busy_wait(&mut busy_since, busy_timeout)?;
            }
            Err(e) => {
                if pager.in_read_tx() {
                    pager.end_read();
                }
                return Err(e.into());
            }
        }
    }
    let result = write_pages(pager, set).and_then(|()| loop {
        match pager.commit()? {
            Poll::Ready(()) => break Ok(()),
            Poll::Pending => io.run_once()?,
        }
    });
    if result.is_err() && pager.in_write_tx() {
        let _ = pager.rollback();
    }
    if pager.in_read_tx() {
        pager.end_read();
    }
    result
}

fn write_pages(pager: &Pager, set: &PageSet) -> Result<()> {
    let page_size = pager.page_size();
    let grow_to = set
        .pages
        .keys()
        .next_back()
        .copied()
        .unwrap_or(0)
        .max(set.db_size_pages);
    while pager.db_size_pages() < grow_to {
        pager.append_page()?;
    }
    for (&page_no, image) in &set.pages {
        if image.len() != page_size {
            return Err(replica_error(format!(
                "page {page_no} is {} bytes, the database's pages are {page_size}",
                image.len()
            )));
        }
        let page = pager.new_page_at(page_no)?;
        page.data_mut().copy_from_slice(image);
    }
    if pager.db_size_pages() > set.db_size_pages {
        pager.truncate_pages(set.db_size_pages)?;
    }
    // The pages are the primary's committed state, pointer maps and page 1 included:
    // nothing is derived from them here (an auto-vacuum commit hook has nothing to
    // add), and page 1 is not stamped again.
    pager.set_derived_in_sync();
    pager.set_verbatim_commit()?;
    Ok(())
}
