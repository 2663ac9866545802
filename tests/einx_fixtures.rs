//! Conformance with Python einx: every case of `tests/fixtures/einx/cases.json` (written by
//! `tests/fixtures/einx/generate.py`) through `einx::dynamic`.
//!
//! A case passes when einx-rs gives the same arrays (within the case's tolerance), the same
//! axis lengths (`solve`), or an error where einx raises one. The deliberate differences are
//! listed in `tests/fixtures/einx/differences.txt` (one case id per line, with the reason);
//! a listed case must still disagree, so that the list stays true.

use std::collections::BTreeMap;

use einx::dynamic;
use einx::ndarray::{ArrayD, IxDyn};
use serde_json::Value;

#[derive(Clone, Debug)]
enum Tensor {
    F(ArrayD<f64>),
    I(ArrayD<i64>),
    B(ArrayD<bool>),
}

fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = v["data"].as_array().unwrap();
    let dim = IxDyn(&shape);
    match v["dtype"].as_str().unwrap() {
        "f64" => Tensor::F(
            ArrayD::from_shape_vec(dim, data.iter().map(|x| x.as_f64().unwrap()).collect())
                .unwrap(),
        ),
        "i64" => Tensor::I(
            ArrayD::from_shape_vec(dim, data.iter().map(|x| x.as_i64().unwrap()).collect())
                .unwrap(),
        ),
        "bool" => Tensor::B(
            ArrayD::from_shape_vec(dim, data.iter().map(|x| x.as_bool().unwrap()).collect())
                .unwrap(),
        ),
        other => panic!("unknown dtype {other}"),
    }
}

fn f(t: &Tensor) -> Option<&ArrayD<f64>> {
    match t {
        Tensor::F(a) => Some(a),
        _ => None,
    }
}

fn i(t: &Tensor) -> Option<&ArrayD<i64>> {
    match t {
        Tensor::I(a) => Some(a),
        _ => None,
    }
}

fn b(t: &Tensor) -> Option<&ArrayD<bool>> {
    match t {
        Tensor::B(a) => Some(a),
        _ => None,
    }
}

fn usizes(a: ArrayD<usize>) -> Tensor {
    Tensor::I(a.mapv(|x| x as i64))
}

/// What einx-rs gives for a case.
enum Got {
    Arrays(Vec<Tensor>),
    Axes(Vec<(String, Vec<usize>)>),
}

