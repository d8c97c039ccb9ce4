//! The database file with its size remembered.
//!
//! A read transaction whose snapshot does not read the WAL (a checkpointed database)
//! needs the database file's size; asking the OS (`fstat`) for it on every statement made
//! a cached point select cost a system call. The file is locked exclusively by this
//! process for as long as it is open, so only our own writes change its size. The size is
//! remembered after an `fstat` made while no write or truncation through this handle was
//! in flight, and forgotten when one is submitted; until every submitted one has
//! completed, each call asks the OS again.

use std::sync::{Arc, Mutex};

use strata_io::{Completion, File, LockKind, Result};

pub(crate) struct SizeCachedFile {
    inner: Arc<dyn File>,
    state: Mutex<SizeState>,
}

#[derive(Default)]
struct SizeState {
    size_bytes: Option<u64>,
    /// Writes and truncations submitted and maybe not completed.
    in_flight: Vec<Completion>,
    /// `in_flight` is pruned of completed operations when it reaches this length (then
    /// twice what is left), so a checkpoint submitting many writes costs amortized O(1)
    /// per write and the list stays bounded without `size_bytes` calls.
    prune_at: usize,
}

impl SizeCachedFile {
    pub(crate) fn new(inner: Arc<dyn File>) -> SizeCachedFile {
        SizeCachedFile {
            inner,
            state: Mutex::new(SizeState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SizeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A write or truncation is about to be submitted: the size may change.
    fn changing(&self, c: &Completion) {
        let mut s = self.state();
        s.size_bytes = None;
        if s.in_flight.len() >= s.prune_at {
            s.in_flight.retain(|c| !c.is_done());
            s.prune_at = (2 * s.in_flight.len()).max(64);
        }
        s.in_flight.push(c.clone());
    }
}

impl File for SizeCachedFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        self.inner.lock(kind)
    }

    fn unlock(&self) -> Result<()> {
        self.inner.unlock()
    }

    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        self.inner.pread(offset, c)
    }

    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        self.changing(c);
        self.inner.pwrite(offset, c)
    }

    fn sync(&self, c: &Completion) -> Result<()> {
        self.inner.sync(c)
    }

    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        self.changing(c);
        self.inner.truncate(size_bytes, c)
    }

    fn size_bytes(&self) -> Result<u64> {
        // Held across the fstat: a write submitted meanwhile waits, then forgets it.
        let mut s = self.state();
        s.in_flight.retain(|c| !c.is_done());
        if let Some(n) = s.size_bytes.filter(|_| s.in_flight.is_empty()) {
            return Ok(n);
        }
        let n = self.inner.size_bytes()?;
        if s.in_flight.is_empty() {
            s.size_bytes = Some(n);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_io::{MemoryIo, OpenFlags, IO};

    /// Counts `size_bytes` calls reaching the real file.
    struct Counting {
        inner: Arc<dyn File>,
        sizes: std::sync::atomic::AtomicU64,
    }

    impl File for Counting {
        fn lock(&self, kind: LockKind) -> Result<()> {
            self.inner.lock(kind)
        }
        fn unlock(&self) -> Result<()> {
            self.inner.unlock()
        }
        fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
            self.inner.pread(offset, c)
        }
        fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
            self.inner.pwrite(offset, c)
        }
        fn sync(&self, c: &Completion) -> Result<()> {
            self.inner.sync(c)
        }
        fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
            self.inner.truncate(size_bytes, c)
        }
        fn size_bytes(&self) -> Result<u64> {
            self.sizes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.size_bytes()
        }
    }

    #[test]
    fn size_is_asked_once_until_the_file_changes() {
        let io = MemoryIo::new();
        let raw = io.open_file("f", OpenFlags::CREATE).unwrap();
        let counting = Arc::new(Counting {
            inner: raw,
            sizes: Default::default(),
        });
        let f = SizeCachedFile::new(counting.clone());
        let asked = || counting.sizes.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(f.size_bytes().unwrap(), 0);
        assert_eq!(f.size_bytes().unwrap(), 0);
        assert_eq!(asked(), 1);
        let w = Completion::write(vec![7; 100]);
        f.pwrite(50, &w).unwrap();
        strata_io::wait(&io, &w).unwrap();
        assert_eq!(f.size_bytes().unwrap(), 150);
        assert_eq!(f.size_bytes().unwrap(), 150);
        assert_eq!(asked(), 2);
        let t = Completion::truncate();
        f.truncate(10, &t).unwrap();
        strata_io::wait(&io, &t).unwrap();
        assert_eq!(f.size_bytes().unwrap(), 10);
        assert_eq!(asked(), 3);
    }

    /// A file whose writes complete only when the test says so; its size follows the
    /// completed writes.
    #[derive(Default)]
    struct Manual {
        size_bytes: std::sync::atomic::AtomicU64,
        held: Mutex<Vec<(u64, Completion)>>,
    }

    impl Manual {
        fn complete(&self, index: usize) {
            let (end, c) = self.held.lock().unwrap()[index].clone();
            self.size_bytes
                .fetch_max(end, std::sync::atomic::Ordering::SeqCst);
            c.complete(Ok(c.len()));
        }
    }

    impl File for Manual {
        fn lock(&self, _: LockKind) -> Result<()> {
            Ok(())
        }
        fn unlock(&self) -> Result<()> {
            Ok(())
        }
        fn pread(&self, _: u64, _: &Completion) -> Result<()> {
            unreachable!()
        }
        fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
            let end = offset + c.len() as u64;
            self.held.lock().unwrap().push((end, c.clone()));
            Ok(())
        }
        fn sync(&self, _: &Completion) -> Result<()> {
            unreachable!()
        }
        fn truncate(&self, _: u64, _: &Completion) -> Result<()> {
            unreachable!()
        }
        fn size_bytes(&self) -> Result<u64> {
            Ok(self.size_bytes.load(std::sync::atomic::Ordering::SeqCst))
        }
    }

    fn write(f: &SizeCachedFile, page: u64) {
        f.pwrite(page * 100, &Completion::write(vec![1; 100]))
            .unwrap();
    }

    /// The list of operations in flight is pruned of completed ones only, however many
    /// are in flight: a write still in flight must keep the size from being remembered.
    #[test]
    fn writes_in_flight_survive_the_pruning() {
        let manual = Arc::new(Manual::default());
        let f = SizeCachedFile::new(manual.clone());
        // The earliest writes reach furthest (write i ends at page 101 - i).
        for i in 0..70 {
            write(&f, 100 - i);
        }
        // The 6 written after the first pruning complete, the 64 before it do not.
        for i in 64..70 {
            manual.complete(i);
        }
        assert_eq!(f.size_bytes().unwrap(), 3700);
        for i in 0..64 {
            manual.complete(i);
        }
        assert_eq!(
            f.size_bytes().unwrap(),
            10_100,
            "a size from before they completed"
        );
        // A write past the end, completed: the size must move.
        write(&f, 150);
        manual.complete(70);
        assert_eq!(f.size_bytes().unwrap(), 15_100);
    }

    /// Pruning runs when the list doubles (at least 64), so a checkpoint submitting
    /// thousands of writes neither scans the list at every write nor lets it grow
    /// without bound when they complete.
    #[test]
    fn pruning_keeps_the_list_bounded_at_amortized_cost() {
        let manual = Arc::new(Manual::default());
        let f = SizeCachedFile::new(manual.clone());
        for page in 0..1000 {
            write(&f, page);
            manual.complete(page as usize);
            assert!(f.state().in_flight.len() <= 64, "at write {page}");
        }
        // 100 writes all in flight: pruned at 64 (none done), next at twice that.
        let f = SizeCachedFile::new(manual.clone());
        for page in 0..100 {
            write(&f, page);
        }
        let s = f.state();
        assert_eq!((s.in_flight.len(), s.prune_at), (100, 128));
    }
}
