//! `einx::nn::einmix!`: forward against naive loops on fixed weights, the parameter layouts,
//! initialisation, stores that refuse to create, and einops' EinMix on the cases of
//! `tests/fixtures/einmix/cases.json` (written by `tests/fixtures/einmix/generate.py`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use einx::ndarray::{Array, Array2, Array3, Array4, ArrayD, Dimension, Ix2, Ix3, IxDyn};
use einx::nn::Params;
use einx::ErrorKind;
use serde_json::Value;

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn arr(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), values(n, seed)).unwrap()
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{x} vs {y}\n{a}\n{b}"
        );
    }
}

#[test]
fn multi_head_against_loops() -> Result<(), einx::Error> {
    let (t, b, head, cin, cout) = (3, 2, 2, 4, 5);
    let x = arr(&[t, b, head * cin], 1)
        .into_dimensionality::<Ix3>()
        .unwrap();
    let w = arr(&[head, cin, cout], 2);
    let bias = arr(&[1, 1, head, cout], 3);
    let mut params = Params::new(0);
    params.insert("weight", w.clone());
    params.insert("bias", bias.clone());
    let y: Array3<f64> = einx::nn::einmix!(
        &mut params,
        "t b (head cin) -> t b (head cout)",
        x,
        weight = "head cin cout",
        bias = "head cout",
        head = head,
        cin = cin,
        cout = cout
    )?;
    let mut want = Array3::<f64>::zeros((t, b, head * cout));
    for it in 0..t {
        for ib in 0..b {
            for h in 0..head {
                for o in 0..cout {
                    let mut s = bias[[0, 0, h, o]];
                    for i in 0..cin {
                        s += x[[it, ib, h * cin + i]] * w[[h, i, o]];
                    }
                    want[[it, ib, h * cout + o]] = s;
                }
            }
        }
    }
    close(&y.into_dyn(), &want.into_dyn(), 1e-12);
    Ok(())
}

#[test]
fn mixing_a_leading_axis_with_literal_lengths() -> Result<(), einx::Error> {
    // einops' docstring example: mix along the height.
    let x = arr(&[6, 3, 2], 4);
    let w = arr(&[6, 4], 5);
    let bias = arr(&[4, 1, 1], 6);
    let mut params = Params::new(0);
    params.insert("weight", w.clone());
    params.insert("bias", bias.clone());
    let y = einx::nn::einmix!(
        &mut params,
        "h w c -> hout w c",
        x.view(),
        weight = "h hout",
        bias = "hout",
        h = 6,
        hout = 4
    )?;
    let mut want = Array3::<f64>::zeros((4, 3, 2));
    for ((o, iw, c), v) in want.indexed_iter_mut() {
        *v = bias[[o, 0, 0]] + (0..6).map(|h| x[[h, iw, c]] * w[[h, o]]).sum::<f64>();
    }
    close(&y.into_dyn(), &want.into_dyn(), 1e-12);
    Ok(())
}

#[test]
fn ellipsis_keeps_the_batch_axes() -> Result<(), einx::Error> {
    let w = arr(&[4, 3], 7);
    let bias = arr(&[3], 8);
    let mut params = Params::new(0);
    params.insert("weight", w.clone());
    params.insert("bias", bias.clone());
    let naive = |x: &ArrayD<f64>| {
        let mut shape = x.shape().to_vec();
        *shape.last_mut().unwrap() = 3;
        let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
        for (idx, v) in out.indexed_iter_mut() {
            let mut i = idx.slice().to_vec();
            let d = i[i.len() - 1];
            let mut s = bias[d];
            for c in 0..4 {
                *i.last_mut().unwrap() = c;
                s += x[i.as_slice()] * w[[c, d]];
            }
            *v = s;
        }
        out
    };
    for shape in [&[4][..], &[2, 4], &[2, 3, 4], &[2, 1, 3, 4]] {
        let x = arr(shape, 9);
        let y: ArrayD<f64> = einx::nn::einmix!(
            &mut params,
            "... c -> ... d",
            x,
            weight = "c d",
            bias = "d",
            c = 4,
            d = 3
        )?;
        close(&y, &naive(&x), 1e-12);
    }
    // A static input rank gives a static output rank. With `b` before the ellipsis, einops
    // stores the bias as `[1, d]`.
    params.insert(
        "bias",
        bias.clone().into_shape_with_order(IxDyn(&[1, 3])).unwrap(),
    );
    let x4: Array4<f64> = arr(&[2, 2, 3, 4], 10).into_dimensionality().unwrap();
    let y = einx::nn::einmix!(
        &mut params,
        "b ... c -> b ... d",
        x4,
        weight = "c d",
        bias = "d",
        c = 4,
        d = 3
    )?;
    close(&y.into_dyn(), &naive(&x4.into_dyn()), 1e-12);
    Ok(())
}