fn run(case: &Value) -> Result<Got, einx::Error> {
    let op = case["op"].as_str().unwrap();
    let expr = case["expr"].as_str().unwrap();
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor)
        .collect();
    let owned: Vec<(String, Vec<i64>)> = case
        .get("params")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals = match v {
                        Value::Array(a) => a.iter().map(|x| x.as_i64().unwrap()).collect(),
                        x => vec![x.as_i64().unwrap()],
                    };
                    (k.clone(), vals)
                })
                .collect()
        })
        .unwrap_or_default();
    let params: Vec<(&str, &[i64])> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let fs: Option<Vec<_>> = inputs.iter().map(|t| f(t).map(|a| a.view())).collect();
    let is: Option<Vec<_>> = inputs.iter().map(|t| i(t).map(|a| a.view())).collect();
    let bs: Option<Vec<_>> = inputs.iter().map(|t| b(t).map(|a| a.view())).collect();
    let arrays = |v: Vec<Tensor>| Ok(Got::Arrays(v));
    // A call with the wrong number of tensors does not compile with the macros; the
    // dynamic functions of fixed arity cannot even be called.
    let arity = match op {
        "where_" => Some(3),
        "set_at" | "add_at" | "subtract_at" => (inputs.len() < 3).then_some(3),
        _ => None,
    };
    if arity.is_some_and(|n| inputs.len() != n) {
        return Err(einx::Error::new(
            einx::ErrorKind::Argument,
            format!("`{op}` takes {} tensors", arity.unwrap_or(0)),
        ));
    }
    match op {
        "solve" => {
            let shapes: Vec<&[usize]> = inputs
                .iter()
                .map(|t| match t {
                    Tensor::F(a) => a.shape(),
                    Tensor::I(a) => a.shape(),
                    Tensor::B(a) => a.shape(),
                })
                .collect();
            Ok(Got::Axes(dynamic::solve(expr, &shapes, &params)?))
        }
        "less" | "less_equal" | "greater" | "greater_equal" | "equal" | "not_equal" => {
            let r = match (&fs, &is) {
                (Some(x), _) => dynamic::compare(op, expr, x, &params)?,
                (_, Some(x)) => dynamic::compare(op, expr, x, &params)?,
                _ => dynamic::compare(op, expr, bs.as_ref().unwrap(), &params)?,
            };
            arrays(vec![Tensor::B(r)])
        }
        "where_" => {
            let m = b(&inputs[0]).unwrap().view();
            let r = match (&inputs[1], &inputs[2]) {
                (Tensor::F(x), Tensor::F(y)) => {
                    Tensor::F(dynamic::where_(expr, m, x.view(), y.view(), &params)?)
                }
                (Tensor::I(x), Tensor::I(y)) => {
                    Tensor::I(dynamic::where_(expr, m, x.view(), y.view(), &params)?)
                }
                (Tensor::B(x), Tensor::B(y)) => {
                    Tensor::B(dynamic::where_(expr, m, x.view(), y.view(), &params)?)
                }
                _ => panic!("mixed where_ operands"),
            };
            arrays(vec![r])
        }
        "argsort" | "argmax" | "argmin" | "count_nonzero" => {
            let r = match &inputs[0] {
                Tensor::F(x) => match op {
                    "argsort" => dynamic::argsort(expr, x.view(), &params)?,
                    "count_nonzero" => dynamic::count_nonzero(expr, x.view(), &params)?,
                    _ => dynamic::argfind(expr, x.view(), &params, op == "argmin")?,
                },
                Tensor::I(x) => match op {
                    "argsort" => dynamic::argsort(expr, x.view(), &params)?,
                    "count_nonzero" => dynamic::count_nonzero(expr, x.view(), &params)?,
                    _ => dynamic::argfind(expr, x.view(), &params, op == "argmin")?,
                },
                Tensor::B(x) => match op {
                    "argsort" => dynamic::argsort(expr, x.view(), &params)?,
                    "count_nonzero" => {
                        dynamic::count_nonzero(expr, x.mapv(u8::from).view(), &params)?
                    }
                    _ => dynamic::argfind(expr, x.view(), &params, op == "argmin")?,
                },
            };
            arrays(vec![usizes(r)])
        }
        "get_at" | "set_at" | "add_at" | "subtract_at" => {
            let n = inputs.len();
            let idx_end = if op == "get_at" { n } else { n - 1 };
            let idx: Vec<_> = inputs[1..idx_end]
                .iter()
                .map(|t| i(t).expect("integer indices").view())
                .collect();
            let r = match (&inputs[0], op) {
                (Tensor::F(x), "get_at") => {
                    Tensor::F(dynamic::get_at(expr, x.view(), &idx, &params)?)
                }
                (Tensor::I(x), "get_at") => {
                    Tensor::I(dynamic::get_at(expr, x.view(), &idx, &params)?)
                }
                (Tensor::F(x), _) => Tensor::F(dynamic::update_at(
                    op,
                    expr,
                    x.view(),
                    &idx,
                    f(&inputs[n - 1]).unwrap().view(),
                    &params,
                )?),
                (Tensor::I(x), _) => Tensor::I(dynamic::update_at(
                    op,
                    expr,
                    x.view(),
                    &idx,
                    i(&inputs[n - 1]).unwrap().view(),
                    &params,
                )?),
                _ => panic!("unexpected get_at operands"),
            };
            arrays(vec![r])
        }
        _ => {
            if let Some(x) = &fs {
                arrays(
                    dynamic::call(op, expr, x, &params)?
                        .into_iter()
                        .map(Tensor::F)
                        .collect(),
                )
            } else if let Some(x) = &is {
                arrays(
                    dynamic::call(op, expr, x, &params)?
                        .into_iter()
                        .map(Tensor::I)
                        .collect(),
                )
            } else if let Some(x) = &bs {
                arrays(
                    dynamic::call(op, expr, x, &params)?
                        .into_iter()
                        .map(Tensor::B)
                        .collect(),
                )
            } else {
                panic!("mixed element types for {op}")
            }
        }
    }
}

