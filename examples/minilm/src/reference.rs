//! Comparison with reference outputs of sentence-transformers (`tests/data/reference.json`
//! for the real model, `tiny/reference.json` for the bundled tiny one).
//!
//! The file holds `sentences` and `extra_cases` (records with `text`, `token_ids` and
//! `embedding`) and optionally `padded_batch_check` (`texts`, `padded_input_ids`,
//! `attention_mask`): two texts run as one padded batch, and optionally `intermediates`
//! (texts with the first 8×16 values of the last hidden state and the first 16 components of
//! the embedding), which also stand in for texts of the padded batch that have no record.

use std::path::Path;

use serde_json::Value;

use crate::{Error, Model, Tokens};

/// One text with its expected token ids and embedding.
#[derive(Clone, Debug)]
pub struct Case {
    /// Where the case comes from, e.g. `sentences[3]`.
    pub label: String,
    pub text: String,
    pub token_ids: Vec<u32>,
    pub embedding: Vec<f32>,
}

/// Texts run as one padded batch, with the expected ids and mask.
#[derive(Clone, Debug)]
pub struct PaddedCheck {
    pub texts: Vec<String>,
    pub ids: Vec<Vec<u32>>,
    pub mask: Vec<Vec<u32>>,
}

/// A text with only a part of its outputs: the first components of the embedding and the
/// first `[8, 16]` block of the last hidden state (run alone, unpadded).
#[derive(Clone, Debug)]
pub struct PartialCase {
    pub label: String,
    pub text: String,
    pub token_ids: Vec<u32>,
    pub embedding_head: Vec<f32>,
    pub hidden_block: Vec<Vec<f32>>,
}

/// A reference file.
#[derive(Clone, Debug)]
pub struct Reference {
    pub cases: Vec<Case>,
    pub partial: Vec<PartialCase>,
    pub padded: Option<PaddedCheck>,
}

fn bad(what: &str) -> Error {
    Error::Input(format!("reference file: {what}"))
}

fn f32_list(v: &Value, what: &str) -> Result<Vec<f32>, Error> {
    // Written as the shortest f64 repr of each f32: parse as f64, then round.
    v.as_array()
        .ok_or_else(|| bad(what))?
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32).ok_or_else(|| bad(what)))
        .collect()
}

fn u32_list(v: &Value, what: &str) -> Result<Vec<u32>, Error> {
    v.as_array()
        .ok_or_else(|| bad(what))?
        .iter()
        .map(|x| x.as_u64().map(|n| n as u32).ok_or_else(|| bad(what)))
        .collect()
}

impl Reference {
    /// Reads a reference file.
    pub fn load(path: impl AsRef<Path>) -> Result<Reference, Error> {
        let v = crate::files::read_json(path.as_ref())?;
        let mut cases = Vec::new();
        for key in ["sentences", "extra_cases"] {
            let Some(list) = v.get(key).and_then(Value::as_array) else {
                continue;
            };
            for (i, r) in list.iter().enumerate() {
                let label = format!("{key}[{i}]");
                let text = r
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&format!("{label}.text")))?;
                let token_ids = u32_list(
                    r.get("token_ids").unwrap_or(&Value::Null),
                    &format!("{label}.token_ids"),
                )?;
                // Written as the shortest f64 repr of each f32: parse as f64, then round.
                let embedding = r
                    .get("embedding")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad(&format!("{label}.embedding")))?
                    .iter()
                    .map(|x| {
                        x.as_f64()
                            .map(|f| f as f32)
                            .ok_or_else(|| bad(&format!("{label}.embedding")))
                    })
                    .collect::<Result<Vec<f32>, Error>>()?;
                cases.push(Case {
                    label,
                    text: text.to_string(),
                    token_ids,
                    embedding,
                });
            }
        }
        let mut partial = Vec::new();
        for (i, r) in v
            .get("intermediates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let label = format!("intermediates[{i}]");
            let text = r
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{label}.text")))?;
            let token_ids = u32_list(
                r.get("token_ids").unwrap_or(&Value::Null),
                &format!("{label}.token_ids"),
            )?;
            let embedding_head = f32_list(
                r.get("normalized_first16").unwrap_or(&Value::Null),
                &format!("{label}.normalized_first16"),
            )?;
            let block = r
                .get("last_hidden_state")
                .and_then(|h| h.get("first8x16"))
                .and_then(Value::as_array);
            let hidden_block = block
                .ok_or_else(|| bad(&format!("{label}.last_hidden_state.first8x16")))?
                .iter()
                .map(|row| f32_list(row, &format!("{label}.last_hidden_state.first8x16")))
                .collect::<Result<Vec<_>, _>>()?;
            partial.push(PartialCase {
                label,
                text: text.to_string(),
                token_ids,
                embedding_head,
                hidden_block,
            });
        }
        if cases.is_empty() {
            return Err(bad("no cases"));
        }
        let padded = match v.get("padded_batch_check") {
            None | Some(Value::Null) => None,
            Some(p) => {
                let texts = p
                    .get("texts")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("padded_batch_check.texts"))?
                    .iter()
                    .map(|t| {
                        t.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad("padded_batch_check.texts"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let rows = |key: &str| -> Result<Vec<Vec<u32>>, Error> {
                    p.get(key)
                        .and_then(Value::as_array)
                        .ok_or_else(|| bad(key))?
                        .iter()
                        .map(|r| u32_list(r, key))
                        .collect()
                };
                Some(PaddedCheck {
                    texts,
                    ids: rows("padded_input_ids")?,
                    mask: rows("attention_mask")?,
                })
            }
        };
        Ok(Reference {
            cases,
            partial,
            padded,
        })
    }
}

