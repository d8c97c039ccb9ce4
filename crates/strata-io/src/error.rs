//! I/O errors that keep the operating system's error kind and can be cloned (a completion
//! may be polled many times, and `std::io::Error` is not `Clone`).

use std::fmt;
use std::io::ErrorKind;
use std::sync::Arc;

/// Result of an I/O call.
pub type Result<T> = std::result::Result<T, IoError>;

/// An I/O failure: the `std::io::ErrorKind`, the raw OS error if any, and a message.
#[derive(Clone, Debug)]
pub struct IoError {
    kind: ErrorKind,
    raw_os_error: Option<i32>,
    message: Arc<str>,
}

impl IoError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        IoError {
            kind,
            raw_os_error: None,
            message: Arc::from(message.into()),
        }
    }

    /// The error a lock attempt reports when another holder conflicts.
    pub fn locked(path: &str) -> Self {
        IoError::new(ErrorKind::WouldBlock, format!("database is locked: {path}"))
    }

    /// An error for a read or write that moved fewer bytes than required.
    pub fn short(what: &str, expected_bytes: usize, actual_bytes: usize) -> Self {
        IoError::new(
            ErrorKind::UnexpectedEof,
            format!("short {what}: {actual_bytes} of {expected_bytes} bytes"),
        )
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn raw_os_error(&self) -> Option<i32> {
        self.raw_os_error
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is the "someone else holds the lock" error.
    pub fn is_locked(&self) -> bool {
        self.kind == ErrorKind::WouldBlock
    }

    /// Adds context (a path, an operation) in front of the message.
    pub fn context(self, context: &str) -> Self {
        IoError {
            message: Arc::from(format!("{context}: {}", self.message)),
            ..self
        }
    }
}

impl From<std::io::Error> for IoError {
    fn from(e: std::io::Error) -> Self {
        IoError {
            kind: e.kind(),
            raw_os_error: e.raw_os_error(),
            message: Arc::from(e.to_string()),
        }
    }
}

impl From<IoError> for std::io::Error {
    fn from(e: IoError) -> Self {
        std::io::Error::new(e.kind, e.message.to_string())
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IoError {}