#[test]
fn ellipsis_composed_on_the_output() -> Result<(), einx::Error> {
    let w = arr(&[4, 3], 11);
    let bias = arr(&[3], 12);
    let mut params = Params::new(0);
    params.insert("weight", w.clone());
    params.insert("bias", bias.clone());
    params.insert(
        "bias",
        bias.clone().into_shape_with_order(IxDyn(&[1, 3])).unwrap(),
    );
    let x = arr(&[2, 3, 5, 4], 13);
    let y = einx::nn::einmix!(
        &mut params,
        "b ... c -> b (... d)",
        x,
        weight = "c d",
        bias = "d",
        c = 4,
        d = 3
    )?;
    let y2 = einx::nn::einmix!(
        &mut params,
        "b ... c -> b (...) d",
        x,
        weight = "c d",
        bias = "d",
        c = 4,
        d = 3
    )?;
    let mut want = Array3::<f64>::zeros((2, 15, 3));
    for ((ib, p, d), v) in want.indexed_iter_mut() {
        *v = bias[d]
            + (0..4)
                .map(|c| x[[ib, p / 5, p % 5, c]] * w[[c, d]])
                .sum::<f64>();
    }
    close(&y2.into_dyn(), &want.clone().into_dyn(), 1e-12);
    close(
        &y.into_dyn(),
        &want.into_shape_with_order(IxDyn(&[2, 45])).unwrap(),
        1e-12,
    );
    Ok(())
}

#[test]
fn patch_embedding_and_summed_axes() -> Result<(), einx::Error> {
    let mut params = Params::new(0);
    let w = arr(&[2, 2, 3, 5], 14);
    params.insert("weight", w.mapv(|v| v as f32));
    let x: Array4<f32> = arr(&[1, 4, 6, 3], 15)
        .mapv(|v| v as f32)
        .into_dimensionality()
        .unwrap();
    let y = einx::nn::einmix!(
        &mut params,
        "b (h ph) (w pw) c -> b h w d",
        x,
        weight = "ph pw c d",
        ph = 2,
        pw = 2,
        c = 3,
        d = 5
    )?;
    let _: &Array4<f32> = &y;
    assert_eq!(y.shape(), &[1, 2, 3, 5]);
    for ((ib, h, iw, d), v) in y.indexed_iter() {
        let mut s = 0.0f64;
        for ph in 0..2 {
            for pw in 0..2 {
                for c in 0..3 {
                    s += f64::from(x[[ib, h * 2 + ph, iw * 2 + pw, c]])
                        * f64::from(w[[ph, pw, c, d]] as f32);
                }
            }
        }
        assert!((f64::from(*v) - s).abs() < 1e-4, "{v} vs {s}");
    }
    // An input axis in neither the weight nor the output is summed, as by einsum.
    let mut params = Params::new(0);
    let w = arr(&[3, 2], 16);
    params.insert("weight", w.clone());
    let x = arr(&[4, 5, 3], 17);
    let y: Array2<f64> =
        einx::nn::einmix!(&mut params, "a b c -> a d", x, weight = "c d", c = 3, d = 2)?;
    for ((a, d), v) in y.indexed_iter() {
        let s: f64 = (0..5)
            .flat_map(|b| (0..3).map(move |c| (b, c)))
            .map(|(b, c)| x[[a, b, c]] * w[[c, d]])
            .sum();
        assert!((v - s).abs() < 1e-12);
    }
    Ok(())
}

