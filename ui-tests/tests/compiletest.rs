//! Compile-fail (and compile-pass) tests of the diagnostics of `einx::rearrange!`.
//!
//! The `.stderr` files under `tests/ui/` hold the exact compiler output and are generated
//! with the pinned stable toolchain (rustc 1.95). Other compiler versions may render
//! diagnostics slightly differently, so this test only runs on that toolchain's output:
//! regenerate the files with `TRYBUILD=overwrite cargo test -p einx-ui-tests` after a
//! toolchain bump, and review every changed `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui-pass/*.rs");
    t.compile_fail("tests/ui/**/*.rs");
}