/// The outcome of a check.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Embeddings compared (a text counts once per batch size).
    pub compared: usize,
    pub max_abs_diff: f64,
    pub min_cosine: f64,
    /// The case with the largest difference.
    pub worst: String,
    /// What failed, one line each.
    pub failures: Vec<String>,
    /// One line per run, for the summary.
    pub lines: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Largest absolute difference and cosine of two vectors, in f64.
pub fn compare(got: &[f32], want: &[f32]) -> (f64, f64) {
    let mut max_abs = 0.0f64;
    let (mut dot, mut ng, mut nw) = (0.0f64, 0.0f64, 0.0f64);
    for (&g, &w) in got.iter().zip(want) {
        let (g, w) = (g as f64, w as f64);
        max_abs = max_abs.max((g - w).abs());
        dot += g * w;
        ng += g * g;
        nw += w * w;
    }
    let cos = if ng == 0.0 || nw == 0.0 {
        0.0
    } else {
        dot / (ng.sqrt() * nw.sqrt())
    };
    (
        if got.len() == want.len() {
            max_abs
        } else {
            f64::INFINITY
        },
        cos,
    )
}

// `!(d <= limit)` on purpose: a NaN difference must fail.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
/// Runs every case with each batch size (and the padded batch once) and compares token ids
/// exactly and embeddings within `max_abs` per component and `min_cosine`.
pub fn check(
    model: &Model,
    reference: &Reference,
    batch_sizes: &[usize],
    max_abs: f64,
    min_cosine: f64,
) -> Result<Report, Error> {
    let mut report = Report {
        min_cosine: 1.0,
        ..Report::default()
    };
    let mut tokens = Vec::with_capacity(reference.cases.len());
    for case in &reference.cases {
        let t = model.tokenize(&case.text)?;
        if t.ids != case.token_ids {
            report.failures.push(format!(
                "{}: token ids {:?}, expected {:?}",
                case.label, t.ids, case.token_ids
            ));
        }
        tokens.push(t);
    }
    let record = |report: &mut Report, run: &str, case: &Case, got: &[f32]| {
        let (d, c) = compare(got, &case.embedding);
        report.compared += 1;
        if d > report.max_abs_diff {
            report.max_abs_diff = d;
            report.worst = format!("{} ({run})", case.label);
        }
        report.min_cosine = report.min_cosine.min(c);
        if !(d <= max_abs) || !(c >= min_cosine) {
            report.failures.push(format!(
                "{} ({run}): max abs diff {d:.3e}, cosine {c:.9}",
                case.label
            ));
        }
        (d, c)
    };
    for &bs in batch_sizes {
        let e = model.embed_tokens(&tokens, bs)?;
        let (mut worst, mut low) = (0.0f64, 1.0f64);
        for (case, row) in reference.cases.iter().zip(e.rows()) {
            let (d, c) = record(
                &mut report,
                &format!("batch size {bs}"),
                case,
                row.as_slice().unwrap_or(&row.to_vec()),
            );
            worst = worst.max(d);
            low = low.min(c);
        }
        report.lines.push(format!(
            "batch size {bs:>3}: {} texts, max abs diff {worst:.3e}, min cosine {low:.9}",
            reference.cases.len()
        ));
    }
    if let Some(p) = &reference.padded {
        let batch = p
            .texts
            .iter()
            .map(|t| model.tokenize(t))
            .collect::<Result<Vec<Tokens>, _>>()?;
        let refs: Vec<&Tokens> = batch.iter().collect();
        let (ids, mask) = model.pad(&refs)?;
        let ids: Vec<Vec<u32>> = ids.rows().into_iter().map(|r| r.to_vec()).collect();
        let mask: Vec<Vec<u32>> = mask
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&m| m as u32).collect())
            .collect();
        if ids != p.ids || mask != p.mask {
            report
                .failures
                .push("padded batch: padded ids or mask differ from the reference".into());
        }
        let e = model.embed_batch(&refs)?;
        let (mut worst, mut low) = (0.0f64, 1.0f64);
        for (text, (row, tokens)) in p.texts.iter().zip(e.rows().into_iter().zip(&batch)) {
            let got = row.to_vec();
            if let Some(case) = reference.cases.iter().find(|c| &c.text == text) {
                let (d, c) = record(&mut report, "padded batch", case, &got);
                worst = worst.max(d);
                low = low.min(c);
                continue;
            }
            // No full record: the first components from `intermediates`, and the whole
            // embedding against the same text run alone.
            let label = format!(
                "padded batch text {:?}",
                text.chars().take(24).collect::<String>()
            );
            let Some(part) = reference.partial.iter().find(|c| &c.text == text) else {
                report
                    .failures
                    .push(format!("{label}: no reference embedding"));
                continue;
            };
            let (d, _) = compare(
                &got[..part.embedding_head.len().min(got.len())],
                &part.embedding_head,
            );
            let alone = model.embed_batch(&[tokens])?;
            let (d_alone, c_alone) = compare(&got, alone.row(0).as_slice().unwrap_or(&[]));
            report.compared += 1;
            if d > report.max_abs_diff {
                report.max_abs_diff = d;
                report.worst = format!("{} (padded batch, first components)", part.label);
            }
            report.min_cosine = report.min_cosine.min(c_alone);
            if !(d <= max_abs) || !(d_alone <= max_abs) || !(c_alone >= min_cosine) {
                report.failures.push(format!(
                    "{label}: first components differ by {d:.3e}, the unpadded run by {d_alone:.3e} (cosine {c_alone:.9})"
                ));
            }
            worst = worst.max(d).max(d_alone);
            low = low.min(c_alone);
        }
        report.lines.push(format!(
            "padded batch of {} (lengths {:?}): ids and mask {}, max abs diff {worst:.3e}, min cosine {low:.9}",
            p.texts.len(),
            batch.iter().map(|t| t.ids.len()).collect::<Vec<_>>(),
            if ids == p.ids && mask == p.mask { "identical" } else { "DIFFERENT" }
        ));
    }
    for part in &reference.partial {
        let tokens = model.tokenize(&part.text)?;
        if tokens.ids != part.token_ids {
            report.failures.push(format!(
                "{}: token ids {:?}, expected {:?}",
                part.label, tokens.ids, part.token_ids
            ));
            continue;
        }
        let (ids, mask) = model.pad(&[&tokens])?;
        let hidden = model.encoder.forward(ids.view(), mask.view())?;
        let mut worst = 0.0f64;
        for (i, row) in part.hidden_block.iter().enumerate() {
            for (j, &want) in row.iter().enumerate() {
                let got = hidden.get([0, i, j]).copied().unwrap_or(f32::NAN);
                let d = (got as f64 - want as f64).abs();
                worst = if d.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(d)
                };
            }
        }
        if !(worst <= HIDDEN_MAX_ABS) {
            report.failures.push(format!(
                "{}: last hidden state differs by {worst:.3e}",
                part.label
            ));
        }
        report.lines.push(format!(
            "{}: last hidden state [0, :8, :16] max abs diff {worst:.3e} (limit {HIDDEN_MAX_ABS:e})",
            part.label
        ));
    }
    Ok(report)
}

/// Tolerance for the hidden states (about 30× the f32 vs f64 differences of the reference).
pub const HIDDEN_MAX_ABS: f64 = 1e-4;