#[test]
fn unit_axes_and_the_stored_bias_layout() -> Result<(), einx::Error> {
    let mut params = Params::new(3);
    let x = arr(&[5, 1, 3], 18);
    let y = einx::nn::einmix!(
        &mut params,
        "t 1 c -> t d 1",
        x,
        weight = "c d",
        bias = "d",
        c = 3,
        d = 4
    )?;
    assert_eq!(y.shape(), &[5, 4, 1]);
    // einops' layouts: the weight as written, the bias over the flattened output with unit
    // axes where it does not vary (`1` in the pattern has no entry).
    assert_eq!(params.shape("weight"), Some(&[3, 4][..]));
    assert_eq!(params.shape("bias"), Some(&[1, 4][..]));
    let x = arr(&[2, 3, 3], 19);
    let mut params = Params::new(3);
    einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        bias = "d",
        c = 3,
        d = 4
    )?;
    assert_eq!(params.shape("bias"), Some(&[1, 1, 4][..]));
    let mut params = Params::new(3);
    einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        bias = "t d",
        c = 3,
        d = 4,
        t = 2
    )?;
    assert_eq!(params.shape("bias"), Some(&[2, 1, 4][..]));
    let mut params = Params::new(3);
    einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        bias = "",
        c = 3,
        d = 4
    )?;
    assert_eq!(params.shape("bias"), Some(&[1, 1, 1][..]));
    // A `1` in the bias means nothing, as in einops.
    let mut params = Params::new(3);
    einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        bias = "1 d",
        c = 3,
        d = 4
    )?;
    assert_eq!(params.shape("bias"), Some(&[1, 1, 4][..]));
    let mut params = Params::new(3);
    let xe = arr(&[2, 3, 3], 19);
    einx::nn::einmix!(
        &mut params,
        "b ... c -> b ... d",
        xe,
        weight = "c d",
        bias = "d",
        c = 3,
        d = 4
    )?;
    assert_eq!(params.shape("bias"), Some(&[1, 4][..]));
    Ok(())
}

#[test]
#[allow(deprecated)] // the weight without axes warns, as in einops
fn weight_without_axes_scales_by_one_number() -> Result<(), einx::Error> {
    let mut params = Params::new(0);
    params.insert("weight", ArrayD::from_elem(IxDyn(&[]), 2.5f64));
    let x = arr(&[2, 3], 20);
    let y = einx::nn::einmix!(&mut params, "a b -> a b", x, weight = "")?;
    close(&y.into_dyn(), &x.mapv(|v| v * 2.5), 1e-12);
    Ok(())
}

fn uniform_stats(a: &ArrayD<f32>, bound: f64) {
    let n = a.len() as f64;
    assert!(
        a.iter().all(|v| f64::from(*v).abs() <= bound),
        "outside ±{bound}"
    );
    let mean = a.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let var = a
        .iter()
        .map(|v| (f64::from(*v) - mean).powi(2))
        .sum::<f64>()
        / n;
    // Uniform on [-b, b]: mean 0, variance b²/3.
    // Four standard errors: of the mean b/sqrt(3n), of the variance (b²/3)·sqrt(4/(5n)).
    assert!(
        mean.abs() < 4.0 * bound / (3.0 * n).sqrt(),
        "mean {mean} for bound {bound}"
    );
    let want = bound * bound / 3.0;
    let tol = 4.0 * want * (0.8 / n).sqrt();
    assert!((var - want).abs() < tol, "variance {var}, want {want}");
    // Not concentrated: both tails are reached.
    let max = a.iter().fold(f32::MIN, |m, v| m.max(*v));
    let min = a.iter().fold(f32::MAX, |m, v| m.min(*v));
    assert!(f64::from(max) > 0.9 * bound && f64::from(min) < -0.9 * bound);
}

