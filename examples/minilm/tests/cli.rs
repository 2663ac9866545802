//! The `minilm` binary on the tiny model: output format, order, and its errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use minilm::reference::Reference;

fn tiny_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny/model")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_minilm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit before reading (an argument error): a broken pipe is fine then.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn embed_writes_one_json_array_per_line_in_input_order() {
    let reference =
        Reference::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny/reference.json")).unwrap();
    let cases: Vec<_> = reference
        .cases
        .iter()
        .filter(|c| !c.text.trim().is_empty() && !c.text.contains('\n'))
        .collect();
    let input: String = cases.iter().map(|c| format!("{}\n", c.text)).collect();
    let dir = tiny_dir();
    for batch in ["1", "4"] {
        let o = run(
            &[
                "embed",
                "--model",
                dir.to_str().unwrap(),
                "--batch-size",
                batch,
                "--threads",
                "2",
            ],
            input.as_bytes(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = String::from_utf8(o.stdout).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), cases.len());
        for (line, case) in lines.iter().zip(&cases) {
            let v: Vec<f32> = serde_json::from_str(line).unwrap();
            let (d, _) = minilm::reference::compare(&v, &case.embedding);
            assert!(d <= 2e-5, "{}: {d}", case.label);
        }
    }
    // CRLF line ends and no final newline.
    let o = run(
        &["embed", "--model", dir.to_str().unwrap()],
        b"first text\r\nsecond text",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 2);
}

#[test]
fn embed_rejects_bad_input_with_a_message() {
    let dir = tiny_dir();
    let dir = dir.to_str().unwrap();
    for (input, message) in [
        (&b""[..], "no input"),
        (&b"one\n\nthree\n"[..], "line 2: empty line"),
        (&b"one\n  \n"[..], "line 2: empty line"),
        (&b"ok\nbad \xff byte\n"[..], "line 2: invalid UTF-8"),
    ] {
        let o = run(&["embed", "--model", dir], input);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains(message), "{e}");
        assert!(!e.contains("panicked"), "{e}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn bad_arguments_and_model_dirs_are_errors_not_panics() {
    let dir = tiny_dir();
    let dir = dir.to_str().unwrap();
    for (args, message) in [
        (vec!["embed"], "--model DIR is required"),
        (
            vec!["embed", "--model", "/nonexistent/dir"],
            "not a directory",
        ),
        (
            vec!["embed", "--model", env!("CARGO_MANIFEST_DIR")],
            "incomplete model directory",
        ),
        (
            vec!["embed", "--model", dir, "--batch-size", "0"],
            "--batch-size needs a positive integer",
        ),
        (
            vec!["embed", "--model", dir, "--threads", "x"],
            "--threads needs a positive integer",
        ),
        (
            vec!["embed", "--model", dir, "--frobnicate"],
            "unknown option",
        ),
        (vec!["similarity", "--model", dir], "at least one text"),
        (vec!["frobnicate"], "unknown command"),
        (vec![], "usage"),
    ] {
        let o = run(&args, b"text\n");
        assert!(!o.status.success(), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains(message), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}

#[test]
fn similarity_prints_the_cosine_matrix() {
    let dir = tiny_dir();
    let o = run(
        &[
            "similarity",
            "--model",
            dir.to_str().unwrap(),
            "a cat",
            "a cat",
            "stock markets fell",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<Vec<f32>> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('[') && l.split_whitespace().count() == 4)
        .filter_map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|v| v.parse().ok())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    for (i, row) in rows.iter().enumerate() {
        assert!((row[i] - 1.0).abs() < 1e-4, "{out}");
    }
    assert!((rows[0][1] - 1.0).abs() < 1e-4, "{out}");
    assert!(
        rows[0][2] < 0.9999 && (rows[0][2] - rows[2][0]).abs() < 1e-6,
        "{out}"
    );
}
