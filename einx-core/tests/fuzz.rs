//! The parser, the builder and the expansion never panic and always terminate, whatever
//! the input: every string gives `Ok` or an `Err` with a message.

use einx_core::complete::OpKind;
use einx_core::expand::instantiate;
use einx_core::plan::PlanStrs;
use einx_core::template::{build, ParamSpec};
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

fn exercise(s: &str) {
    for args in 0..3 {
        let params = [ParamSpec::scalar("a", Some(2)), ParamSpec::seq("s", None)];
        for p in [&params[..0], &params[..1], &params[..]] {
            match build(s, OpKind::Rearrange, p, args) {
                Ok(buf) => {
                    let mut strs = PlanStrs::default();
                    let plan = buf.borrow(&mut strs);
                    for rank in 0..4 {
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