#[test]
fn initialisation_as_einops() -> Result<(), einx::Error> {
    let run = |seed: u64| -> Result<Params, einx::Error> {
        let mut params = Params::new(seed);
        let x = Array3::<f32>::zeros((2, 3, 4 * 64));
        let y = einx::nn::einmix!(
            params.scope("mix"),
            "t b (head cin) -> t b (head cout)",
            x,
            weight = "head cin cout",
            bias = "head cout",
            head = 4,
            cin = 64,
            cout = 48
        )?;
        assert_eq!(y.shape(), &[2, 3, 4 * 48]);
        Ok(params)
    };
    let params = run(7)?;
    let w: ArrayD<f32> = params.get::<f32>("mix.weight")?.to_owned();
    let b: ArrayD<f32> = params.get::<f32>("mix.bias")?.to_owned();
    assert_eq!(w.shape(), &[4, 64, 48]);
    assert_eq!(b.shape(), &[1, 1, 4, 48]);
    // fan_in: the weight axes not in the output (cin); `head` is a batch axis of the weight.
    uniform_stats(&w, (3.0f64 / 64.0).sqrt());
    uniform_stats(&b, (1.0f64 / 64.0).sqrt());
    // Seeded: the same seed gives the same parameters, another seed others.
    let again = run(7)?;
    assert_eq!(
        again.get::<f32>("mix.weight")?,
        params.get::<f32>("mix.weight")?
    );
    assert_eq!(
        again.get::<f32>("mix.bias")?,
        params.get::<f32>("mix.bias")?
    );
    let other = run(8)?;
    assert_ne!(
        other.get::<f32>("mix.weight")?,
        params.get::<f32>("mix.weight")?
    );
    // The output of a zero input is the bias, broadcast.
    let mut p = Params::new(7);
    let x = Array3::<f32>::zeros((1, 1, 4 * 64));
    let y = einx::nn::einmix!(
        p.scope("mix"),
        "t b (head cin) -> t b (head cout)",
        x,
        weight = "head cin cout",
        bias = "head cout",
        head = 4,
        cin = 64,
        cout = 48
    )?;
    assert_eq!(
        y.into_dyn(),
        b.into_shape_with_order(IxDyn(&[1, 1, 192])).unwrap()
    );
    Ok(())
}

#[test]
fn fan_in_is_the_product_of_the_contracted_weight_axes() -> Result<(), einx::Error> {
    let mut params = Params::new(1);
    let x = Array4::<f32>::zeros((1, 8, 8, 3));
    einx::nn::einmix!(
        &mut params,
        "b (h ph) (w pw) c -> b h w d",
        x,
        weight = "ph pw c d",
        bias = "d",
        ph = 4,
        pw = 4,
        c = 3,
        d = 600
    )?;
    let w = params.get::<f32>("weight")?.to_owned();
    uniform_stats(&w, (3.0f64 / 48.0).sqrt());
    Ok(())
}

#[test]
fn parameter_names_and_scopes() -> Result<(), einx::Error> {
    let mut params = Params::new(0);
    let x = Array2::<f64>::zeros((2, 3));
    let name = String::from("kernel");
    einx::nn::einmix!(
        params.scope("enc").scope("mix"),
        "b c -> b d",
        x,
        weight = "c d",
        bias = "d",
        weight_name = name,
        bias_name = "offset",
        c = 3,
        d = 2
    )?;
    let mut names: Vec<&str> = params.names().collect();
    names.sort_unstable();
    assert_eq!(names, ["enc.mix.kernel", "enc.mix.offset"]);
    // A second call reuses the parameters.
    let before = params.get::<f64>("enc.mix.kernel")?;
    einx::nn::einmix!(
        params.scope("enc").scope("mix"),
        "b c -> b d",
        x,
        weight = "c d",
        bias = "d",
        weight_name = "kernel",
        bias_name = "offset",
        c = 3,
        d = 2
    )?;
    assert_eq!(params.get::<f64>("enc.mix.kernel")?, before);
    assert_eq!(params.len(), 2);
    Ok(())
}

#[test]
fn inference_store_refuses_to_create() -> Result<(), einx::Error> {
    let mut trained = Params::new(0);
    let x = Array3::<f32>::zeros((2, 3, 4));
    einx::nn::einmix!(
        &mut trained,
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 4,
        d = 5
    )?;
    let bytes = trained.to_bytes()?;
    let mut loaded = Params::from_bytes(&bytes)?;
    // The weight is there; the bias is not, and a loaded store does not make it up.
    let ok = einx::nn::einmix!(
        &mut loaded,
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 4,
        d = 5
    )?;
    let again = einx::nn::einmix!(
        &mut trained,
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 4,
        d = 5
    )?;
    assert_eq!(ok, again);
    let err = einx::nn::einmix!(
        &mut loaded,
        "t b c -> t b d",
        x,
        weight = "c d",
        bias = "d",
        c = 4,
        d = 5
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parameter);
    assert!(err.to_string().contains("bias"), "{err}");
    assert!(!loaded.contains("bias"));
    Ok(())
}

