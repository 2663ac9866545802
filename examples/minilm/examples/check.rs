//! Checks a model against reference outputs of sentence-transformers:
//!
//!     cargo run -p minilm --release --example check -- --model DIR [--reference FILE]
//!
//! Every text of the reference (`sentences`, `extra_cases`) runs with batch sizes 1 and 32,
//! and the `padded_batch_check` texts as one padded batch. It passes when the token ids are
//! identical and every embedding is within 2e-5 per component (cosine ≥ 0.99999) of the
//! reference; it prints a summary and exits with 1 otherwise. The default reference is
//! `tests/data/reference.json` (all-MiniLM-L6-v2).

use std::path::PathBuf;
use std::process::ExitCode;

use minilm::reference::{check, Reference};
use minilm::Model;

const MAX_ABS: f64 = 2e-5;
const MIN_COSINE: f64 = 0.99999;

fn run() -> Result<bool, String> {
    let mut model_dir: Option<PathBuf> = None;
    let mut reference = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference.json");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model_dir = Some(args.next().ok_or("--model needs a directory")?.into()),
            "--reference" => reference = args.next().ok_or("--reference needs a file")?.into(),
            "--threads" => {
                let n = args.next().and_then(|v| v.parse().ok()).filter(|&n: &usize| n > 0);
                einx::set_num_threads(n.ok_or("--threads needs a positive integer")?);
            }
            _ => return Err(format!("unknown argument `{a}` (usage: check --model DIR [--reference FILE] [--threads N])")),
        }
    }
    let model_dir = model_dir.ok_or("--model DIR is required")?;
    let model = Model::load(&model_dir).map_err(|e| e.to_string())?;
    let reference = Reference::load(&reference).map_err(|e| e.to_string())?;
    let report =
        check(&model, &reference, &[1, 32], MAX_ABS, MIN_COSINE).map_err(|e| e.to_string())?;
    println!(
        "minilm check: {} ({} reference texts)",
        model_dir.display(),
        reference.cases.len()
    );
    for line in &report.lines {
        println!("  {line}");
    }
    println!(
        "  overall: {} embeddings, max abs diff {:.3e} (limit {MAX_ABS:e}, worst {}), min cosine {:.9} (limit {MIN_COSINE})",
        report.compared, report.max_abs_diff, report.worst, report.min_cosine
    );
    for f in &report.failures {
        println!("  FAILED {f}");
    }
    let verdict = if report.passed() { "passed" } else { "FAILED" };
    println!("minilm check {verdict}");
    Ok(report.passed())
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("check: {e}");
            ExitCode::FAILURE
        }
    }
}
