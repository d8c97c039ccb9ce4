//! `SyscallIo`: the portable backend. Every operation is a plain positioned syscall made
//! before `pread`/`pwrite`/`sync`/`truncate` returns, so the completion is already done when
//! the caller looks at it and `run_once` has nothing to do.

use std::sync::Arc;

use crate::memory::expect_kind;
use crate::unix::{self, OsRandom};
use crate::{Completion, CompletionKind, File, LockKind, OpenFlags, Result, IO};

/// Blocking-syscall IO. Operation errors are delivered through the completion (as with the
/// asynchronous backends); only a misuse such as a read completion passed to `pwrite` is
/// returned from the submitting call.
pub struct SyscallIo {
    random: OsRandom,
}

impl SyscallIo {
    pub fn new() -> Self {
        SyscallIo {
            random: OsRandom::new(),
        }
    }
}

impl Default for SyscallIo {
    fn default() -> Self {
        Self::new()
    }
}

impl IO for SyscallIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let file = unix::open(path, flags)?;
        Ok(Arc::new(SyscallFile {
            file,
            path: path.to_string(),
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        unix::remove_file(path)
    }

    fn file_exists(&self, path: &str) -> Result<bool> {
        unix::file_exists(path)
    }

    fn run_once(&self) -> Result<()> {
        Ok(())
    }

    fn now_micros(&self) -> u64 {
        unix::now_micros()
    }

    fn random_u64(&self) -> u64 {
        self.random.next_u64()
    }
}

struct SyscallFile {
    file: std::fs::File,
    path: String,
}

impl File for SyscallFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        unix::lock(&self.file, &self.path, kind)
    }

    fn unlock(&self) -> Result<()> {
        unix::unlock(&self.file, &self.path)
    }

    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Read)?;
        let result = {
            let mut buf = c.buf();
            unix::read_full_at(&self.file, &mut buf, offset).map_err(|e| e.context(&self.path))
        };
        c.complete(result);
        Ok(())
    }

    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Write)?;
        let result = {
            let buf = c.buf();
            unix::write_all_at(&self.file, &buf, offset).map_err(|e| e.context(&self.path))
        };
        c.complete(result);
        Ok(())
    }

    fn sync(&self, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Sync)?;
        c.complete(unix::sync_data(&self.file).map_err(|e| e.context(&self.path)));
        Ok(())
    }

    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Truncate)?;
        c.complete(unix::truncate(&self.file, size_bytes).map_err(|e| e.context(&self.path)));
        Ok(())
    }

    fn size_bytes(&self) -> Result<u64> {
        unix::size_bytes(&self.file)
    }
}