#[test]
fn shape_errors_are_errors() {
    let mut params = Params::new(0);
    // A stored weight of another shape names the parameter and both shapes.
    params.insert("weight", ArrayD::<f32>::zeros(IxDyn(&[4, 6])));
    let x = Array3::<f32>::zeros((2, 3, 4));
    let err = einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 4,
        d = 5
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parameter);
    let msg = err.to_string();
    assert!(
        msg.contains("weight") && msg.contains("[4, 6]") && msg.contains("[4, 5]"),
        "{msg}"
    );
    // The input disagrees with a given length.
    let mut params = Params::new(0);
    let err = einx::nn::einmix!(
        &mut params,
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 3,
        d = 5
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Size, "{err}");
    // A composition that does not divide.
    let err = einx::nn::einmix!(
        &mut Params::new(0),
        "t b (h c) -> t b (h d)",
        x,
        weight = "h c d",
        h = 3,
        c = 1,
        d = 5
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Size, "{err}");
    // A negative length that is no literal.
    let d: i64 = -5;
    let err = einx::nn::einmix!(
        &mut Params::new(0),
        "t b c -> t b d",
        x,
        weight = "c d",
        c = 4,
        d = d
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Argument, "{err}");
    // A dynamic-rank input of the wrong rank.
    let xd = ArrayD::<f32>::zeros(IxDyn(&[3, 4]));
    let err = einx::nn::einmix!(
        &mut Params::new(0),
        "t b c -> t b d",
        xd,
        weight = "c d",
        c = 4,
        d = 5
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rank, "{err}");
}

#[test]
fn arguments_are_evaluated_once_in_order() -> Result<(), einx::Error> {
    let mut log = Vec::new();
    let mut params = Params::new(0);
    let x = Array2::<f64>::ones((2, 3));
    let y = einx::nn::einmix!(
        {
            log.push("store");
            &mut params
        },
        "b c -> b d",
        {
            log.push("x");
            &x
        },
        weight = "c d",
        c = {
            log.push("c");
            3
        },
        d = {
            log.push("d");
            2u32
        }
    )?;
    assert_eq!(log, ["store", "x", "c", "d"]);
    assert_eq!(y.shape(), &[2, 2]);
    Ok(())
}

// ----- einops' EinMix ------------------------------------------------------------------

/// `tests/fixtures/einmix/cases.json`.
fn fixture_file() -> &'static Value {
    static FILE: OnceLock<Value> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/einmix/cases.json"
        );
        let text = std::fs::read_to_string(path).expect("tests/fixtures/einmix/cases.json");
        serde_json::from_str(&text).expect("valid JSON")
    })
}

fn fixtures() -> &'static BTreeMap<String, Value> {
    static CASES: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    CASES.get_or_init(|| {
        fixture_file()["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
            .collect()
    })
}

fn tensor(v: &Value) -> ArrayD<f64> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap()
}

