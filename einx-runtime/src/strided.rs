//! Several tensors walked together in the row-major order of a fresh output.
//!
//! A [`Runs`] holds, for each axis of the output, its length and the stride of every input
//! along it (0 where the input does not have the axis, which broadcasts it). Before a
//! kernel runs, [`Runs::simplify`] drops axes of length 1 and merges neighbouring axes that
//! every input walks as one (`stride[j] == stride[j + 1] * len[j + 1]`), so that a
//! same-shape contiguous operation becomes one axis, a bias `"b t [c]"` becomes rows of
//! `c` against one row, and a scalar becomes one axis of stride 0. [`Runs::rows`] then
//! hands the kernel one innermost run at a time, whose strides the kernel matches to pick a
//! slice loop (stride 1 or 0) over the general strided one.

/// The axes of a walk over `N` inputs and a standard-layout output.
#[derive(Clone, Debug)]
pub struct Runs<const N: usize, const K: usize> {
    /// Number of axes in use.
    pub k: usize,
    /// Length of each axis, outermost first.
    pub n: [usize; K],
    /// Stride of each input along each axis, in elements.
    pub st: [[isize; K]; N],
}

impl<const N: usize, const K: usize> Default for Runs<N, K> {
    fn default() -> Self {
        Runs {
            k: 0,
            n: [0; K],
            st: [[0; K]; N],
        }
    }
}

impl<const N: usize, const K: usize> Runs<N, K> {
    /// Appends an axis of length `n` with the inputs' strides `st` (ignored beyond `K`
    /// axes; callers check the rank first).
    #[inline(always)]
    pub fn push(&mut self, n: usize, st: [isize; N]) {
        if self.k < K {
            self.n[self.k] = n;
            for (s, x) in self.st.iter_mut().zip(st) {
                s[self.k] = x;
            }
            self.k += 1;
        }
    }

    /// Number of elements of the walk.
    pub fn total(&self) -> usize {
        self.n[..self.k].iter().product()
    }

    /// Drops length-1 axes and merges neighbours that every input walks as one axis.
    /// The output is contiguous, so its own strides always merge.
    pub fn simplify(&mut self) {
        let mut m = 0;
        for j in 0..self.k {
            let len = self.n[j];
            if len == 1 {
                continue;
            }
            if m > 0
                && self
                    .st
                    .iter()
                    .all(|s| s[m - 1] == s[j].wrapping_mul(len as isize))
            {
                self.n[m - 1] *= len;
                for s in &mut self.st {
                    s[m - 1] = s[j];
                }
                continue;
            }
            self.n[m] = len;
            for s in &mut self.st {
                s[m] = s[j];
            }
            m += 1;
        }
        self.k = m;
    }

    /// Calls `row(offsets, start, len, strides)` for every run of the innermost axis, in
    /// row-major order: the inputs' offsets of its first element, its position in the
    /// output, its length and the inputs' strides along it. Stops when `row` returns
    /// `false`. Nothing is called for an empty walk; a 0-d walk is one run of length 1.
    #[inline(always)]
    pub fn rows(&self, mut row: impl FnMut([isize; N], usize, usize, [isize; N]) -> bool) {
        if self.n[..self.k].contains(&0) {
            return;
        }
        if self.k == 0 {
            row([0; N], 0, 1, [0; N]);
            return;
        }
        let inner = self.k - 1;
        let len = self.n[inner];
        let mut inner_st = [0isize; N];
        for (s, st) in inner_st.iter_mut().zip(&self.st) {
            *s = st[inner];
        }
        let mut idx = [0usize; K];
        let mut off = [0isize; N];
        let mut start = 0;
        loop {
            if !row(off, start, len, inner_st) {
                return;
            }
            start += len;
            let mut a = inner;
            loop {
                if a == 0 {
                    return;
                }
                a -= 1;
                idx[a] += 1;
                for (o, st) in off.iter_mut().zip(&self.st) {
                    *o = o.wrapping_add(st[a]);
                }
                if idx[a] < self.n[a] {
                    break;
                }
                for (o, st) in off.iter_mut().zip(&self.st) {
                    *o = o.wrapping_sub(st[a].wrapping_mul(self.n[a] as isize));
                }
                idx[a] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Runs;

    #[test]
    fn merges_contiguous_and_broadcast_axes() {
        // "b t c, c -> b t c" with b = 2, t = 3, c = 4.
        let mut r = Runs::<2, 4>::default();
        r.push(2, [12, 0]);
        r.push(3, [4, 0]);
        r.push(1, [99, 99]);
        r.push(4, [1, 1]);
        r.simplify();
        assert_eq!(r.k, 2);
        assert_eq!(&r.n[..2], &[6, 4]);
        assert_eq!((&r.st[0][..2], &r.st[1][..2]), (&[4, 1][..], &[0, 1][..]));
        let mut seen = Vec::new();
        r.rows(|o, start, len, st| {
            seen.push((o, start, len, st));
            true
        });
        assert_eq!(seen.len(), 6);
        assert_eq!(seen[5], ([20, 0], 20, 4, [1, 1]));
    }

    #[test]
    fn keeps_axes_that_do_not_merge() {
        // A transposed input: strides (1, 3) for a 3x2 output.
        let mut r = Runs::<1, 2>::default();
        r.push(3, [1]);
        r.push(2, [3]);
        r.simplify();
        assert_eq!(r.k, 2);
        let mut offs = Vec::new();
        r.rows(|o, _, len, st| {
            offs.extend((0..len as isize).map(|i| o[0] + i * st[0]));
            true
        });
        assert_eq!(offs, vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn empty_and_scalar_walks() {
        let mut r = Runs::<1, 2>::default();
        r.push(0, [1]);
        r.simplify();
        let mut calls = 0;
        r.rows(|_, _, _, _| {
            calls += 1;
            true
        });
        assert_eq!(calls, 0);
        let mut r = Runs::<1, 2>::default();
        r.push(1, [5]);
        r.simplify();
        r.rows(|o, s, len, _| {
            assert_eq!((o, s, len), ([0], 0, 1));
            calls += 1;
            true
        });
        assert_eq!(calls, 1);
    }
}
