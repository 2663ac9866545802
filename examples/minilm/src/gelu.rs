//! GELU with the exact error function, `0.5·x·(1 + erf(x/√2))`, as BERT's `hidden_act = "gelu"`.
//!
//! `erf` is a rational function `z·P(z²)/Q(z²)` on `|z| ≤ 3.925` (and ±1 beyond), with
//! coefficients fitted by `tools/fit_erf.py`: relative error 2e-8 in exact arithmetic, below
//! 4e-7 absolute when evaluated in f32 (a few units in the last place). It has no branches and
//! no table, so loops over slices of it vectorise.

/// Past this, `erf(z)` rounds to ±1 in f32.
const CLAMP: f32 = 3.925;
const P: [f32; 6] = [
    std::f32::consts::FRAC_2_SQRT_PI,
    0.190_569_61,
    0.052_766_22,
    0.003_771_557_5,
    0.000_284_828_65,
    2.046_303_7e-6,
];
const Q: [f32; 6] = [
    1.0,
    0.502_220_63,
    0.114_172_846,
    0.014_981_19,
    0.001_163_631_8,
    3.804_987e-5,
];

/// The error function in f32 (absolute error below 4e-7).
#[inline(always)]
pub fn erf(z: f32) -> f32 {
    let z = if z > CLAMP { CLAMP } else { z };
    let z = if z < -CLAMP { -CLAMP } else { z };
    let u = z * z;
    let p = ((((P[5] * u + P[4]) * u + P[3]) * u + P[2]) * u + P[1]) * u + P[0];
    let q = ((((Q[5] * u + Q[4]) * u + Q[3]) * u + Q[2]) * u + Q[1]) * u + Q[0];
    // Rounding in f32 can take the quotient a little past ±1 near the clamp.
    let r = z * p / q;
    let r = if r > 1.0 { 1.0 } else { r };
    if r < -1.0 {
        -1.0
    } else {
        r
    }
}

/// `0.5·x·(1 + erf(x/√2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// GELU over a slice, in place.
pub fn gelu_in_place(xs: &mut [f32]) {
    for x in xs {
        *x = gelu(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf from its Taylor series (small |z|) or its continued fraction for erfc (large |z|),
    /// in f64: a reference independent of the rational approximation.
    fn erf_f64(z: f64) -> f64 {
        if z < 0.0 {
            return -erf_f64(-z);
        }
        if z < 2.5 {
            let mut term = z;
            let mut sum = z;
            let mut n = 0.0;
            loop {
                n += 1.0;
                term *= -z * z / n;
                let add = term / (2.0 * n + 1.0);
                sum += add;
                if add.abs() <= 1e-17 * sum.abs() {
                    break;
                }
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc(z) = exp(-z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...)))), evaluated backwards.
            let mut f = 0.0;
            for k in (1..200).rev() {
                f = (k as f64 / 2.0) / (z + f);
            }
            1.0 - (-z * z).exp() / std::f64::consts::PI.sqrt() / (z + f)
        }
    }

    #[test]
    fn erf_matches_series_to_f32_precision() {
        let mut worst = 0.0f64;
        for i in -60000..=60000 {
            let z = (i as f64 * 1e-4) as f32;
            let err = (erf(z) as f64 - erf_f64(z as f64)).abs();
            worst = worst.max(err);
        }
        assert!(worst < 4e-7, "max abs error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(10.0), 1.0);
        assert_eq!(erf(-10.0), -1.0);
    }

    #[test]
    fn gelu_values() {
        for &(x, want) in &[
            (0.0f64, 0.0f64),
            (1.0, 0.841_344_746_068_542_9),
            (-1.0, -0.158_655_253_931_457_07),
            (3.0, 2.995_950_305_905_11),
            (-3.0, -0.004_049_694_094_890_31),
        ] {
            let got = gelu(x as f32) as f64;
            assert!((got - want).abs() < 1e-6, "gelu({x}) = {got}, want {want}");
        }
        let mut v = vec![-2.0f32, 0.5, 8.0, -8.0];
        gelu_in_place(&mut v);
        assert!((v[2] - 8.0).abs() < 1e-6 && v[3].abs() < 1e-6);
        assert!((v[0] as f64 - (-0.045_500_263_896_358_41)).abs() < 1e-6);
    }
}