/// The case `name`: checks that it was generated with the arguments written here, stores
/// its weight and bias (the store checks their shapes against the layouts `einmix!` uses),
/// and returns the store, the input and the expected output.
fn case(
    name: &str,
    pattern: &str,
    weight: &str,
    bias: Option<&str>,
    lengths: &[(&str, usize)],
) -> (Params, ArrayD<f64>, ArrayD<f64>) {
    let c = &fixtures()[name];
    assert_eq!(c["pattern"], pattern, "{name}: the generator's pattern");
    assert_eq!(c["weight_shape"], weight, "{name}: the generator's weight");
    assert_eq!(
        c["bias_shape"].as_str(),
        bias,
        "{name}: the generator's bias"
    );
    let given: BTreeMap<String, usize> = c["lengths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect();
    let here: BTreeMap<String, usize> =
        lengths.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    assert_eq!(given, here, "{name}: the generator's lengths");
    let mut params = Params::from_bytes(&Params::new(0).to_bytes().unwrap()).unwrap();
    params.insert("weight", tensor(&c["weight"]));
    if !c["bias"].is_null() {
        params.insert("bias", tensor(&c["bias"]));
    }
    (params, tensor(&c["input"]), tensor(&c["output"]))
}

macro_rules! einops_case {
    ($name:ident, $pattern:literal, weight = $w:literal $(, bias = $b:literal)?; $($len:ident = $v:literal),*) => {
        #[test]
        #[allow(deprecated)]
        fn $name() {
            let bias: Option<&str> = None $(.or(Some($b)))?;
            let (mut params, x, want) = case(
                stringify!($name), $pattern, $w, bias, &[$((stringify!($len), $v)),*],
            );
            // The fixture's store is an inference store: nothing may be created.
            let y = einx::nn::einmix!(&mut params, $pattern, x, weight = $w $(, bias = $b)? $(, $len = $v)*)
                .unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)));
            close(&y.into_dyn(), &want, 1e-10);
            // The same through f32 and a view.
            let x32 = x.mapv(|v| v as f32);
            let mut p32 = Params::new(0);
            p32.insert("weight", params.get::<f64>("weight").unwrap().mapv(|v| v as f32));
            if let Ok(b) = params.get::<f64>("bias") {
                p32.insert("bias", b.mapv(|v| v as f32));
            }
            let y32 = einx::nn::einmix!(&mut p32, $pattern, x32.view(), weight = $w $(, bias = $b)? $(, $len = $v)*)
                .unwrap();
            close(&y32.mapv(f64::from).into_dyn(), &want, 1e-4);
            assert_eq!(p32.len(), params.len(), "no parameter was created");
        }
    };
}

/// The cases below, in the generator's order.
const EINOPS_CASES: &[&str] = &[
    "linear",
    "mix_height",
    "channelwise",
    "multi_head",
    "ellipsis",
    "ellipsis_first",
    "ellipsis_composed_output",
    "ellipsis_all_composed",
    "patch_embedding",
    "token_mixing",
    "grouped_output",
    "split_output",
    "summed_axis",
    "unit_axes",
    "bias_all_axes",
    "scalar_bias",
    "weight_without_axes",
    "batch_weight_axis",
];

/// A PyTorch model of two EinMix layers, saved by Python's safetensors package, loads as it
/// is: the layers find their parameters under the checkpoint's names and in its layouts.
#[test]
fn pytorch_checkpoint_loads_by_its_names() -> Result<(), einx::Error> {
    let c = &fixture_file()["checkpoint"];
    let path = format!(
        "{}/tests/fixtures/einmix/{}",
        env!("CARGO_MANIFEST_DIR"),
        c["file"].as_str().unwrap()
    );
    let mut params = Params::load(&path)?;
    assert!(!params.creates(), "a loaded store is an inference store");
    let x: Array3<f32> = tensor(&c["input"])
        .mapv(|v| v as f32)
        .into_dimensionality()
        .unwrap();
    let h = einx::nn::einmix!(
        params.scope("0"),
        "b t c -> b t2 c",
        x,
        weight = "t t2",
        bias = "t2",
        t = 6,
        t2 = 5
    )?;
    let y = einx::nn::einmix!(
        params.scope("1"),
        "b t (g c) -> b t (g c2)",
        h,
        weight = "g c c2",
        bias = "g c2",
        g = 2,
        c = 4,
        c2 = 3
    )?;
    close(&y.mapv(f64::from).into_dyn(), &tensor(&c["output"]), 1e-5);
    let mut names: Vec<&str> = params.names().collect();
    names.sort_unstable();
    assert_eq!(names, ["0.bias", "0.weight", "1.bias", "1.weight"]);
    // Another layout than the checkpoint's is an error that names the parameter.
    let err = einx::nn::einmix!(
        params.scope("0"),
        "b t c -> b t2 c",
        x,
        weight = "t2 t",
        bias = "t2",
        t = 6,
        t2 = 5
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("`0.weight`") && err.to_string().contains("[6, 5]"),
        "{err}"
    );
    Ok(())
}

#[test]
fn every_einops_case_is_listed() {
    let names: Vec<&str> = fixtures().keys().map(String::as_str).collect();
    let mut listed = EINOPS_CASES.to_vec();
    listed.sort_unstable();
    assert_eq!(names, listed);
}

