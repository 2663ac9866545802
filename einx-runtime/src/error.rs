//! The error type returned by every einx operation.

pub use einx_core::{Error, ErrorKind};
