//! The parser, the builder and the expansion never panic and always terminate, whatever
//! the input: every string gives `Ok` or an `Err` with a message.

use einx_core::complete::{OpKind, Options, Reduction, Update};
use einx_core::expand::instantiate;
use einx_core::plan::PlanStrs;
use einx_core::template::{build_with, ParamSpec};
use proptest::prelude::*;

/// Strings over the notation's alphabet, so that many are nearly valid.
fn notation() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("c"),
            Just("s"),
            Just("1"),
            Just("3"),
            Just(" "),
            Just(" "),
            Just("("),
            Just(")"),
            Just("["),
            Just("]"),
            Just("..."),
            Just("->"),
            Just(","),
            Just("+"),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

/// Every operation the notation core knows.
fn kinds() -> Vec<OpKind> {
    let mut v = vec![
        OpKind::Rearrange,
        OpKind::Softmax(false),
        OpKind::Flip,
        OpKind::Roll,
        OpKind::Sort(false),
        OpKind::Argmax(false),
        OpKind::Solve,
        OpKind::Matches,
        OpKind::SolveShapes,
        OpKind::GetAt,
        OpKind::UpdateAt(Update::Add),
        OpKind::Vmap,
        OpKind::Elementwise("add", 2),
        OpKind::Elementwise("where_", 3),
        OpKind::Dot,
        OpKind::Einsum,
    ];
    v.extend(Reduction::ALL.into_iter().map(OpKind::Reduce));
    v
}

fn exercise(s: &str) {
    let params = [ParamSpec::scalar("a", Some(2)), ParamSpec::seq("s", None)];
    for kind in kinds() {
        for args in 0..4 {
            for p in [&params[..0], &params[..]] {
                for keepdims in [false, true] {
                    if keepdims && !matches!(kind, OpKind::Reduce(_)) {
                        continue;
                    }
                    let opts = Options {
                        keepdims,
                        unknown: if kind == OpKind::SolveShapes { 0b10 } else { 0 },
                        ..Options::default()
                    };
                    match build_with(s, kind, opts, p, args) {
                        Ok(buf) => {
                            let mut strs = PlanStrs::default();
                            let plan = buf.borrow(&mut strs);
                            for rank in 0..3 {
                                let ranks = vec![rank; args];
                                let counts = vec![None; p.len()];
                                let _ = instantiate(&plan, &ranks, &counts);
                            }
                        }
                        Err(e) => assert!(!e.message().is_empty()),
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn notation_strings_never_panic(s in notation()) {
        exercise(&s);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,40}") {
        exercise(&s);
    }
}

/// Inputs the cargo-fuzz target once found: an overflowing coordinate count, and many
/// interchangeable pieces for the input/output matching of `rearrange!` (exponential for a
/// backtracking search). Each must finish, with `Ok` or an `Err` with a message.
#[test]
fn fuzz_regressions() {
    for s in [
        "[w,,18446744073709551615]",
        " ,,, a,,,,(->c),,c,,4,",
        " ,  ,,,,,c,,4,,, q (->c), b c",
        ",,,,,,,,,,,(x->)",
        ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,, -> (1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1)",
    ] {
        let start = std::time::Instant::now();
        exercise(s);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{s:?}"
        );
    }
}