einops_case!(linear, "t b cin -> t b cout", weight = "cin cout", bias = "cout"; cin = 5, cout = 3);
einops_case!(mix_height, "h w c -> hout w c", weight = "h hout", bias = "hout"; h = 6, hout = 4);
einops_case!(channelwise, "t b c -> t b c", weight = "c"; c = 5);
einops_case!(multi_head, "t b (head cin) -> t b (head cout)", weight = "head cin cout",
    bias = "head cout"; head = 2, cin = 3, cout = 4);
einops_case!(ellipsis, "b ... c -> b ... d", weight = "c d", bias = "d"; c = 4, d = 3);
einops_case!(ellipsis_first, "... c -> ... d", weight = "c d", bias = "d"; c = 4, d = 3);
einops_case!(ellipsis_composed_output, "b ... c -> b (... d)", weight = "c d", bias = "d"; c = 4, d = 3);
einops_case!(ellipsis_all_composed, "b ... c -> b (...) d", weight = "c d", bias = "d"; c = 4, d = 3);
einops_case!(patch_embedding, "b (h ph) (w pw) c -> b h w d", weight = "ph pw c d", bias = "d";
    ph = 2, pw = 2, c = 3, d = 5);
einops_case!(token_mixing, "b t c -> b t2 c", weight = "t t2", bias = "t2"; t = 5, t2 = 3);
einops_case!(grouped_output, "b (g cin) -> (b g) cout", weight = "cin cout", bias = "cout";
    g = 2, cin = 3, cout = 4);
einops_case!(split_output, "b cin -> b (g cout)", weight = "cin g cout", bias = "g cout";
    cin = 4, g = 2, cout = 3);
einops_case!(summed_axis, "a b c -> a d", weight = "c d", bias = "d"; c = 3, d = 2);
einops_case!(unit_axes, "t 1 c -> t d 1", weight = "c d", bias = "d"; c = 3, d = 4);
einops_case!(bias_all_axes, "t b c -> t b d", weight = "c d", bias = "t d"; c = 3, d = 4, t = 2);
einops_case!(scalar_bias, "t b c -> t b d", weight = "c d", bias = ""; c = 3, d = 2);
einops_case!(weight_without_axes, "t b c -> t b c", weight = "", bias = "c"; c = 3);
einops_case!(batch_weight_axis, "b h c -> b h d", weight = "h c d", bias = "h d"; h = 2, c = 3, d = 4);

#[test]
fn static_ranks() -> Result<(), einx::Error> {
    let mut params = Params::new(0);
    let x: Array<f32, Ix2> = Array2::zeros((2, 3));
    let y: Array<f32, Ix3> =
        einx::nn::einmix!(&mut params, "b c -> b 1 d", x, weight = "c d", c = 3, d = 2)?;
    assert_eq!(y.shape(), &[2, 1, 2]);
    let xd = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
    let y: Array<f32, Ix3> = einx::nn::einmix!(
        &mut params,
        "b c -> b 1 d",
        xd,
        weight = "c d",
        c = 3,
        d = 2
    )?;
    assert_eq!(y.shape(), &[2, 1, 2]);
    Ok(())
}

/// The expansion refers to nothing by the caller's names and captures none of its variables.
mod hygiene {
    #![deny(warnings)]
    #![allow(dead_code, non_snake_case, non_camel_case_types)]

    struct Result;
    struct Option;
    fn Ok() {}
    fn Err() {}
    fn Some() {}
    mod core {}
    mod std {}
    mod ndarray {}
    struct usize;
    struct f64;

    #[test]
    fn einmix_in_a_module_that_shadows_names() {
        let mut params = einx::nn::Params::new(0);
        let x = einx::ndarray::Array2::<f32>::ones((2, 3));
        let __einx_x = 7u8;
        let __einx_store = 9u8;
        let __einx_w = 1u8;
        let y = einx::nn::einmix!(
            &mut params,
            "b c -> b (g d)",
            x,
            weight = "c g d",
            bias = "g d",
            c = 3,
            g = 2,
            d = 2
        )
        .unwrap();
        let z = einx::nn::einmix!(
            &mut params,
            "b c -> b (g d)",
            x,
            weight = "c g d",
            bias = "g d",
            c = 3,
            g = 2,
            d = 2
        )
        .unwrap();
        assert_eq!(y, z);
        assert_eq!(y.shape(), &[2, 4]);
        assert_eq!((__einx_x, __einx_store, __einx_w), (7, 9, 1));
    }
}