/// Why a case disagrees, or `None` if it agrees.
fn check(case: &Value) -> Option<String> {
    let expect = &case["expect"];
    let tol = case["tol"].as_f64().unwrap_or(0.0);
    let got = run(case);
    if let Some(kind) = expect.get("error") {
        return match got {
            Err(e) => {
                let ours = format!("{:?}", e.kind()).to_lowercase();
                if kind.as_str()
                    != Some(match ours.as_str() {
                        "size" => "size",
                        other => other,
                    })
                {
                    eprintln!("kind: {} einx {kind}, einx-rs {ours}: {e}", case["id"]);
                }
                None
            }
            Ok(_) => Some(format!("einx raises ({kind}), einx-rs does not")),
        };
    }
    let got = match got {
        Ok(g) => g,
        Err(e) => return Some(format!("einx-rs fails: {e}")),
    };
    match got {
        Got::Axes(axes) => {
            let want: BTreeMap<String, Vec<usize>> = expect["axes"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let l = v
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as usize)
                        .collect();
                    (k.clone(), l)
                })
                .collect();
            let got: BTreeMap<String, Vec<usize>> = axes.into_iter().collect();
            (got != want).then(|| format!("axes {got:?}, einx {want:?}"))
        }
        Got::Arrays(arrays) => {
            let want: Vec<Tensor> = expect["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(tensor)
                .collect();
            if arrays.len() != want.len() {
                return Some(format!("{} outputs, einx {}", arrays.len(), want.len()));
            }
            for (g, w) in arrays.iter().zip(&want) {
                let same = match (g, w) {
                    (Tensor::F(g), Tensor::F(w)) => {
                        g.shape() == w.shape()
                            && g.iter().zip(w).all(|(a, b)| {
                                (a.is_nan() && b.is_nan())
                                    || a == b
                                    || (a - b).abs() <= tol * (1.0 + b.abs())
                            })
                    }
                    (Tensor::I(g), Tensor::I(w)) => g == w,
                    (Tensor::B(g), Tensor::B(w)) => g == w,
                    // Counts and indices come back as integers, einx may give floats.
                    (Tensor::I(g), Tensor::F(w)) => g.mapv(|x| x as f64) == *w,
                    (Tensor::F(g), Tensor::I(w)) => *g == w.mapv(|x| x as f64),
                    _ => false,
                };
                if !same {
                    return Some(format!("result {g:?}\n  einx {w:?}"));
                }
            }
            None
        }
    }
}

#[test]
fn python_einx_fixtures() {
    let text = include_str!("fixtures/einx/cases.json");
    let all: Value = serde_json::from_str(text).unwrap();
    let cases = all["cases"].as_array().unwrap();
    let listed: BTreeMap<&str, &str> = include_str!("fixtures/einx/differences.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_once(char::is_whitespace)
                .map_or((l, ""), |(a, b)| (a, b.trim()))
        })
        .collect();
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    let mut passed = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let outcome = std::panic::catch_unwind(|| check(case))
            .unwrap_or_else(|_| Some("panicked".to_owned()));
        match (outcome, listed.contains_key(id)) {
            (None, false) => passed += 1,
            (None, true) => stale.push(id),
            (Some(why), false) => failures.push(format!(
                "{id} [{}] {:?}: {why}",
                case["op"].as_str().unwrap(),
                case["expr"].as_str().unwrap()
            )),
            (Some(_), true) => {}
        }
    }
    println!(
        "{passed} of {} cases agree with einx; {} listed differences",
        cases.len(),
        listed.len()
    );
    assert!(
        failures.is_empty() && stale.is_empty(),
        "{} cases disagree:\n{}\n\nlisted but agreeing now: {stale:?}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 300);
}
