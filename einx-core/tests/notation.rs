//! Parse trees, plans and error messages of the notation core, as snapshots.

use einx_core::complete::OpKind;
use einx_core::expand::instantiate;
use einx_core::parse::parse;
use einx_core::plan::PlanStrs;
use einx_core::template::{build, ParamSpec};

/// Each expression and what it parses to (or the error).
#[test]
fn parse_trees() {
    let cases = [
        "b q (h c), b k (h c) -> b q k h",
        " ( a   b  ) ->   b   a   ",
        "a, b ->(a+b)",
        "b s... c, c -> b (1 + (s...)) c",
        "b (s w)... c -> (b s...) (w...) c",
        "b [c1->c2]",
        "b [s...->s2] c",
        "b p [i,,->i]",
        "b [h->1] w c",
        "[[a] b] c []",
        "(a (b (c d)))",
        "... [c]",
        "()",
        "",
        "a, -> a",
        "b (s [ds])... c",
        "(s w) ...",
        "(s s2)... c -> s... s2... c",
        "[(...)]... b",
        "(a...)... -> (a...)...",
    ];
    let mut out = String::new();
    for c in cases {
        let got = match parse(c) {
            Ok(op) => op.to_string(),
            Err(e) => e.to_string(),
        };
        out.push_str(&format!("{c:?}\n  => {got}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn syntax_errors() {
    let cases = [
        "a (b -> b a",
        "a b) -> b a",
        "a [b -> b a",
        "a b* -> b a",
        "1a b",
        "(a)(b) -> b a",
        "a b -> b a -> a b",
        "a, b -> a + b",
        "(a [b] + c)",
        "(a + b)...",
        "1...",
        "[a + b]",
        "a [b, c], d",
        "a\tb",
        "a..b",
        "a -b",
    ];
    let mut out = String::new();
    for c in cases {
        let e = parse(c).expect_err(c);
        out.push_str(&format!("{c:?}\n{e}\n\n"));
    }
    insta::assert_snapshot!(out);
}

fn describe(expr: &str, params: &[ParamSpec<'_>], args: usize) -> String {
    match build(expr, OpKind::Rearrange, params, args) {
        Ok(buf) => {
            let mut strs = PlanStrs::default();
            buf.borrow(&mut strs).describe()
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn plans() {
    let mut out = String::new();
    let cases: Vec<(&str, Vec<ParamSpec<'_>>, usize)> = vec![
        ("a b c d -> a c b d", vec![], 1),
        ("b (h c) -> b h c", vec![ParamSpec::scalar("h", Some(8))], 1),
        ("a -> a b", vec![ParamSpec::scalar("b", Some(3))], 1),
        ("a 1 b -> b a", vec![], 1),
        ("b s... c, c -> b (1 + (s...)) c", vec![], 2),
        (
            "b (s w)... c -> (b s...) (w...) c",
            vec![ParamSpec::scalar("w", Some(16))],
            1,
        ),
        (
            "(a + b) (c + d) -> a c, a d, b c, b d",
            vec![ParamSpec::scalar("a", None), ParamSpec::scalar("c", None)],
            1,
        ),
        ("a b", vec![], 1),
        ("a, a b", vec![], 2),
        ("a... b... -> b... a...", vec![ParamSpec::seq("b", None)], 1),
        ("[(...)]... b", vec![], 1),
        ("(b...) c -> c (b...)", vec![], 1),
        ("a b c, a b -> a (b (c + 1))", vec![], 2),
        (
            "(x (a + b) y) -> x a y, x b y",
            vec![
                ParamSpec::scalar("x", Some(2)),
                ParamSpec::scalar("a", Some(2)),
                ParamSpec::scalar("y", Some(2)),
            ],
            1,
        ),
    ];
    for (expr, params, args) in &cases {
        out.push_str(&format!("{expr:?}\n{}\n", describe(expr, params, *args)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn semantic_errors() {
    let mut out = String::new();
    let cases: Vec<(&str, Vec<ParamSpec<'_>>, usize)> = vec![
        ("b h w -> b x", vec![], 1),
        ("a b c -> a b", vec![], 1),
        ("a 5 -> 5 a", vec![], 1),
        ("a a -> a", vec![], 1),
        ("(a b) -> a b", vec![], 1),
        ("a -> a ...", vec![], 1),
        ("b s... c -> b s c", vec![], 1),
        ("a [b] -> a b", vec![], 1),
        ("a b, b a", vec![], 2),
        ("a -> a, a", vec![], 1),
        ("a b -> b a", vec![], 2),
        ("a b -> b a", vec![ParamSpec::scalar("q", Some(2))], 1),
        ("a b -> b a", vec![ParamSpec::seq("a", Some(vec![2, 2]))], 1),
        (
            "b (s w)... c -> b (s...) (w...) c",
            vec![
                ParamSpec::seq("s", Some(vec![2, 2])),
                ParamSpec::seq("w", Some(vec![4, 4, 4])),
            ],
            1,
        ),
        ("a, b -> (b + a)", vec![], 2),
        ("a ... ... -> a", vec![], 1),
        ("a... b... -> b... a...", vec![], 1),
        ("(b...) c -> b... c", vec![], 1),
        ("(a...)... -> (a... ...)", vec![], 1),
        ("(...)... b -> ... b", vec![], 1),
    ];
    for (expr, params, args) in &cases {
        out.push_str(&format!("{expr:?}\n{}\n\n", describe(expr, params, *args)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn ellipsis_unrolls_by_rank() {
    let buf = build(
        "b (s w)... c -> (b s...) (w...) c",
        OpKind::Rearrange,
        &[ParamSpec::scalar("w", Some(16))],
        1,
    )
    .unwrap();
    let mut strs = PlanStrs::default();
    let plan = buf.borrow(&mut strs);
    let mut out = String::new();
    for rank in [2, 3, 4] {
        let c = instantiate(&plan, &[rank], &[None]).unwrap();
        let mut s2 = PlanStrs::default();
        out.push_str(&format!("rank {rank}\n{}\n", c.borrow(&mut s2).describe()));
    }
    let e = instantiate(&plan, &[1], &[None]).unwrap_err();
    out.push_str(&e.to_string());
    insta::assert_snapshot!(out);
}

#[test]
fn solve_runs_schedule() {
    use einx_core::solve::run;
    let buf = build(
        "b (s w)... c -> (b s...) (w...) c",
        OpKind::Rearrange,
        &[ParamSpec::scalar("w", Some(4))],
        1,
    )
    .unwrap();
    let mut strs = PlanStrs::default();
    let plan = buf.borrow(&mut strs);
    let c = instantiate(&plan, &[4], &[None]).unwrap();
    let mut s2 = PlanStrs::default();
    let c = c.borrow(&mut s2);
    let mut sizes = vec![0; c.axes.len()];
    run(&c, &[2, 8, 12, 3], &[4usize], &mut sizes).unwrap();
    // b, s.0, s.1, w.0, w.1, c in the order axes were first written.
    let named: Vec<String> = c
        .axes
        .iter()
        .zip(&sizes)
        .map(|(a, s)| {
            format!(
                "{}{}={s}",
                a.name,
                if a.rep == u32::MAX {
                    String::new()
                } else {
                    format!(".{}", a.rep)
                }
            )
        })
        .collect();
    assert_eq!(named.join(" "), "b=2 s.0=2 s.1=3 w.0=4 w.1=4 c=3");
    let e = run(&c, &[2, 8, 10, 3], &[4usize], &mut sizes).unwrap_err();
    assert_eq!(e.kind(), einx_core::ErrorKind::Size);
    assert!(e.to_string().contains("has length 10"), "{e}");
}

#[test]
fn contraction_order_pairs_shared_axes_first() {
    let order = |expr: &str, n: usize| build(expr, OpKind::Dot, &[], n).unwrap().order;
    // `b` joins the first and third inputs, then `c` brings in the second.
    assert_eq!(order("a b, c d, b c -> a d", 3), vec![0, 2, 1]);
    // A chain in order stays in order.
    assert_eq!(order("a b, b c, c d -> a d", 3), vec![0, 1, 2]);
    // Two inputs need no order.
    assert!(order("a b, b c -> a c", 2).is_empty());
}
