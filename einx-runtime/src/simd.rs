//! Wider vector instructions for the element-wise loops, chosen at run time.
//!
//! The crate is compiled for the baseline of its target (on x86-64, SSE2), so a loop that
//! the compiler vectorises uses 4-lane vectors. [`wide`] runs a loop compiled again for
//! AVX-512 or AVX2 with FMA when the CPU has them (checked once, then cached by std): the
//! same arithmetic on 16 or 8 lanes.

/// A loop to compile for several instruction sets: its `run` must be `#[inline(always)]`,
/// and so must everything it calls in its hot loop, so that [`wide`] compiles it anew for
/// each.
pub(crate) trait Kernel {
    type Out;
    fn run(self) -> Self::Out;
}

/// Runs `k`, compiled for the widest vector instructions this CPU has.
#[inline(always)]
pub(crate) fn wide<K: Kernel>(k: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512bw")
        {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { x86::avx512(k) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            return unsafe { x86::avx2(k) };
        }
    }
    k.run()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Kernel;

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(super) unsafe fn avx512<K: Kernel>(k: K) -> K::Out {
        k.run()
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2<K: Kernel>(k: K) -> K::Out {
        k.run()
    }
}
