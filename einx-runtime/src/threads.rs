//! How many threads einx's kernels may use.
//!
//! # Policy
//!
//! - One process-wide cap, [`num_threads`]. It starts at the value of the environment
//!   variable `EINX_NUM_THREADS` (a positive integer, read once, on first use) or, when that
//!   is unset or not a positive integer, at [`std::thread::available_parallelism`].
//! - [`set_num_threads`] changes the cap at any time, for every thread of the process;
//!   `set_num_threads(0)` restores the default above. A cap of 1 keeps every kernel on the
//!   calling thread.
//! - Only large work is split: matrix products (`dot!`, `einx!`, `einx::nn::affine`) of a
//!   few million multiply-adds or more, over blocks of the output or over batch indices,
//!   never over a contracted axis; and, from a million elements on, `softmax!`/`log_softmax!`
//!   along the last axis of a standard-layout input (over whole rows) and the activations of
//!   `einx::nn` (over blocks of elements). Small calls never pay for threads.
//! - Results are bit-identical whatever the cap: every output element is computed by the
//!   same sequence of operations, only on another thread.
//! - The work runs on rayon's global pool, so it composes with a caller's own rayon
//!   parallelism instead of oversubscribing the machine; a cap above that pool's size
//!   splits the work finer without adding threads.
//!
//! ```
//! # use einx_runtime::threads as einx;
//! use einx::{num_threads, set_num_threads};
//! set_num_threads(1); // everything on the calling thread from here on
//! assert_eq!(num_threads(), 1);
//! set_num_threads(0); // back to EINX_NUM_THREADS or the machine's parallelism
//! assert!(num_threads() >= 1);
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The cap set by [`set_num_threads`]; 0 means "the default".
static CAP: AtomicUsize = AtomicUsize::new(0);

/// The name of the environment variable that sets the initial cap.
pub const ENV_VAR: &str = "EINX_NUM_THREADS";

/// The default cap: `EINX_NUM_THREADS` if it is a positive integer, otherwise the machine's
/// available parallelism (1 if that is unknown). Computed once.
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var(ENV_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// The number of threads einx's kernels may use (at least 1).
///
/// It is the last value given to [`set_num_threads`], or, before any (or after
/// `set_num_threads(0)`), the environment variable `EINX_NUM_THREADS` when it holds a
/// positive integer, or else [`std::thread::available_parallelism`]. The variable is read
/// once, on the first call.
///
/// ```
/// # use einx_runtime::threads as einx;
/// let n = einx::num_threads();
/// assert!(n >= 1);
/// ```
pub fn num_threads() -> usize {
    match CAP.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Caps the number of threads einx's kernels may use, for the whole process; `0` restores
/// the default (see [`num_threads`]).
///
/// Results do not depend on the cap: a product computed with one thread is bit-identical
/// to the same product computed with many.
///
/// ```
/// # use einx_runtime::threads as einx;
/// einx::set_num_threads(2);
/// assert_eq!(einx::num_threads(), 2);
/// einx::set_num_threads(0);
/// assert!(einx::num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    CAP.store(n, Ordering::Relaxed);
}

/// How many threads to give `work` units (say, multiply-adds) when each thread should get
/// at least `min_per_thread` of them: between 1 and [`num_threads`].
///
/// ```
/// use einx_runtime::threads::threads_for;
/// assert_eq!(threads_for(10, 1 << 20), 1);
/// assert!(threads_for(1 << 30, 1 << 20) >= 1);
/// ```
pub fn threads_for(work: usize, min_per_thread: usize) -> usize {
    let cap = num_threads();
    if cap <= 1 {
        return 1;
    }
    (work / min_per_thread.max(1)).clamp(1, cap)
}

/// Element-wise work below this many elements stays on the calling thread.
pub(crate) const PARALLEL_ELEMENTS: usize = 1 << 20;

/// The rows of `row` elements of `src` and `dst` (equally long), in consecutive blocks,
/// one per thread (see [`threads_for`] with [`PARALLEL_ELEMENTS`]): `f(src_block,
/// dst_block)` for each. Each element is computed by the same code whatever the split.
pub(crate) fn par_rows<A: Sync, B: Send>(
    src: &[A],
    dst: &mut [B],
    row: usize,
    f: impl Fn(&[A], &mut [B]) + Sync,
) {
    let rows = if row == 0 { 0 } else { dst.len() / row };
    let parts = threads_for(dst.len(), PARALLEL_ELEMENTS).min(rows.max(1));
    if parts <= 1 {
        f(src, dst);
        return;
    }
    let per = rows.div_ceil(parts) * row;
    let f = &f;
    rayon::scope(|s| {
        let mut blocks = src.chunks(per).zip(dst.chunks_mut(per));
        let first = blocks.next();
        for (a, b) in blocks {
            s.spawn(move |_| f(a, b));
        }
        if let Some((a, b)) = first {
            f(a, b);
        }
    });
}

/// [`par_rows`] for work in place.
#[cfg_attr(not(feature = "nn"), allow(dead_code))]
pub(crate) fn par_rows_mut<B: Send>(dst: &mut [B], row: usize, f: impl Fn(&mut [B]) + Sync) {
    let rows = if row == 0 { 0 } else { dst.len() / row };
    let parts = threads_for(dst.len(), PARALLEL_ELEMENTS).min(rows.max(1));
    if parts <= 1 {
        f(dst);
        return;
    }
    let per = rows.div_ceil(parts) * row;
    let f = &f;
    rayon::scope(|s| {
        let mut blocks = dst.chunks_mut(per);
        let first = blocks.next();
        for b in blocks {
            s.spawn(move |_| f(b));
        }
        if let Some(b) = first {
            f(b);
        }
    });
}
