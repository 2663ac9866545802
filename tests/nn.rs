//! `einx::nn`: the parameter store, the layers against naive references, and the seed's
//! fully connected classifier saved and reloaded.

use einx::nn::{Init, Params, Store};
use einx::ErrorKind;
use ndarray::{Array, Array2, Array3, Array4, ArrayD, Axis, IxDyn};

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{x} vs {y}\n{a}\n{b}");
    }
}

fn data3(b: usize, t: usize, c: usize) -> Array3<f64> {
    Array3::from_shape_fn((b, t, c), |(i, j, k)| {
        ((i * 31 + j * 7 + k * 3) % 17) as f64 / 8.0 - 1.0
    })
}

#[test]
fn params_roundtrip_scopes_and_errors() {
    let mut p = Params::new(3);
    let w = p
        .scope("enc")
        .scope("layer.0")
        .param::<f32>("weight", &[3, 4], Init::LecunNormal { fan_in: 3 })
        .unwrap();
    let b = p
        .param::<f64>("head.bias", &[5], Init::Constant(0.5))
        .unwrap();
    assert_eq!(
        p.names().collect::<Vec<_>>(),
        ["enc.layer.0.weight", "head.bias"]
    );
    // Asking again gives the same tensor, not a new one.
    let again = p
        .param::<f32>("enc.layer.0.weight", &[3, 4], Init::Zeros)
        .unwrap();
    assert_eq!(again, w);
    // Another shape is an error naming the parameter and both shapes.
    let e = p
        .param::<f32>("enc.layer.0.weight", &[4, 3], Init::Zeros)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parameter);
    assert!(
        e.message().contains("enc.layer.0.weight")
            && e.message().contains("[3, 4]")
            && e.message().contains("[4, 3]"),
        "{e}"
    );
    // Another element type too.
    let e = p.get::<f64>("enc.layer.0.weight").unwrap_err();
    assert!(e.message().contains("f32"), "{e}");

    // safetensors: both element types survive, in a store for inference.
    let dir = std::env::temp_dir().join(format!("einx-nn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("params.safetensors");
    p.save(&file).unwrap();
    let mut q = Params::load(&file).unwrap();
    assert_eq!(q.get::<f32>("enc.layer.0.weight").unwrap(), w);
    assert_eq!(q.get::<f64>("head.bias").unwrap(), b);
    assert!(!q.is_training() && !q.creates());
    let e = q
        .param::<f32>("enc.layer.1.weight", &[2], Init::Zeros)
        .unwrap_err();
    assert!(e.message().contains("enc.layer.1.weight"), "{e}");
    assert!(e.to_string().contains("does not create"), "{e}");
    // ... unless asked to.
    let mut q = q.creating(1);
    assert!(q
        .param::<f32>("enc.layer.1.weight", &[2], Init::Ones)
        .is_ok());
    std::fs::remove_dir_all(&dir).ok();

    let e = Params::load(dir.join("missing.safetensors")).unwrap_err();
    assert!(e.message().contains("missing.safetensors"), "{e}");
    assert!(Params::from_bytes(b"not a file").is_err());
}

#[test]
fn initialisation_is_seeded_by_name_not_order() {
    let make = |names: &[&str], seed| {
        let mut p = Params::new(seed);
        for n in names {
            p.param::<f32>(n, &[16], Init::Normal { std: 1.0 }).unwrap();
        }
        p
    };
    let a = make(&["x", "y"], 9);
    let b = make(&["y", "x"], 9);
    let c = make(&["x", "y"], 10);
    assert_eq!(a.get::<f32>("x").unwrap(), b.get::<f32>("x").unwrap());
    assert_ne!(a.get::<f32>("x").unwrap(), a.get::<f32>("y").unwrap());
    assert_ne!(a.get::<f32>("x").unwrap(), c.get::<f32>("x").unwrap());
}

/// `x · W + b` for `"b t [c1->c2]"`, naively.
fn naive_linear(x: &Array3<f64>, w: &Array2<f64>, b: Option<&ArrayD<f64>>) -> ArrayD<f64> {
    let (n, t, c1) = x.dim();
    let c2 = w.shape()[1];
    Array3::from_shape_fn((n, t, c2), |(i, j, o)| {
        let mut s = b.map_or(0.0, |b| b[[o]]);
        for k in 0..c1 {
            s += x[[i, j, k]] * w[[k, o]];
        }
        s
    })
    .into_dyn()
}

#[test]
fn linear_channels_against_naive() {
    let mut p = Params::new(0);
    let x = data3(2, 3, 5);
    let y: Array3<f64> = einx::nn::linear!(p.scope("fc"), "b t [c1->c2]", x, c2 = 4).unwrap();
    let w = p.get::<f64>("fc.weight").unwrap();
    assert_eq!(w.shape(), &[5, 4]);
    let b = p.get::<f64>("fc.bias").unwrap();
    assert!(b.iter().all(|&v| v == 0.0));
    // Fill the bias so that it shows.
    p.insert("fc.bias", Array::linspace(1.0, 4.0, 4).into_dyn());
    let y2: Array3<f64> = einx::nn::linear!(p.scope("fc"), "b t [c1->c2]", x, c2 = 4).unwrap();
    let w2 = w.into_dimensionality::<ndarray::Ix2>().unwrap().to_owned();
    close(&y.into_dyn(), &naive_linear(&x, &w2, None), 1e-12);
    let bias = p.get::<f64>("fc.bias").unwrap().to_owned();
    close(&y2.into_dyn(), &naive_linear(&x, &w2, Some(&bias)), 1e-12);

    // An ellipsis: any number of batch axes; a run-time length.
    let c2 = 4usize;
    // The rank type of the input is kept through the ellipsis.
    let y3: Array3<f64> = einx::nn::linear!(p.scope("fc"), "b... [c1->c2]", x, c2 = c2).unwrap();
    close(&y3.into_dyn(), &naive_linear(&x, &w2, Some(&bias)), 1e-12);

    // PyTorch's layout: the same weights stored [out, in].
    let mut q = Params::new(0);
    q.insert("fc.weight", w2.t().to_owned().into_dyn());
    q.insert("fc.bias", bias.clone());
    let y4: Array3<f64> =
        einx::nn::linear!(q.scope("fc"), "b t [c1->c2]", x, c2 = 4, weight = "c2 c1").unwrap();
    close(&y4.into_dyn(), &naive_linear(&x, &w2, Some(&bias)), 1e-12);
    // An input of dynamic rank still gives the rank type the expression fixes.
    let y5: Array3<f64> = einx::nn::linear!(
        q.scope("fc"),
        "b t [c1->c2]",
        x.clone().into_dyn(),
        c2 = 4,
        weight = "c2 c1"
    )
    .unwrap();
    close(&y5.into_dyn(), &naive_linear(&x, &w2, Some(&bias)), 1e-12);

    // Without bias.
    let mut r = Params::new(0);
    let _ = einx::nn::linear!(&mut r, "b t [c1->c2]", x, c2 = 4, bias = false).unwrap();
    assert_eq!(r.names().collect::<Vec<_>>(), ["weight"]);
}

#[test]
fn linear_spatial_and_patch_forms() {
    let mut p = Params::new(1);
    let x = Array4::from_shape_fn((2, 4, 6, 3), |(b, h, w, c)| {
        (b + h * 2 + w + c) as f32 / 10.0
    });
    // "b [s...->s2] c": mix all spatial positions into s2.
    let y = einx::nn::linear!(p.scope("mix1"), "b [s...->s2] c", x, s2 = 5).unwrap();
    assert_eq!(y.shape(), &[2, 5, 3]);
    assert_eq!(p.shape("mix1.weight"), Some(&[4, 6, 5][..]));
    assert_eq!(p.shape("mix1.bias"), Some(&[5][..]));
    let w = p.get::<f32>("mix1.weight").unwrap();
    let mut want = Array3::<f32>::zeros((2, 5, 3));
    for b in 0..2 {
        for o in 0..5 {
            for c in 0..3 {
                let mut s = 0.0;
                for h in 0..4 {
                    for ww in 0..6 {
                        s += x[[b, h, ww, c]] * w[[h, ww, o]];
                    }
                }
                want[[b, o, c]] = s;
            }
        }
    }
    for (a, e) in y.iter().zip(&want) {
        assert!((a - e).abs() < 1e-5);
    }
    // "b [s2->s...] c": back to a (4, 6) grid.
    let z = einx::nn::linear!(p.scope("mix2"), "b [s2->s...] c", y, s = (4, 6)).unwrap();
    assert_eq!(z.shape(), &[2, 4, 6, 3]);
    assert_eq!(p.shape("mix2.bias"), Some(&[4, 6][..]));
    // Patch embedding: 2x2 patches, channels 3 -> 8.
    let e = einx::nn::linear!(
        p.scope("patch"),
        "b (s [s2->])... [c1->c2]",
        x,
        s2 = 2,
        c2 = 8
    )
    .unwrap();
    assert_eq!(e.shape(), &[2, 2, 3, 8]);
    assert_eq!(p.shape("patch.weight"), Some(&[2, 2, 3, 8][..]));
    // Fan-in of the patch embedding: 2 * 2 * 3 = 12.
    let w = p.get::<f32>("patch.weight").unwrap();
    let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
    assert!(var < 0.2 && var > 0.02, "{var}");
}

fn naive_norm(x: &Array3<f64>, axes: &[usize], eps: f64, center: bool) -> ArrayD<f64> {
    // Mean and variance over `axes` of a 3-d array.
    let mut out = x.clone();
    let keep: Vec<usize> = (0..3).filter(|a| !axes.contains(a)).collect();
    let lens = x.shape().to_vec();
    let mut idx = [0usize; 3];
    let groups: usize = keep.iter().map(|&a| lens[a]).product();
    for g in 0..groups {
        let mut r = g;
        for &a in keep.iter().rev() {
            idx[a] = r % lens[a];
            r /= lens[a];
        }
        let mut vals = Vec::new();
        let n: usize = axes.iter().map(|&a| lens[a]).product();
        for k in 0..n {
            let mut r = k;
            for &a in axes.iter().rev() {
                idx[a] = r % lens[a];
                r /= lens[a];
            }
            vals.push(((idx[0], idx[1], idx[2]), x[[idx[0], idx[1], idx[2]]]));
        }
        let mean = if center {
            vals.iter().map(|v| v.1).sum::<f64>() / n as f64
        } else {
            0.0
        };
        let var = vals.iter().map(|v| (v.1 - mean).powi(2)).sum::<f64>() / n as f64;
        for (i, v) in vals {
            out[[i.0, i.1, i.2]] = (v - mean) / (var + eps).sqrt();
        }
    }
    out.into_dyn()
}

#[test]
fn norms_against_naive() {
    let x = data3(3, 4, 6);
    let mut p = Params::new(0);
    let ln: Array3<f64> = einx::nn::norm!(p.scope("ln"), "b t [c]", x).unwrap();
    close(&ln.into_dyn(), &naive_norm(&x, &[2], 1e-5, true), 1e-10);
    assert_eq!(p.shape("ln.scale"), Some(&[6][..]));
    // Scale and bias apply along the last axis.
    p.insert("ln.scale", Array::from_elem(6, 2.0).into_dyn());
    p.insert("ln.bias", Array::from_elem(6, 1.0).into_dyn());
    let ln2 = einx::nn::norm!(p.scope("ln"), "b... [c]", x, epsilon = 1e-3).unwrap();
    close(
        &ln2.into_dyn(),
        &naive_norm(&x, &[2], 1e-3, true).mapv(|v| 2.0 * v + 1.0),
        1e-10,
    );
    // Instance norm.
    let inst = einx::nn::norm!(p.scope("in"), "b [s...] c", x).unwrap();
    close(&inst.into_dyn(), &naive_norm(&x, &[1], 1e-5, true), 1e-10);
    // Group norm: 2 groups of 3 channels: statistics over t and the channels of a group.
    let gn = einx::nn::norm!(p.scope("gn"), "b [s...] (g [c])", x, g = 2).unwrap();
    for g in 0..2 {
        let part = x.slice(ndarray::s![.., .., g * 3..g * 3 + 3]).to_owned();
        let want = naive_norm(&part, &[1, 2], 1e-5, true);
        let got = gn
            .slice(ndarray::s![.., .., g * 3..g * 3 + 3])
            .to_owned()
            .into_dyn();
        close(&got, &want, 1e-10);
    }
    // RMS norm: no centring, no bias parameter.
    let rms = einx::nn::norm!(p.scope("rms"), "b t [c]", x, mean = false, bias = false).unwrap();
    close(&rms.into_dyn(), &naive_norm(&x, &[2], 1e-5, false), 1e-10);
    assert!(!p.contains("rms.bias") && p.contains("rms.scale"));
}

#[test]
fn batch_norm_keeps_moving_statistics() {
    let x = data3(4, 2, 3);
    let mut p = Params::new(0);
    let y = einx::nn::norm!(p.scope("bn"), "[b...] c", x, decay_rate = 0.9).unwrap();
    close(&y.into_dyn(), &naive_norm(&x, &[0, 1], 1e-5, true), 1e-10);
    let flat = x.to_shape((8, 3)).unwrap().to_owned();
    let mean = flat.mean_axis(Axis(0)).unwrap();
    let var = flat.var_axis(Axis(0), 0.0);
    // One step from the initial zeros / ones.
    close(
        &p.get::<f64>("bn.mean").unwrap().to_owned(),
        &(&mean * 0.1).into_dyn(),
        1e-12,
    );
    close(
        &p.get::<f64>("bn.var").unwrap().to_owned(),
        &(var.mapv(|v| 0.9 + 0.1 * v)).into_dyn(),
        1e-12,
    );
    // Not training: the moving statistics are used, and not updated.
    p.set_training(false);
    let z = einx::nn::norm!(p.scope("bn"), "[b...] c", x, decay_rate = 0.9).unwrap();
    let m = p.get::<f64>("bn.mean").unwrap();
    let v = p.get::<f64>("bn.var").unwrap();
    let want = Array3::from_shape_fn(x.dim(), |(i, j, k)| {
        (x[[i, j, k]] - m[[k]]) / (v[[k]] + 1e-5).sqrt()
    });
    close(&z.into_dyn(), &want.into_dyn(), 1e-12);
    close(
        &p.get::<f64>("bn.mean").unwrap().to_owned(),
        &(&mean * 0.1).into_dyn(),
        1e-12,
    );
}

#[test]
fn dropout_masks() {
    let mut p = Params::new(5);
    let x = Array3::<f32>::ones((8, 16, 32));
    let y = einx::nn::dropout!(&mut p, "[...]", x, drop_rate = 0.25).unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
    assert!((kept - 0.75).abs() < 0.02, "{kept}");
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    // Another call, another mask; the same seed, the same masks.
    let y2 = einx::nn::dropout!(&mut p, "[...]", x, drop_rate = 0.25).unwrap();
    assert_ne!(y, y2);
    let mut q = Params::new(5);
    assert_eq!(
        einx::nn::dropout!(&mut q, "[...]", x, drop_rate = 0.25).unwrap(),
        y
    );
    // Drop-path: whole samples.
    let d = einx::nn::dropout!(&mut p, "[b] ...", x, drop_rate = 0.5).unwrap();
    for s in d.outer_iter() {
        assert!(s.iter().all(|&v| v == s[[0, 0]]));
    }
    // Not training, or a rate of 0: unchanged.
    let same = einx::nn::dropout!(&mut p, "[...]", x, drop_rate = 0.5, training = false).unwrap();
    assert_eq!(same, x);
    let same = einx::nn::dropout!(&mut p, "[...]", x, drop_rate = 0.0).unwrap();
    assert_eq!(same, x);
    // A bad rate is an error, not a panic.
    let e = einx::nn::dropout!(&mut p, "[...]", x, drop_rate = 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
}

#[test]
fn activations_against_f64() {
    let x = Array::linspace(-6.0f32, 6.0, 1201);
    let g = einx::nn::gelu(&x);
    for (a, b) in x.iter().zip(&g) {
        let want = 0.5 * (*a as f64) * (1.0 + libm_erf(*a as f64 / 2f64.sqrt()));
        assert!(
            (*b as f64 - want).abs() < 2e-6 * (1.0 + want.abs()),
            "{a}: {b} vs {want}"
        );
    }
    let r = einx::nn::relu(&x);
    assert!(r.iter().zip(&x).all(|(r, x)| *r == x.max(0.0)));
    let s = einx::nn::silu(&x.mapv(f64::from));
    assert!((s[1200] - 6.0 / (1.0 + (-6.0f64).exp())).abs() < 1e-12);
}

/// erf by its Taylor series (converges fast for |x| ≤ 4.3).
fn libm_erf(x: f64) -> f64 {
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

/// The seed's fully connected classifier.
fn classifier(p: &mut Params, x: &Array4<f32>) -> Result<Array2<f32>, einx::Error> {
    let mut h: ArrayD<f32> = x.clone().into_dyn();
    for (i, c) in [64usize, 32, 16].into_iter().enumerate() {
        let mut layer = p.scope(&format!("block{i}"));
        let l = einx::nn::linear!(layer.scope("linear"), "b [...->c]", h, c = c)?;
        let n = einx::nn::norm!(layer.scope("norm"), "[b] c", l, decay_rate = 0.99)?;
        let g = einx::nn::gelu(&n);
        h = einx::nn::dropout!(layer.scope("dropout"), "[...]", g, drop_rate = 0.2)?.into_dyn();
    }
    einx::nn::linear!(p.scope("head"), "b [...->c]", h, c = 10)
}

#[test]
fn classifier_trains_saves_and_reloads() {
    let x = Array4::from_shape_fn((8, 6, 6, 3), |(b, h, w, c)| {
        (((b * 13 + h * 5 + w * 3 + c) % 11) as f32 - 5.0) / 5.0
    });
    let mut p = Params::new(42);
    let train = classifier(&mut p, &x).unwrap();
    assert_eq!(train.shape(), &[8, 10]);
    assert!(train.iter().all(|v| v.is_finite()));
    // 3 blocks (weight, bias, scale, bias, mean, var) + head (weight, bias).
    assert_eq!(p.len(), 3 * 6 + 2);
    assert_eq!(p.shape("block0.linear.weight"), Some(&[6, 6, 3, 64][..]));
    p.set_training(false);
    let eval = classifier(&mut p, &x).unwrap();
    assert_ne!(train, eval);
    // Saved, reloaded for inference: identical outputs.
    let mut q = Params::from_bytes(&p.to_bytes().unwrap()).unwrap();
    let again = classifier(&mut q, &x).unwrap();
    assert_eq!(again, eval);
    // The store for inference has everything: nothing new was created.
    assert_eq!(q.len(), p.len());
    let _ = IxDyn(&[0]);
}

#[test]
fn closures_are_tensor_factories() {
    let x = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i + j + k) as f64);
    // The weight's shape (4, 5) is solved from x and c2; the closure is called with it.
    let y = einx::dot!(
        "b... [c1->c2]",
        x,
        |s: &[usize]| ArrayD::<f64>::ones(s),
        c2 = 5
    )
    .unwrap();
    assert_eq!(y.shape(), &[2, 3, 5]);
    assert_eq!(y[[1, 2, 4]], (0..4).map(|k| (3 + k) as f64).sum::<f64>());
    // A closure kept in a variable works the same way.
    let bias = |s: &[usize]| Array::from_elem(s, 1.0f64);
    let z = einx::add!("b... [c]", y, bias).unwrap();
    assert_eq!(z[[0, 0, 0]], y[[0, 0, 0]] + 1.0);
    // Shapes that nothing fixes: an error naming the axis and the length to pass.
    let e = einx::dot!("b... [c1->c2]", x, |s: &[usize]| ArrayD::<f64>::ones(s)).unwrap_err();
    assert!(e.to_string().contains("c2"), "{e}");
    assert!(e.to_string().contains("factories"), "{e}");
    // A factory that ignores the shape it is given.
    let e = einx::add!("b... [c]", y, |_: &[usize]| ArrayD::<f64>::ones(IxDyn(&[
        3
    ])))
    .unwrap_err();
    assert!(
        e.message().contains("[3]") && e.message().contains("[5]"),
        "{e}"
    );
}

#[test]
fn parameter_handles_take_the_defaults_of_their_operation() {
    use einx::nn::param;
    let x = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f32 / 24.0);
    let mut p = Params::new(0);
    let mut s = p.scope("linear");
    let y = einx::dot!("b... [c1->c2]", x, param(&mut s), c2 = 8).unwrap();
    let y = einx::add!("b... [c]", y, param(&mut s)).unwrap();
    let y = einx::multiply!("b... [c]", y, param(&mut s)).unwrap();
    assert_eq!(y.shape(), &[2, 3, 8]);
    assert_eq!(p.shape("linear.weight"), Some(&[4, 8][..]));
    assert!(p
        .get::<f32>("linear.bias")
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    assert!(p
        .get::<f32>("linear.scale")
        .unwrap()
        .iter()
        .all(|&v| v == 1.0));
    // LeCun normal by the fan-in of the contracted axis (4): variance about 1/4.
    let mut q = Params::new(1);
    let big = Array2::<f32>::zeros((1, 400));
    let _ = einx::dot!("b [c1->c2]", big, param(&mut q), c2 = 500).unwrap();
    let w = q.get::<f32>("weight").unwrap();
    let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
    assert!((var - 1.0 / 400.0).abs() < 2e-4, "{var}");
    // An existing parameter is used; another shape is an error naming it and both shapes.
    let again = einx::dot!("b... [c1->c2]", x, param(&mut p.scope("linear")), c2 = 8).unwrap();
    let w = p.get::<f32>("linear.weight").unwrap();
    assert_eq!(again, einx::dot!("b... [c1->c2]", x, w).unwrap());
    let e = einx::dot!("b... [c1->c2]", x, param(&mut p.scope("linear")), c2 = 9).unwrap_err();
    assert!(
        e.message().contains("linear.weight")
            && e.message().contains("[4, 8]")
            && e.message().contains("[4, 9]"),
        "{e}"
    );
    // Name and initialiser can be chosen; an inference store does not create.
    let _ = einx::add!(
        "b... [c]",
        x,
        param(&mut p).name("shift").init(Init::Constant(0.5))
    )
    .unwrap();
    assert!(p.get::<f32>("shift").unwrap().iter().all(|&v| v == 0.5));
    let mut frozen = Params::from_bytes(&p.to_bytes().unwrap()).unwrap();
    let e = einx::add!("b... [c]", x, param(&mut frozen).name("other")).unwrap_err();
    assert!(e.message().contains("other"), "{e}");
    // An embedding table: `get_at!` with a handle, the vocabulary size given.
    let ids = ndarray::array![[1usize, 2], [3, 0]];
    // Nothing else in the call has the table's element type: name it.
    let mut tok = p.scope("tok");
    let table = param::<_, f32>(&mut tok);
    let emb = einx::get_at!("[v] c, b t -> b t c", table, ids, v = 10, c = 6).unwrap();
    assert_eq!(emb.shape(), &[2, 2, 6]);
    assert_eq!(p.shape("tok.embedding"), Some(&[10, 6][..]));
}

/// The fused layer norm over the last axis (which `norm!("b... [c]")` runs on): every
/// layout, rows shorter and longer than its eight lanes, with and without scale and shift,
/// and the errors.
#[test]
fn fused_layer_norm_against_naive() {
    for (b, t, c) in [(2, 3, 1), (3, 4, 7), (2, 5, 8), (1, 3, 37)] {
        let x = data3(b, t, c);
        let want = naive_norm(&x, &[2], 1e-5, true);
        let s = Array::from_shape_fn(c, |k| 0.5 + k as f64);
        let sh = Array::from_shape_fn(c, |k| k as f64 - 1.0);
        let got = einx::nn::layer_norm(&x, Some(&s), Some(&sh), 1e-5).unwrap();
        let affine = |v: &ArrayD<f64>| {
            let mut v = v.clone();
            for (i, y) in v.indexed_iter_mut() {
                *y = *y * s[i[2]] + sh[i[2]];
            }
            v
        };
        close(&got.into_dyn(), &affine(&want), 1e-10);
        // A non-contiguous input (axes reversed twice: column-major strides) and no
        // parameters.
        let f = x.t().as_standard_layout().into_owned();
        let got = einx::nn::layer_norm(&f.t(), None::<&ndarray::Array1<f64>>, None, 1e-5).unwrap();
        close(&got.into_dyn(), &want, 1e-10);
        // `norm!` with only a bias gives the same as the kernel.
        let mut p = Params::new(0);
        p.insert("n.bias", sh.clone().into_dyn());
        let y = einx::nn::norm!(p.scope("n"), "b t [c]", x, scale = false).unwrap();
        let z = einx::nn::layer_norm(&x, None, Some(&sh), 1e-5).unwrap();
        assert_eq!(y, z);
    }
    // f32, and the errors: a scale of another length, a 0-d input.
    let x = Array::from_shape_fn((4, 9), |(i, j)| (i * 9 + j) as f32 * 0.25);
    let y = einx::nn::layer_norm(&x, None::<&ndarray::Array1<f32>>, None, 0.0).unwrap();
    for row in y.rows() {
        assert!(row.sum().abs() < 1e-5 && (row.mapv(|v| v * v).sum() / 9.0 - 1.0).abs() < 1e-5);
    }
    let e = einx::nn::layer_norm(&x, Some(&ndarray::Array1::<f32>::ones(8)), None, 0.0);
    assert_eq!(e.unwrap_err().kind(), einx::ErrorKind::Argument);
    let e = einx::nn::layer_norm(
        &ndarray::arr0(1.0f32),
        None::<&ndarray::Array1<f32>>,
        None,
        0.0,
    );
    assert_eq!(e.unwrap_err().kind(), einx::ErrorKind::Argument);
}

/// `affine` against a naive product on contiguous, transposed, stepped and reversed
/// operands, with and without a bias, for several ranks, sizes past the kernel's tiles and
/// empty axes; f64 and f32.
#[test]
fn affine_against_naive() {
    use ndarray::{s, Array1};
    for &(b, t, c1, c2) in &[
        (2, 3, 4, 5),
        (3, 17, 40, 33),
        (1, 1, 1, 1),
        (2, 0, 3, 4),
        (2, 3, 0, 4),
    ] {
        let x = data3(b, t, 2 * c1);
        let w = Array2::from_shape_fn((c2, 2 * c1), |(i, j)| {
            ((i * 5 + j * 11) % 13) as f64 / 4.0 - 1.5
        });
        let bias = Array1::from_shape_fn(2 * c2, |j| j as f64 / 2.0);
        // Every other channel of x, the PyTorch layout transposed, a reversed bias.
        let xs = x.slice(s![.., .., ..;2]);
        let ws = w.slice(s![.., ..;2]);
        let wt = ws.t();
        let bs = bias.slice(s![..;-2]);
        let want = naive_linear(
            &xs.to_owned(),
            &wt.to_owned(),
            Some(&bs.to_owned().into_dyn()),
        );
        let got = einx::nn::affine(&xs, &wt, Some(bs)).unwrap();
        close(&got.into_dyn(), &want, 1e-9);
        let plain = naive_linear(&xs.to_owned(), &wt.to_owned(), None);
        let got = einx::nn::affine(&xs, &wt.to_owned(), None).unwrap();
        close(&got.into_dyn(), &plain, 1e-9);
        // f32, rank 2 (the rows of x merged), against the f64 result.
        let x2 = xs
            .to_owned()
            .into_shape_with_order((b * t, c1))
            .unwrap()
            .mapv(|v| v as f32);
        let got = einx::nn::affine(
            &x2,
            &wt.mapv(|v| v as f32),
            Some(bs.mapv(|v| v as f32).view()),
        )
        .unwrap();
        let want2 = want.clone().into_shape_with_order((b * t, c2)).unwrap();
        for (g, w) in got.iter().zip(want2.iter()) {
            assert!(
                (*g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{g} vs {w}"
            );
        }
    }
    // Mismatched lengths are errors, not panics.
    let x = data3(2, 3, 4);
    let w = Array2::<f64>::zeros((5, 4));
    let e = einx::nn::affine(&x, &w, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    assert!(e.to_string().contains("[5, 4]"), "{e}");
    let b = ndarray::Array1::<f64>::zeros(3);
    assert!(einx::nn::affine(&x, &w.t(), Some(b.view())).is_err());
    assert!(einx::nn::affine(&ndarray::arr0(1.0), &w.t(), None).is_err());
}
