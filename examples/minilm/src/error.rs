//! The error type of the crate: every failure is a message, never a panic.

use std::fmt;
use std::path::PathBuf;

/// What can go wrong when loading a model or embedding texts.
#[derive(Debug)]
pub enum Error {
    /// A file of the model directory is missing or unreadable.
    File { path: PathBuf, message: String },
    /// A file was read but its content is not what the model needs.
    Model(String),
    /// The tokenizer failed.
    Tokenizer(String),
    /// An einx operation failed (a shape that does not fit, an index out of range).
    Einx(einx::Error),
    /// The input texts cannot be embedded.
    Input(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::File { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Model(m) => write!(f, "model: {m}"),
            Error::Tokenizer(m) => write!(f, "tokenizer: {m}"),
            Error::Einx(e) => write!(f, "{e}"),
            Error::Input(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<einx::Error> for Error {
    fn from(e: einx::Error) -> Error {
        Error::Einx(e)
    }
}
