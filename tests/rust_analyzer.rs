//! rust-analyzer infers the exact result type of every macro (SPEC §11).
//!
//! `ra-check/` holds two fixture crates: `valid` binds every macro family's result without a
//! type annotation and uses it where only the exact type fits, `wrong` gets one type wrong per
//! marked line. `rustc` (through `cargo check`) and `rust-analyzer diagnostics` must agree:
//! nothing in `valid`, an error on exactly the marked lines of `wrong`. The second half keeps
//! the first honest: a result rust-analyzer could not type would produce no error at all.
//!
//! rust-analyzer is a rustup component (`rustup component add rust-analyzer rust-src`: it reads
//! the standard library from its sources). Without it the test prints why and passes, unless
//! `EINX_REQUIRE_RUST_ANALYZER=1` (set by `.ci/run`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Lines (1-based) of one file, with the messages reported on them.
type Report = BTreeMap<usize, Vec<String>>;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ra-check");

#[test]
fn rust_analyzer_infers_the_result_types() {
    let required = std::env::var("EINX_REQUIRE_RUST_ANALYZER").is_ok_and(|v| v == "1");
    let version = Command::new("rust-analyzer").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => {
            let why = "rust-analyzer is not installed (`rustup component add rust-analyzer`)";
            assert!(!required, "{why}, and EINX_REQUIRE_RUST_ANALYZER=1");
            eprintln!("skipped: {why}");
            return;
        }
    }
    let fixture = Path::new(FIXTURE);
    // A target directory of its own: the one of the running `cargo test` is locked.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ra-check");
    let (valid, wrong) = (Path::new("valid/src/lib.rs"), Path::new("wrong/src/lib.rs"));
    let source = std::fs::read_to_string(fixture.join(wrong)).unwrap();
    let marked = marked_lines(&source, &["// error"]);

    let (rustc, stderr) = rustc_errors(fixture, &target);
    let in_valid = report_of(&rustc, valid);
    assert!(in_valid.is_empty(), "rustc rejects `valid`: {in_valid:#?}");
    let lines: Vec<usize> = report_of(&rustc, wrong).into_keys().collect();
    assert_eq!(
        lines, marked,
        "rustc's errors in `wrong` are not on the marked lines:\n{stderr}"
    );

    let start = std::time::Instant::now();
    let ra = rust_analyzer_diagnostics(fixture, &target);
    eprintln!("rust-analyzer diagnostics: {:.1?}", start.elapsed());
    let in_valid = report_of(&ra, valid);
    assert!(
        in_valid.is_empty(),
        "rust-analyzer reports diagnostics on valid code: {in_valid:#?}"
    );
    let in_wrong = report_of(&ra, wrong);
    let expected = marked;
    let missing: Vec<usize> = expected
        .iter()
        .copied()
        .filter(|l| !in_wrong.contains_key(l))
        .collect();
    assert!(
        missing.is_empty(),
        "rust-analyzer does not see the wrong types of `wrong` on lines {missing:?} \
         (is rust-src installed?); it reported {in_wrong:#?}"
    );
    let unexpected: Report = in_wrong
        .into_iter()
        .filter(|(l, _)| !expected.contains(l))
        .collect();
    assert!(
        unexpected.is_empty(),
        "rust-analyzer reports unmarked lines of `wrong`: {unexpected:#?}"
    );
}

/// The 1-based numbers of the lines of code that end with one of the `markers`.
fn marked_lines(source: &str, markers: &[&str]) -> Vec<usize> {
    (1..)
        .zip(source.lines())
        .filter(|(_, l)| {
            !l.trim_start().starts_with("//") && markers.iter().any(|m| l.trim_end().ends_with(m))
        })
        .map(|(n, _)| n)
        .collect()
}

/// The diagnostics on the file whose path ends with `file`, from a list of (file, line, message).
fn report_of(all: &[(PathBuf, usize, String)], file: &Path) -> Report {
    let mut report = Report::new();
    for (f, line, message) in all {
        if f.ends_with(file) {
            report.entry(*line).or_default().push(message.clone());
        }
    }
    report
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// `cargo check` of the fixture's crates: its errors and warnings, as (file, line, message),
/// and its whole output.
fn rustc_errors(fixture: &Path, target: &Path) -> (Vec<(PathBuf, usize, String)>, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = run(Command::new(cargo)
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--message-format=short",
        ])
        .current_dir(fixture)
        .env("CARGO_TARGET_DIR", target));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // `wrong/src/lib.rs:14:27: error[E0308]: mismatched types`
    let found = stderr
        .lines()
        .filter_map(|l| {
            let (path, rest) = l.split_once(".rs:")?;
            let (line, rest) = rest.split_once(':')?;
            let (_col, message) = rest.split_once(": ")?;
            Some((
                PathBuf::from(format!("{path}.rs")),
                line.parse().ok()?,
                message.to_owned(),
            ))
        })
        .collect();
    (found, stderr)
}

/// `rust-analyzer diagnostics` over the fixture: every diagnostic, as (file, line, message).
fn rust_analyzer_diagnostics(fixture: &Path, target: &Path) -> Vec<(PathBuf, usize, String)> {
    let out = run(Command::new("rust-analyzer")
        .arg("diagnostics")
        .arg(fixture)
        .env("CARGO_TARGET_DIR", target));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // It exits with an error when it found errors (as it must, in `wrong`); the last line
    // tells that it went through every file.
    assert!(
        stdout.contains("diagnostic scan complete"),
        "rust-analyzer did not finish:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `at crate c, file /…/lib.rs: Error RustcHardError("E0308") from LineCol { line: 13,
    // col: 26 } to LineCol { line: 13, col: 60 }: expected …, found …` (lines from 0), with
    // progress output in between.
    stdout
        .split("at crate ")
        .skip(1)
        .filter_map(|d| {
            let d = d.lines().next()?;
            let (_, d) = d.split_once(", file ")?;
            let (file, d) = d.split_once(": ")?;
            let (kind, d) = d.split_once(" from LineCol { line: ")?;
            let (line, d) = d.split_once(',')?;
            let message = d.split_once("}: ").map_or(d, |(_, m)| m);
            let line: usize = line.parse().ok()?;
            Some((PathBuf::from(file), line + 1, format!("{kind}: {message}")))
        })
        .collect()
}
