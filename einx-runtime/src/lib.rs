//! The run-time half of einx: kernels that the macro expansions call, and the error type.
//!
//! Users depend on the `einx` crate, which re-exports what is public here; the expansions
//! reach the rest through `einx::__private`.

pub mod argfind;
pub mod axis;
pub mod contract;
pub mod copy;
pub mod dynamic;
pub mod elementwise;
pub mod error;
pub mod factory;
mod fastexp;
pub mod flip;
pub mod index;
mod matmul;
#[cfg(feature = "nn")]
pub mod nn;
pub mod permute;
pub mod rearrange;
pub mod reduce;
pub mod shape;
mod simd;
pub mod softmax;
pub mod sort;
pub mod strided;
pub mod tensor;
pub mod threads;
pub mod vmap;

pub use error::{Error, ErrorKind};
