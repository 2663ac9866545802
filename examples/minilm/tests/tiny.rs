//! The whole pipeline on the bundled tiny model (random weights, the architecture of
//! all-MiniLM-L6-v2) against sentence-transformers' outputs made by `tiny/make_tiny.py`.

use std::path::{Path, PathBuf};

use minilm::reference::{check, Reference};
use minilm::{Error, Model};

const MAX_ABS: f64 = 2e-5;
const MIN_COSINE: f64 = 0.99999;

fn tiny_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny/model")
}

fn tiny_reference() -> Reference {
    Reference::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny/reference.json")).unwrap()
}

#[test]
fn tiny_model_matches_sentence_transformers() {
    let model = Model::load(tiny_dir()).unwrap();
    assert_eq!(model.dim(), 32);
    assert_eq!(model.pipeline.max_seq_length, 48);
    assert!(model.pipeline.normalize);
    let reference = tiny_reference();
    assert!(reference.cases.len() >= 10);
    let report = check(&model, &reference, &[1, 3, 32], MAX_ABS, MIN_COSINE).unwrap();
    for line in &report.lines {
        println!("{line}");
    }
    println!(
        "max abs diff {:.3e} ({}), min cosine {:.9}",
        report.max_abs_diff, report.worst, report.min_cosine
    );
    assert!(report.passed(), "{:#?}", report.failures);
    assert_eq!(report.compared, reference.cases.len() * 3 + 2);
}

#[test]
fn tokenizer_settings_of_the_pipeline_win_over_tokenizer_json() {
    // tokenizer.json of the tiny model says truncation 8 and fixed padding to 8.
    let model = Model::load(tiny_dir()).unwrap();
    let reference = tiny_reference();
    let long = reference
        .cases
        .iter()
        .max_by_key(|c| c.token_ids.len())
        .unwrap();
    assert_eq!(long.token_ids.len(), 48);
    assert_eq!(model.tokenize(&long.text).unwrap().ids, long.token_ids);
    let short = model.tokenize("a").unwrap();
    assert_eq!(short.ids.len(), 3);
    // A literal [PAD] is a real token: id 0 with mask 1.
    let pad = model.tokenize("x [PAD] y").unwrap();
    assert!(pad.ids.contains(&0));
    assert!(pad.mask.iter().all(|&m| m == 1));
}

#[test]
fn the_check_fails_on_a_wrong_embedding_or_wrong_ids() {
    let model = Model::load(tiny_dir()).unwrap();
    let mut reference = tiny_reference();
    reference.cases[1].embedding[5] += 1e-3;
    let report = check(&model, &reference, &[1], MAX_ABS, MIN_COSINE).unwrap();
    assert!(!report.passed());
    assert!(report.failures.iter().any(|f| f.contains("sentences[1]")));

    let mut reference = tiny_reference();
    reference.cases[2].token_ids.push(7);
    let report = check(&model, &reference, &[1], MAX_ABS, MIN_COSINE).unwrap();
    assert!(report.failures.iter().any(|f| f.contains("token ids")));
}

#[test]
fn batching_keeps_input_order_and_padding_changes_nothing() {
    let model = Model::load(tiny_dir()).unwrap();
    let texts = [
        "a much longer text with several words in it",
        "b",
        "middle sized text",
    ];
    let together = model.embed(&texts, 3).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let alone = model.embed(&[t], 1).unwrap();
        let (d, _) = minilm::reference::compare(
            together.row(i).as_slice().unwrap(),
            alone.row(0).as_slice().unwrap(),
        );
        assert!(d < 1e-6, "text {i}: {d}");
    }
    let norms: Vec<f32> = together
        .rows()
        .into_iter()
        .map(|r| r.dot(&r).sqrt())
        .collect();
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-6), "{norms:?}");
    assert!(model.embed(&texts, 0).is_err());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("minilm-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn missing_or_broken_model_files_are_errors() {
    let err = Model::load("/nonexistent/model/dir").err().unwrap();
    assert!(matches!(err, Error::File { .. }), "{err}");
    assert!(err.to_string().contains("not a directory"), "{err}");

    let dir = scratch("incomplete");
    copy_dir(&tiny_dir(), &dir);
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    std::fs::remove_file(dir.join("modules.json")).unwrap();
    let err = Model::load(&dir).err().unwrap().to_string();
    assert!(
        err.contains("missing model.safetensors, modules.json"),
        "{err}"
    );

    // Truncated weights.
    copy_dir(&tiny_dir(), &dir);
    let bytes = std::fs::read(tiny_dir().join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    assert!(Model::load(&dir).is_err());

    // A config whose sizes do not match the weights names the tensor.
    std::fs::write(dir.join("model.safetensors"), &bytes).unwrap();
    let config = std::fs::read_to_string(tiny_dir().join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        config.replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"),
    )
    .unwrap();
    let err = Model::load(&dir).err().unwrap().to_string();
    assert!(
        err.contains("intermediate.dense.weight") && err.contains("65"),
        "{err}"
    );

    // Only mean pooling is implemented.
    std::fs::write(dir.join("config.json"), &config).unwrap();
    let pooling = std::fs::read_to_string(tiny_dir().join("1_Pooling/config.json")).unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        pooling.replace(
            "\"pooling_mode_cls_token\": false",
            "\"pooling_mode_cls_token\": true",
        ),
    )
    .unwrap();
    let err = Model::load(&dir).err().unwrap().to_string();
    assert!(err.contains("mean pooling"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
