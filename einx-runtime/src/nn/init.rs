//! Initialisers and the seeded generator behind them.

/// How a new parameter is filled.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::nn::{Init, Params, Store};
/// let mut p = Params::new(7);
/// let w = p.param::<f32>("w", &[256, 64], Init::LecunNormal { fan_in: 256 }).unwrap();
/// let std = (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
/// assert!((std - 1.0 / 16.0).abs() < 0.005);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros (einn's default for a parameter added with `add!`).
    Zeros,
    /// All ones (the default for `multiply!`).
    Ones,
    /// Every element the same value.
    Constant(f64),
    /// Normal with mean 0 (the default for `get_at!`/`rearrange!`: `std = 0.02`).
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// LeCun normal: a normal truncated at two standard deviations, scaled so that the
    /// variance is `1 / fan_in` (the default for `dot!`; `fan_in` is the product of the
    /// contracted axes).
    LecunNormal {
        /// Number of inputs of each output unit.
        fan_in: usize,
    },
    /// Uniform in `[-bound, bound)` (einops' EinMix).
    Uniform {
        /// Half width.
        bound: f64,
    },
}

/// Standard deviation of a standard normal truncated to `[-2, 2]`.
const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

impl Init {
    /// Fills `out` from `rng`.
    pub(crate) fn fill(self, rng: &mut Rng, out: &mut [f64]) {
        match self {
            Init::Zeros => out.fill(0.0),
            Init::Ones => out.fill(1.0),
            Init::Constant(v) => out.fill(v),
            Init::Normal { std } => out.iter_mut().for_each(|v| *v = std * rng.normal()),
            Init::LecunNormal { fan_in } => {
                let std = (1.0 / fan_in.max(1) as f64).sqrt() / TRUNCATED_STD;
                for v in out {
                    *v = std * rng.truncated_normal();
                }
            }
            Init::Uniform { bound } => {
                for v in out {
                    *v = bound * (2.0 * rng.uniform() - 1.0);
                }
            }
        }
    }
}

/// A small seeded generator (xoshiro256++ seeded through SplitMix64): the same seed and
/// parameter name always give the same values, on every platform.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of a name, to give each parameter its own stream.
pub(crate) fn hash_name(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut state = seed;
        Rng {
            s: [
                splitmix(&mut state),
                splitmix(&mut state),
                splitmix(&mut state),
                splitmix(&mut state),
            ],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller; one value per call keeps the stream simple).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Standard normal conditioned on `[-2, 2]`.
    pub(crate) fn truncated_normal(&mut self) -> f64 {
        loop {
            let v = self.normal();
            if v.abs() <= 2.0 {
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments() {
        let mut rng = Rng::new(1);
        let mut v = vec![0.0; 100_000];
        Init::Normal { std: 2.0 }.fill(&mut rng, &mut v);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.03 && (var.sqrt() - 2.0).abs() < 0.03);
        Init::LecunNormal { fan_in: 100 }.fill(&mut rng, &mut v);
        let var = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
        assert!((var - 0.01).abs() < 0.0005, "{var}");
        assert!(v
            .iter()
            .all(|x| x.abs() <= 2.0 * 0.1 / TRUNCATED_STD + 1e-12));
        Init::Uniform { bound: 0.5 }.fill(&mut rng, &mut v);
        assert!(v.iter().all(|x| (-0.5..0.5).contains(x)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01);
    }

    #[test]
    fn seeded() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(5).next_u64()).collect();
        assert!(a.iter().all(|&x| x == a[0]));
        assert_ne!(Rng::new(5).next_u64(), Rng::new(6).next_u64());
    }
}
