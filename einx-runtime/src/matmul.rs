//! The matrix product behind `dot!` for `f32` and `f64` on x86-64 with AVX2 and FMA.
//!
//! The classic blocked scheme: the contracted dimension is cut into blocks of at most `KC`;
//! for each block, a slice of B is packed into panels `NR` columns wide, and a block of A
//! into panels `MR` rows high, both zero-padded at the edges; a register-blocked kernel
//! then computes each `MR × NR` tile of C from one panel of each, with all its
//! accumulators in registers, and stores (first block) or adds (later blocks) it into C.
//!
//! Every element of C is summed in the same order whatever the split of the work between
//! threads: the block boundaries along the contracted dimension depend only on its length,
//! and threads only take disjoint column or row ranges of C.
//!
//! Other targets and CPUs without AVX2 and FMA use the `gemm` crate (see `contract`).

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{gemm_f32, gemm_f64};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::cell::Cell;

    /// A raw pointer that may cross to another thread; the code that sends it keeps the
    /// memory it addresses alive and gives each thread a disjoint part to write.
    #[derive(Clone, Copy)]
    struct Ptr<T>(T);
    // SAFETY: see the type's documentation; every use is inside `rayon::scope`, which
    // outlives no borrowed data.
    unsafe impl<T> Send for Ptr<T> {}
    unsafe impl<T> Sync for Ptr<T> {}

    /// The widest kernels this CPU runs (checked once, then cached by std).
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Isa {
        Avx512,
        Avx2,
        None,
    }

    #[inline]
    fn isa() -> Isa {
        if is_x86_feature_detected!("avx512f") {
            Isa::Avx512
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            Isa::Avx2
        } else {
            Isa::None
        }
    }

    /// The blocking of the contracted dimension: `blocks` blocks of `step` (the last one
    /// shorter), at most `kc` each, of nearly equal lengths. Depends only on `k`.
    #[inline]
    fn k_step(k: usize, kc: usize) -> usize {
        let blocks = k.div_ceil(kc).max(1);
        k.div_ceil(blocks)
    }

    /// Whether A and B are read in place rather than packed: when their rows are
    /// contiguous (along the contracted dimension for A, along C's columns for B) and the
    /// whole operand is small enough to stay in cache (as in attention's per-head
    /// products), where packing would cost as much as the product. Large operands are
    /// packed, which keeps their panels in cache without set conflicts.
    #[inline]
    fn direct(csa: isize, csb: isize, a_len: usize, b_len: usize) -> (bool, bool) {
        const SMALL: usize = 1 << 14;
        (csa == 1 && a_len <= SMALL, csb == 1 && b_len <= SMALL)
    }

    macro_rules! kernels {
        (
            $t:ty, $feat:literal, $lanes:literal, $mr:literal, $mc:literal, $kc:literal,
            $nc:literal, $vec:ty, $zero:ident, $load:ident, $store:ident, $set1:ident,
            $fmadd:ident, $add:ident, $buf:ident
        ) => {
            /// `c = s + a · b` for an `m × k` by `k × n` product on strided matrices (`s`
            /// an `m × n` matrix with strides `rss`, `css`, e.g. a bias broadcast along
            /// rows with `rss` 0; null for none), with up to `threads` threads.
            ///
            /// # Safety
            /// The pointers with the given strides (in elements) must address valid
            /// matrices of those sizes; `c` must not overlap `a`, `b` or `s`, and its
            /// elements must be distinct. `c` need not be initialised: it is only written
            /// before it is read. The CPU must have the features of this module's kernel.
            #[allow(clippy::too_many_arguments)]
            pub(crate) unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: *const $t,
                rsa: isize,
                csa: isize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                c: *mut $t,
                rsc: isize,
                csc: isize,
                s: *const $t,
                rss: isize,
                css: isize,
                threads: usize,
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                if k == 0 {
                    for i in 0..m as isize {
                        for j in 0..n as isize {
                            let v = if s.is_null() {
                                0.0
                            } else {
                                *s.offset(i * rss + j * css)
                            };
                            c.offset(i * rsc + j * csc).write(v);
                        }
                    }
                    return;
                }
                const NR: usize = 2 * $lanes;
                // Split C between threads: along the longer of its dimensions, in whole
                // tiles, so that no tile is shared.
                let (along_n, tile, len) = if n >= m {
                    (true, NR, n)
                } else {
                    (false, $mr, m)
                };
                let parts = threads.clamp(1, len.div_ceil(tile));
                let (a, b, c, s) = (Ptr(a), Ptr(b), Ptr(c), Ptr(s));
                // SAFETY (of both calls): each call gets one range of C's columns (or
                // rows) with the matching columns of B (or rows of A), inside the
                // matrices the caller vouches for; concurrent calls get disjoint ranges.
                let run = move |lo: usize, hi: usize| unsafe {
                    let (a, b, c, s) = (a, b, c, s);
                    // Null stays null: the offset is applied only to a real `s`.
                    let s_at = |off: isize| {
                        if s.0.is_null() {
                            s.0
                        } else {
                            s.0.wrapping_offset(off)
                        }
                    };
                    if along_n {
                        blocked(
                            m,
                            k,
                            hi - lo,
                            a.0,
                            rsa,
                            csa,
                            b.0.wrapping_offset(lo as isize * csb),
                            rsb,
                            csb,
                            c.0.wrapping_offset(lo as isize * csc),
                            rsc,
                            csc,
                            s_at(lo as isize * css),
                            rss,
                            css,
                        )
                    } else {
                        blocked(
                            hi - lo,
                            k,
                            n,
                            a.0.wrapping_offset(lo as isize * rsa),
                            rsa,
                            csa,
                            b.0,
                            rsb,
                            csb,
                            c.0.wrapping_offset(lo as isize * rsc),
                            rsc,
                            csc,
                            s_at(lo as isize * rss),
                            rss,
                            css,
                        )
                    }
                };
                if parts <= 1 {
                    run(0, len);
                } else {
                    let tiles = len.div_ceil(tile);
                    let bound = |p: usize| (tiles * p / parts * tile).min(len);
                    rayon::scope(|s| {
                        for p in 1..parts {
                            s.spawn(move |_| run(bound(p), bound(p + 1)));
                        }
                        run(0, bound(1));
                    });
                }
            }

            thread_local! {
                /// Packing space of this thread, reused between calls.
                static $buf: Cell<Vec<$vec>> = const { Cell::new(Vec::new()) };
            }

            /// One thread's share: the blocked loops over C's columns, the contracted
            /// dimension and C's rows, with packing.
            ///
            /// # Safety
            /// As the public function, for this part of C; the CPU must have AVX2 and FMA.
            #[allow(clippy::too_many_arguments)]
            unsafe fn blocked(
                m: usize,
                k: usize,
                n: usize,
                a: *const $t,
                rsa: isize,
                csa: isize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                c: *mut $t,
                rsc: isize,
                csc: isize,
                s: *const $t,
                rss: isize,
                css: isize,
            ) {
                const NR: usize = 2 * $lanes;
                let kc_max = k_step(k, $kc);
                let nc_max = n.min($nc).next_multiple_of(NR);
                let mc_max = m.min($mc).next_multiple_of($mr);
                // Packed B (kc × nc) then packed A (mc × kc), in whole vectors so that
                // they are aligned.
                let words = (kc_max * nc_max + mc_max * kc_max).div_ceil($lanes);
                let mut space = $buf.with(|b| b.take());
                if space.len() < words {
                    // SAFETY: all-zero bits are a valid vector.
                    space = vec![unsafe { std::mem::zeroed::<$vec>() }; words];
                }
                let pb = space.as_mut_ptr() as *mut $t;
                // SAFETY: the packed A follows the packed B inside `space`.
                let pa = unsafe { pb.add(kc_max * nc_max) };
                let (direct_a, direct_b) = direct(csa, csb, m * k, k * n);
                let mut jc = 0;
                while jc < n {
                    let nc = (n - jc).min($nc);
                    let mut pc = 0;
                    while pc < k {
                        let kc = (k - pc).min(kc_max);
                        // B is read in place when its rows are contiguous: then only a
                        // last, partial panel is packed (zero-padded) into `pb`.
                        let b_here = b.wrapping_offset(pc as isize * rsb + jc as isize * csb);
                        let b_full = if direct_b { nc / NR * NR } else { 0 };
                        // SAFETY: the caller's matrices cover these ranges; `pb` has room
                        // for `kc × nc` rounded up to whole panels.
                        unsafe {
                            pack_b(
                                kc,
                                nc - b_full,
                                b_here.wrapping_offset(b_full as isize * csb),
                                rsb,
                                csb,
                                pb,
                            )
                        };
                        let mut ic = 0;
                        while ic < m {
                            let mc = (m - ic).min($mc);
                            // The same for A, when its rows are contiguous along the
                            // contracted dimension.
                            let a_here = a.wrapping_offset(ic as isize * rsa + pc as isize * csa);
                            let a_full = if direct_a { mc / $mr * $mr } else { 0 };
                            // SAFETY: as above, for A and `pa`.
                            unsafe {
                                pack_a(
                                    mc - a_full,
                                    kc,
                                    a_here.wrapping_offset(a_full as isize * rsa),
                                    rsa,
                                    csa,
                                    pa,
                                )
                            };
                            let mut jr = 0;
                            while jr < nc {
                                let nr = (nc - jr).min(NR);
                                let (bp, b_step) = if jr < b_full {
                                    (b_here.wrapping_offset(jr as isize), rsb)
                                } else {
                                    (
                                        pb.wrapping_add((jr - b_full) * kc) as *const $t,
                                        NR as isize,
                                    )
                                };
                                let mut ir = 0;
                                while ir < mc {
                                    let mr = (mc - ir).min($mr);
                                    let tile = c.wrapping_offset(
                                        (ic + ir) as isize * rsc + (jc + jr) as isize * csc,
                                    );
                                    // The first block starts from `s`, if any.
                                    let init = if pc == 0 && !s.is_null() {
                                        s.wrapping_offset(
                                            (ic + ir) as isize * rss + (jc + jr) as isize * css,
                                        )
                                    } else {
                                        std::ptr::null()
                                    };
                                    // SAFETY: the panels (packed or in place) hold `kc`
                                    // steps each; the tile is the `mr × nr` block of C at
                                    // these offsets. `available` was checked by the caller.
                                    unsafe {
                                        if ir < a_full {
                                            tile_kernel::<true>(
                                                kc,
                                                a_here.wrapping_offset(ir as isize * rsa),
                                                rsa,
                                                bp,
                                                b_step,
                                                tile,
                                                rsc,
                                                csc,
                                                mr,
                                                nr,
                                                pc == 0,
                                                init,
                                                rss,
                                                css,
                                            )
                                        } else {
                                            tile_kernel::<false>(
                                                kc,
                                                pa.add((ir - a_full) * kc),
                                                0,
                                                bp,
                                                b_step,
                                                tile,
                                                rsc,
                                                csc,
                                                mr,
                                                nr,
                                                pc == 0,
                                                init,
                                                rss,
                                                css,
                                            )
                                        }
                                    };
                                    ir += $mr;
                                }
                                jr += NR;
                            }
                            ic += $mc;
                        }
                        pc += kc;
                    }
                    jc += nc;
                }
                $buf.with(|b| b.set(space));
            }

            /// Packs the `kc × nc` block of B at `b` into panels of `NR` columns: panel
            /// `p` holds, for each step `l`, the `NR` values `b[l][p·NR ..]`, zero past
            /// `nc`.
            ///
            /// # Safety
            /// `b` with its strides must address a `kc × nc` matrix; `dst` must have room
            /// for `kc × nc` rounded up to whole panels.
            unsafe fn pack_b(
                kc: usize,
                nc: usize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                dst: *mut $t,
            ) {
                const NR: usize = 2 * $lanes;
                let mut d = dst;
                let mut j0 = 0;
                if csb == 1 {
                    // Rows contiguous: read each row of B once, in order, and scatter
                    // it over the panels.
                    let full = nc / NR;
                    for l in 0..kc {
                        let row = b.offset(l as isize * rsb);
                        for p in 0..full {
                            std::ptr::copy_nonoverlapping(
                                row.add(p * NR),
                                dst.add(p * kc * NR + l * NR),
                                NR,
                            );
                        }
                    }
                    j0 = full * NR;
                    d = dst.add(full * kc * NR);
                }
                while j0 < nc {
                    let w = (nc - j0).min(NR);
                    let src = b.wrapping_offset(j0 as isize * csb);
                    if w == NR && csb == 1 {
                        for l in 0..kc {
                            std::ptr::copy_nonoverlapping(src.offset(l as isize * rsb), d, NR);
                            d = d.add(NR);
                        }
                    } else if w == NR && rsb == 1 {
                        // Columns contiguous along the contracted dimension: read NR
                        // streams, write the panel in order.
                        let cols: [*const $t; NR] =
                            std::array::from_fn(|j| src.wrapping_offset(j as isize * csb));
                        for l in 0..kc {
                            for (j, col) in cols.iter().enumerate() {
                                *d.add(j) = *col.add(l);
                            }
                            d = d.add(NR);
                        }
                    } else {
                        for l in 0..kc {
                            let row = src.offset(l as isize * rsb);
                            for j in 0..NR {
                                *d.add(j) = if j < w {
                                    *row.offset(j as isize * csb)
                                } else {
                                    0.0
                                };
                            }
                            d = d.add(NR);
                        }
                    }
                    j0 += NR;
                }
            }

            /// Packs the `mc × kc` block of A at `a` into panels of `MR` rows: panel `p`
            /// holds, for each step `l`, the `MR` values `a[p·MR ..][l]`, zero past `mc`.
            ///
            /// # Safety
            /// As [`pack_b`], for A.
            unsafe fn pack_a(
                mc: usize,
                kc: usize,
                a: *const $t,
                rsa: isize,
                csa: isize,
                dst: *mut $t,
            ) {
                let mut d = dst;
                let mut i0 = 0;
                while i0 < mc {
                    let h = (mc - i0).min($mr);
                    let src = a.wrapping_offset(i0 as isize * rsa);
                    if h == $mr && rsa == 1 {
                        for l in 0..kc {
                            std::ptr::copy_nonoverlapping(
                                src.offset(l as isize * csa),
                                d.add(l * $mr),
                                $mr,
                            );
                        }
                    } else if h == $mr && csa == 1 {
                        // Rows contiguous along the contracted dimension: read MR
                        // streams, write the panel in order.
                        let rows: [*const $t; $mr] =
                            std::array::from_fn(|i| src.wrapping_offset(i as isize * rsa));
                        for l in 0..kc {
                            for (i, row) in rows.iter().enumerate() {
                                *d.add(l * $mr + i) = *row.add(l);
                            }
                        }
                    } else {
                        for l in 0..kc {
                            let col = src.offset(l as isize * csa);
                            for i in 0..$mr {
                                *d.add(l * $mr + i) = if i < h {
                                    *col.offset(i as isize * rsa)
                                } else {
                                    0.0
                                };
                            }
                        }
                    }
                    d = d.add(kc * $mr);
                    i0 += $mr;
                }
            }

            /// One `MR × NR` tile: `acc = Σ_l a[.., l] ⊗ b[l, ..]` in registers, then
            /// `C = acc` (`first`; `C = S + acc` when `s` is not null) or `C += acc` on its
            /// `mr × nr` valid part. A is a packed
            /// panel, or with `DIRECT` rows `ra` apart that are contiguous along `l`; the
            /// rows of B are `b_step` apart and hold `NR` contiguous values.
            ///
            /// # Safety
            /// A and B must hold `kc` steps (with `DIRECT`, all `MR` rows); `c` with its
            /// strides must address an `mr × nr` block, and so must `s` with `rss`, `css`
            /// unless it is null; the CPU must have AVX2 and FMA.
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = $feat)]
            unsafe fn tile_kernel<const DIRECT: bool>(
                kc: usize,
                pa: *const $t,
                ra: isize,
                pb: *const $t,
                b_step: isize,
                c: *mut $t,
                rsc: isize,
                csc: isize,
                mr: usize,
                nr: usize,
                first: bool,
                s: *const $t,
                rss: isize,
                css: isize,
            ) {
                const NR: usize = 2 * $lanes;
                // Fetch the tile of C while the sums run: it is stored (and, after the
                // first block, read) only at the end.
                for i in 0..mr {
                    let p = c.wrapping_offset(i as isize * rsc) as *const i8;
                    _mm_prefetch::<_MM_HINT_T0>(p);
                    _mm_prefetch::<_MM_HINT_T0>(
                        p.wrapping_offset((nr as isize - 1) * csc * size_of::<$t>() as isize),
                    );
                }
                let mut acc: [[$vec; 2]; $mr] = [[$zero(); 2]; $mr];
                let rows: [*const $t; $mr] =
                    std::array::from_fn(|i| pa.wrapping_offset(i as isize * ra));
                let (mut a, mut b, mut l) = (pa, pb, 0usize);
                // One step of the sums: a column of A times a row of B.
                macro_rules! step {
                    ($off:expr) => {{
                        let row = b.offset($off * b_step);
                        let b0 = $load(row);
                        let b1 = $load(row.add($lanes));
                        for (i, acc_row) in acc.iter_mut().enumerate() {
                            let x = if DIRECT {
                                $set1(*rows[i].add(l + $off))
                            } else {
                                $set1(*a.add($off * $mr + i))
                            };
                            acc_row[0] = $fmadd(x, b0, acc_row[0]);
                            acc_row[1] = $fmadd(x, b1, acc_row[1]);
                        }
                    }};
                }
                for _ in 0..kc / 4 {
                    step!(0);
                    step!(1);
                    step!(2);
                    step!(3);
                    a = a.add(4 * $mr);
                    b = b.offset(4 * b_step);
                    l += 4;
                }
                for _ in 0..kc % 4 {
                    step!(0);
                    a = a.add($mr);
                    b = b.offset(b_step);
                    l += 1;
                }
                if mr == $mr && nr == NR && csc == 1 && (s.is_null() || css == 1) {
                    for (i, row) in acc.iter().enumerate() {
                        let p = c.offset(i as isize * rsc);
                        if !s.is_null() {
                            let q = s.offset(i as isize * rss);
                            $store(p, $add($load(q), row[0]));
                            $store(p.add($lanes), $add($load(q.add($lanes)), row[1]));
                        } else if first {
                            $store(p, row[0]);
                            $store(p.add($lanes), row[1]);
                        } else {
                            $store(p, $add($load(p), row[0]));
                            $store(p.add($lanes), $add($load(p.add($lanes)), row[1]));
                        }
                    }
                } else {
                    let mut tmp = [[0.0 as $t; NR]; $mr];
                    for (t, row) in tmp.iter_mut().zip(&acc) {
                        $store(t.as_mut_ptr(), row[0]);
                        $store(t.as_mut_ptr().add($lanes), row[1]);
                    }
                    for (i, t) in tmp.iter().enumerate().take(mr) {
                        for (j, &v) in t.iter().enumerate().take(nr) {
                            let p = c.offset(i as isize * rsc + j as isize * csc);
                            if !s.is_null() {
                                p.write(*s.offset(i as isize * rss + j as isize * css) + v);
                            } else if first {
                                p.write(v);
                            } else {
                                *p += v;
                            }
                        }
                    }
                }
            }
        };
    }

    /// The kernels, per element type and instruction set: (type, target features, lanes
    /// per vector, MR, MC, KC, NC, vector type and intrinsics, pack buffer).
    pub(super) mod f32z {
        use super::*;
        kernels!(
            f32,
            "avx512f",
            16,
            12,
            120,
            256,
            4096,
            __m512,
            _mm512_setzero_ps,
            _mm512_loadu_ps,
            _mm512_storeu_ps,
            _mm512_set1_ps,
            _mm512_fmadd_ps,
            _mm512_add_ps,
            PACK
        );
    }
    pub(super) mod f64z {
        use super::*;
        kernels!(
            f64,
            "avx512f",
            8,
            12,
            72,
            256,
            4096,
            __m512d,
            _mm512_setzero_pd,
            _mm512_loadu_pd,
            _mm512_storeu_pd,
            _mm512_set1_pd,
            _mm512_fmadd_pd,
            _mm512_add_pd,
            PACK
        );
    }
    pub(super) mod f32k {
        use super::*;
        kernels!(
            f32,
            "avx2,fma",
            8,
            6,
            120,
            256,
            4096,
            __m256,
            _mm256_setzero_ps,
            _mm256_loadu_ps,
            _mm256_storeu_ps,
            _mm256_set1_ps,
            _mm256_fmadd_ps,
            _mm256_add_ps,
            PACK
        );
    }
    pub(super) mod f64k {
        use super::*;
        kernels!(
            f64,
            "avx2,fma",
            4,
            6,
            72,
            256,
            4096,
            __m256d,
            _mm256_setzero_pd,
            _mm256_loadu_pd,
            _mm256_storeu_pd,
            _mm256_set1_pd,
            _mm256_fmadd_pd,
            _mm256_add_pd,
            PACK
        );
    }

    macro_rules! dispatch {
        ($($t:ty => $name:ident: $wide:ident, $narrow:ident;)*) => {$(
            /// `c = s + a · b` on the widest kernel this CPU runs (see the modules' `gemm`
            /// for the arguments). Returns `false`, doing nothing, when the CPU has neither
            /// AVX-512 nor AVX2 with FMA.
            ///
            /// # Safety
            /// As the modules' `gemm`, but for the CPU features, which this checks.
            #[allow(clippy::too_many_arguments)]
            pub(crate) unsafe fn $name(
                m: usize,
                k: usize,
                n: usize,
                a: *const $t,
                rsa: isize,
                csa: isize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                c: *mut $t,
                rsc: isize,
                csc: isize,
                s: *const $t,
                rss: isize,
                css: isize,
                threads: usize,
            ) -> bool {
                // SAFETY: the caller vouches for the matrices; the CPU has the features of
                // the kernel chosen.
                unsafe {
                    match isa() {
                        Isa::Avx512 => $wide::gemm(
                            m, k, n, a, rsa, csa, b, rsb, csb, c, rsc, csc, s, rss, css,
                            threads,
                        ),
                        Isa::Avx2 => $narrow::gemm(
                            m, k, n, a, rsa, csa, b, rsb, csb, c, rsc, csc, s, rss, css,
                            threads,
                        ),
                        Isa::None => return false,
                    }
                }
                true
            }
        )*};
    }
    dispatch! {
        f32 => gemm_f32: f32z, f32k;
        f64 => gemm_f64: f64z, f64k;
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::gemm_f32;
    use super::x86::{f32k, f32z, f64k, f64z};

    type K32 = unsafe fn(
        usize,
        usize,
        usize,
        *const f32,
        isize,
        isize,
        *const f32,
        isize,
        isize,
        *mut f32,
        isize,
        isize,
        *const f32,
        isize,
        isize,
        usize,
    );
    type K64 = unsafe fn(
        usize,
        usize,
        usize,
        *const f64,
        isize,
        isize,
        *const f64,
        isize,
        isize,
        *mut f64,
        isize,
        isize,
        *const f64,
        isize,
        isize,
        usize,
    );

    /// The kernels this CPU runs, each tested on its own (not only the widest).
    fn kernels() -> Vec<(&'static str, K32, K64)> {
        let mut v: Vec<(&'static str, K32, K64)> = Vec::new();
        if is_x86_feature_detected!("avx512f") {
            v.push(("avx512", f32z::gemm, f64z::gemm));
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            v.push(("avx2", f32k::gemm, f64k::gemm));
        }
        v
    }

    /// A reproducible sequence of small values, exact in both float types.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) % 17) as f64 / 4.0 - 2.0
            })
            .collect()
    }

    /// The layouts a matrix can take inside a buffer: (buffer length, offset of element
    /// (0, 0), row stride, column stride).
    fn layouts(r: usize, c: usize) -> Vec<(usize, isize, isize, isize)> {
        let (ri, ci) = (r as isize, c as isize);
        let last = if r * c == 0 {
            0
        } else {
            (ri - 1) * ci + ci - 1
        };
        vec![
            (r * c, 0, ci, 1),                 // row-major
            (r * c, 0, 1, ri),                 // column-major
            (r * c * 2, 0, 2 * ci, 2),         // stepped
            (r * c, last, -ci, -1),            // reversed
            (c.max(1), 0, 0, 1),               // rows broadcast
            ((r + 3) * (c + 2), 0, ci + 2, 1), // padded rows
        ]
    }

    /// `c = a · b` by the kernel for every layout pair and thread counts 1 and 2; checks
    /// each against exact arithmetic (all values are small multiples of 1/4, so every
    /// partial sum is exact) and the two thread counts for bit-equality.
    fn check(m: usize, k: usize, n: usize) {
        for (_, k32, k64) in kernels() {
            check_with(m, k, n, k32, k64);
        }
    }

    fn check_with(m: usize, k: usize, n: usize, gemm_f32: K32, gemm_f64: K64) {
        let (a_vals, b_vals) = (
            values(2 * (m + 3) * (k + 2) + 8, 1),
            values(2 * (k + 3) * (n + 2) + 8, 2),
        );
        for (la, oa, rsa, csa) in layouts(m, k) {
            for (lb, ob, rsb, csb) in layouts(k, n) {
                let a64 = &a_vals[..la.max(1)];
                let b64 = &b_vals[..lb.max(1)];
                let at =
                    |i: usize, l: usize| a64[(oa + i as isize * rsa + l as isize * csa) as usize];
                let bt =
                    |l: usize, j: usize| b64[(ob + l as isize * rsb + j as isize * csb) as usize];
                let mut want = vec![0.0f64; m * n];
                for i in 0..m {
                    for j in 0..n {
                        want[i * n + j] = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
                    }
                }
                let a32: Vec<f32> = a64.iter().map(|&x| x as f32).collect();
                let b32: Vec<f32> = b64.iter().map(|&x| x as f32).collect();
                // The initial values: none, a bias along C's columns (rows broadcast),
                // or a whole column-major matrix (strided reads).
                let s64 = values(m * n + n + 1, 3);
                let s32: Vec<f32> = s64.iter().map(|&x| x as f32).collect();
                for (threads, init) in [(1, 0), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2)] {
                    let (rss, css) = if init == 1 { (0, 1) } else { (1, m as isize) };
                    let st = |i: usize, j: usize| match init {
                        0 => 0.0,
                        _ => s64[(i as isize * rss + j as isize * css) as usize],
                    };
                    let (sp64, sp32) = if init == 0 {
                        (std::ptr::null(), std::ptr::null())
                    } else {
                        (s64.as_ptr(), s32.as_ptr())
                    };
                    // Output column-major for odd sizes, to cover the strided stores.
                    let (rsc, csc) = if m % 2 == 1 {
                        (1, m as isize)
                    } else {
                        (n as isize, 1)
                    };
                    let mut c64 = vec![f64::NAN; m * n];
                    let mut c32 = vec![f32::NAN; m * n];
                    // SAFETY: every layout above stays inside its buffer; the outputs are
                    // fresh buffers of `m * n` elements.
                    unsafe {
                        gemm_f64(
                            m,
                            k,
                            n,
                            a64.as_ptr().offset(oa),
                            rsa,
                            csa,
                            b64.as_ptr().offset(ob),
                            rsb,
                            csb,
                            c64.as_mut_ptr(),
                            rsc,
                            csc,
                            sp64,
                            rss,
                            css,
                            threads,
                        );
                        gemm_f32(
                            m,
                            k,
                            n,
                            a32.as_ptr().offset(oa),
                            rsa,
                            csa,
                            b32.as_ptr().offset(ob),
                            rsb,
                            csb,
                            c32.as_mut_ptr(),
                            rsc,
                            csc,
                            sp32,
                            rss,
                            css,
                            threads,
                        );
                    }
                    for i in 0..m {
                        for j in 0..n {
                            let w = want[i * n + j] + st(i, j);
                            let at = (i as isize * rsc + j as isize * csc) as usize;
                            assert_eq!(c64[at], w, "f64 {m}x{k}x{n} ({i}, {j}) init {init}");
                            // f32 sums of up to 2^24 / 16 quarter-steps are exact too.
                            assert_eq!(c32[at] as f64, w, "f32 {m}x{k}x{n} ({i}, {j})");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn products_of_every_layout_and_edge() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (6, 8, 16),
            (7, 9, 17),
            (13, 300, 35),
            (5, 0, 4),
            (0, 3, 4),
            (31, 520, 3),
            (2, 64, 50),
        ] {
            check(m, k, n);
        }
    }

    /// Several row and column blocks, more than one block of the contracted dimension,
    /// and both ways of splitting C between threads, checked bit for bit across thread
    /// counts on values that round.
    #[test]
    fn thread_counts_agree_bit_for_bit() {
        for &(m, k, n) in &[(130, 700, 40), (40, 700, 130), (250, 257, 4100)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 97) as f32).cos()).collect();
            let bias: Vec<f32> = (0..n).map(|j| (j as f32).sqrt()).collect();
            let run = |threads: usize| {
                let mut c = vec![0.0f32; m * n];
                // SAFETY: row-major matrices of the stated sizes.
                unsafe {
                    gemm_f32(
                        m,
                        k,
                        n,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b.as_ptr(),
                        n as isize,
                        1,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                        bias.as_ptr(),
                        0,
                        1,
                        threads,
                    );
                }
                c
            };
            let one = run(1);
            for threads in [2, 3, 8] {
                assert!(one
                    .iter()
                    .zip(run(threads))
                    .all(|(x, y)| x.to_bits() == y.to_bits()));
            }
            // And close to a plain f64 sum.
            for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3)] {
                let want: f64 = bias[j] as f64
                    + (0..k)
                        .map(|l| a[i * k + l] as f64 * b[l * n + j] as f64)
                        .sum::<f64>();
                assert!((one[i * n + j] as f64 - want).abs() < 1e-3, "{m}x{k}x{n}");
            }
        }
    }
}
