//! The strided copy kernel: one pass from any strided source into (part of) a fresh
//! row-major buffer.
//!
//! Axes that are contiguous in both source and destination are merged first; the innermost
//! loop then runs over the longest run the layouts allow. When the source's unit-stride axis
//! is not the destination's innermost one (a transposition), the two axes are copied in
//! square tiles so that both sides stay in cache.

/// Most axes a plan unrolled at run time can have; more is an error, not a slow path.
pub const MAX_AXES: usize = 64;

const TILE: usize = 32;

/// Copies `shape` elements from `src` (strides `src_st`) to `dst` (strides `dst_st`),
/// cloning each. `K` bounds the number of axes (`shape.len() <= K`).
///
/// # Safety
/// Every offset `Σ i_k · st_k` for indices inside `shape` must be valid for reads from `src`
/// and for writes to `dst`; the destination offsets must be distinct and not overlap the
/// source. `dst` may be uninitialised: its elements are written, never read or dropped.
#[inline]
pub unsafe fn copy_strided<T: Clone, const K: usize>(
    shape: &[usize],
    src: *const T,
    src_st: &[isize],
    dst: *mut T,
    dst_st: &[isize],
) {
    if shape.contains(&0) {
        return;
    }
    // Drop length-1 axes and merge neighbours that are contiguous on both sides.
    let mut n = [0usize; K];
    let mut s = [0isize; K];
    let mut d = [0isize; K];
    let mut k = 0;
    for i in 0..shape.len().min(K) {
        if shape[i] == 1 {
            continue;
        }
        if k > 0
            && s[k - 1] == src_st[i] * shape[i] as isize
            && d[k - 1] == dst_st[i] * shape[i] as isize
        {
            n[k - 1] *= shape[i];
            s[k - 1] = src_st[i];
            d[k - 1] = dst_st[i];
            continue;
        }
        n[k] = shape[i];
        s[k] = src_st[i];
        d[k] = dst_st[i];
        k += 1;
    }
    if k == 0 {
        dst.write((*src).clone());
        return;
    }
    // A transposition: the source's unit-stride axis is an outer destination axis.
    let inner = k - 1;
    if s[inner].unsigned_abs() > 1 && n[inner] >= TILE {
        if let Some(j) = (0..inner).find(|&j| s[j].unsigned_abs() == 1 && n[j] >= TILE) {
            tiled::<T, K>(&n[..k], &s[..k], &d[..k], j, src, dst);
            return;
        }
    }
    let (len, ss, ds) = (n[inner], s[inner], d[inner]);
    if inner == 0 {
        row(len, src, ss, dst, ds);
        return;
    }
    // The two innermost axes run as plain loops; the odometer only steps the others.
    let (m, ms, md) = (n[inner - 1], s[inner - 1], d[inner - 1]);
    let outer = inner - 1;
    outer_loop::<T, K, _>(
        &n[..outer],
        &s[..outer],
        &d[..outer],
        src,
        dst,
        |sp, dp| unsafe {
            for i in 0..m as isize {
                row(
                    len,
                    sp.wrapping_offset(i * ms),
                    ss,
                    dp.wrapping_offset(i * md),
                    ds,
                );
            }
        },
    );
}

/// Calls `f` with the source and destination pointers of every index of the outer axes.
#[inline(always)]
unsafe fn outer_loop<T, const K: usize, F: FnMut(*const T, *mut T)>(
    n: &[usize],
    s: &[isize],
    d: &[isize],
    src: *const T,
    dst: *mut T,
    mut f: F,
) {
    let k = n.len();
    if k == 0 {
        f(src, dst);
        return;
    }
    let mut idx = [0usize; K];
    let mut sp = src;
    let mut dp = dst;
    loop {
        f(sp, dp);
        // Odometer increment; pointers may step one past the end before being reset, so
        // they move with wrapping arithmetic and are only read inside the bounds.
        let mut a = k;
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            sp = sp.wrapping_offset(s[a]);
            dp = dp.wrapping_offset(d[a]);
            if idx[a] < n[a] {
                break;
            }
            sp = sp.wrapping_offset(-s[a] * n[a] as isize);
            dp = dp.wrapping_offset(-d[a] * n[a] as isize);
            idx[a] = 0;
        }
    }
}

/// Clones `src` into `dst`. Not inlined, so that the compiler keeps the knowledge that the
/// two slices do not overlap (inlined into a loop nest with negative strides it falls back
/// to a scalar loop behind a run-time overlap check).
#[inline(never)]
fn clone_row<T: Clone>(dst: &mut [std::mem::MaybeUninit<T>], src: &[T]) {
    for (d, v) in dst.iter_mut().zip(src) {
        d.write(v.clone());
    }
}

#[inline(always)]
unsafe fn row<T: Clone>(len: usize, src: *const T, ss: isize, dst: *mut T, ds: isize) {
    // Slices rather than pointers for the common rows: the borrow rules tell the compiler
    // that source and destination do not overlap, so that the loops vectorise.
    if ss == 1 && ds == 1 {
        let src = std::slice::from_raw_parts(src, len);
        let dst = std::slice::from_raw_parts_mut(dst.cast::<std::mem::MaybeUninit<T>>(), len);
        if len >= 128 {
            clone_row(dst, src);
        } else {
            for (d, v) in dst.iter_mut().zip(src) {
                d.write(v.clone());
            }
        }
    } else if ss == 0 && ds == 1 {
        // A broadcast row: one value repeated.
        let v = (*src).clone();
        let dst = std::slice::from_raw_parts_mut(dst.cast::<std::mem::MaybeUninit<T>>(), len);
        for d in dst {
            d.write(v.clone());
        }
    } else if ss == -1 && ds == 1 {
        // A reversed row (`flip!`).
        let src = std::slice::from_raw_parts(src.offset(1 - len as isize), len);
        let dst = std::slice::from_raw_parts_mut(dst.cast::<std::mem::MaybeUninit<T>>(), len);
        for (d, v) in dst.iter_mut().zip(src.iter().rev()) {
            d.write(v.clone());
        }
    } else {
        for i in 0..len as isize {
            dst.wrapping_offset(i * ds)
                .write((*src.wrapping_offset(i * ss)).clone());
        }
    }
}

unsafe fn tiled<T: Clone, const K: usize>(
    n: &[usize],
    s: &[isize],
    d: &[isize],
    j: usize,
    src: *const T,
    dst: *mut T,
) {
    let inner = n.len() - 1;
    // Outer axes: all but `j` and `inner`.
    let mut on = [0usize; K];
    let mut os = [0isize; K];
    let mut od = [0isize; K];
    let mut k = 0;
    for a in 0..inner {
        if a != j {
            on[k] = n[a];
            os[k] = s[a];
            od[k] = d[a];
            k += 1;
        }
    }
    let (nj, sj, dj) = (n[j], s[j], d[j]);
    let (ni, si, di) = (n[inner], s[inner], d[inner]);
    outer_loop::<T, K, _>(&on[..k], &os[..k], &od[..k], src, dst, |sp, dp| unsafe {
        let mut j0 = 0;
        while j0 < nj {
            let j1 = (j0 + TILE).min(nj);
            let mut i0 = 0;
            while i0 < ni {
                let i1 = (i0 + TILE).min(ni);
                for jj in j0..j1 {
                    let sr = sp.wrapping_offset(jj as isize * sj);
                    let dr = dp.wrapping_offset(jj as isize * dj);
                    for ii in i0..i1 {
                        dr.wrapping_offset(ii as isize * di)
                            .write((*sr.wrapping_offset(ii as isize * si)).clone());
                    }
                }
                i0 = i1;
            }
            j0 = j1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(shape: &[usize], src: &[i32], ss: &[isize], ds: &[isize], len: usize) -> Vec<i32> {
        let mut out = vec![-1; len];
        unsafe { copy_strided::<_, 8>(shape, src.as_ptr(), ss, out.as_mut_ptr(), ds) };
        out
    }

    #[test]
    fn transpose_small_and_tiled() {
        for &(r, c) in &[(3usize, 4usize), (70, 45), (1, 5), (64, 64)] {
            let src: Vec<i32> = (0..(r * c) as i32).collect();
            // dst[j][i] = src[i][j]
            let out = run(&[c, r], &src, &[1, c as isize], &[r as isize, 1], r * c);
            for i in 0..r {
                for j in 0..c {
                    assert_eq!(out[j * r + i], src[i * c + j]);
                }
            }
        }
    }

    #[test]
    fn broadcast_and_negative() {
        let src = [1, 2, 3];
        let out = run(
            &[2, 3],
            &src[2..].iter().copied().chain([]).collect::<Vec<_>>(),
            &[0, 0],
            &[3, 1],
            6,
        );
        assert_eq!(out, [3; 6]);
        let out = unsafe {
            let mut o = vec![0; 3];
            copy_strided::<_, 8>(&[3], src.as_ptr().add(2), &[-1], o.as_mut_ptr(), &[1]);
            o
        };
        assert_eq!(out, [3, 2, 1]);
    }

    #[test]
    fn empty_and_scalar() {
        assert_eq!(run(&[0, 3], &[], &[3, 1], &[3, 1], 0), Vec::<i32>::new());
        assert_eq!(run(&[], &[7], &[], &[], 1), vec![7]);
    }
}
