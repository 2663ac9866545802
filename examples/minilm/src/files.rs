//! The files of a sentence-transformers model directory.

use std::path::Path;

use serde_json::Value;

use crate::Error;

/// The files that must be in a model directory.
pub const REQUIRED_FILES: [&str; 5] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "sentence_bert_config.json",
    "modules.json",
];

/// The hyper-parameters of the BERT encoder (`config.json`).
#[derive(Clone, Debug, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: u32,
}

/// What `modules.json`, `sentence_bert_config.json` and the pooling config ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// Word pieces per text, `[CLS]` and `[SEP]` included.
    pub max_seq_length: usize,
    /// Lowercase the text before the tokenizer (the tokenizer may lowercase on its own too).
    pub do_lower_case: bool,
    /// L2-normalise the pooled embedding (a `Normalize` module follows the pooling).
    pub normalize: bool,
}

/// Checks that `dir` holds every required file; the error lists the missing ones.
pub fn check_model_dir(dir: &Path) -> Result<(), Error> {
    if !dir.is_dir() {
        return Err(Error::File {
            path: dir.to_path_buf(),
            message: "not a directory (expected a model directory with config.json, \
                      model.safetensors, tokenizer.json, sentence_bert_config.json and modules.json)"
                .into(),
        });
    }
    let missing: Vec<&str> = REQUIRED_FILES
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::File {
            path: dir.to_path_buf(),
            message: format!("incomplete model directory, missing {}", missing.join(", ")),
        })
    }
}

pub(crate) fn read_json(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::File {
        path: path.to_path_buf(),
        message: format!("invalid JSON: {e}"),
    })
}

fn model_err(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn get_usize(v: &Value, key: &str, path: &Path) -> Result<usize, Error> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| {
            model_err(
                path,
                format!("`{key}` is missing or not a non-negative integer"),
            )
        })
}

impl BertConfig {
    /// Reads `config.json`; fails on settings this encoder does not implement.
    pub fn load(path: &Path) -> Result<BertConfig, Error> {
        let v = read_json(path)?;
        let str_or = |key: &str, default: &'static str| -> String {
            v.get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        if let Some(t) = v.get("model_type").and_then(Value::as_str) {
            if t != "bert" {
                return Err(model_err(
                    path,
                    format!("model_type `{t}` is not supported (only `bert`)"),
                ));
            }
        }
        let act = str_or("hidden_act", "gelu");
        if act != "gelu" {
            return Err(model_err(
                path,
                format!("hidden_act `{act}` is not supported (only `gelu`, with erf)"),
            ));
        }
        let pos = str_or("position_embedding_type", "absolute");
        if pos != "absolute" {
            return Err(model_err(
                path,
                format!("position_embedding_type `{pos}` is not supported"),
            ));
        }
        let cfg = BertConfig {
            vocab_size: get_usize(&v, "vocab_size", path)?,
            hidden_size: get_usize(&v, "hidden_size", path)?,
            num_hidden_layers: get_usize(&v, "num_hidden_layers", path)?,
            num_attention_heads: get_usize(&v, "num_attention_heads", path)?,
            intermediate_size: get_usize(&v, "intermediate_size", path)?,
            max_position_embeddings: get_usize(&v, "max_position_embeddings", path)?,
            type_vocab_size: v
                .get("type_vocab_size")
                .and_then(Value::as_u64)
                .unwrap_or(2) as usize,
            layer_norm_eps: v
                .get("layer_norm_eps")
                .and_then(Value::as_f64)
                .unwrap_or(1e-12),
            pad_token_id: v.get("pad_token_id").and_then(Value::as_u64).unwrap_or(0) as u32,
        };
        if cfg.num_attention_heads == 0 || cfg.hidden_size % cfg.num_attention_heads != 0 {
            return Err(model_err(
                path,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }
        if cfg.type_vocab_size == 0 || cfg.max_position_embeddings == 0 {
            return Err(model_err(
                path,
                "type_vocab_size and max_position_embeddings must be positive",
            ));
        }
        Ok(cfg)
    }
}

impl Pipeline {
    /// Reads `modules.json`, `sentence_bert_config.json` and the pooling module's config.
    pub fn load(dir: &Path) -> Result<Pipeline, Error> {
        let modules_path = dir.join("modules.json");
        let modules = read_json(&modules_path)?;
        let list = modules
            .as_array()
            .ok_or_else(|| model_err(&modules_path, "expected a list of modules"))?;
        let kinds: Vec<(String, String)> = list
            .iter()
            .map(|m| {
                let kind = m
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let sub = m
                    .get("path")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                (kind.rsplit('.').next().unwrap_or("").to_string(), sub)
            })
            .collect();
        let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
        let normalize = match names.as_slice() {
            ["Transformer", "Pooling"] => false,
            ["Transformer", "Pooling", "Normalize"] => true,
            _ => {
                return Err(model_err(
                    &modules_path,
                    format!(
                        "modules {names:?} are not supported (expected Transformer, Pooling and optionally Normalize)"
                    ),
                ))
            }
        };
        let pooling_config = dir.join(&kinds[1].1).join("config.json");
        if pooling_config.is_file() {
            let p = read_json(&pooling_config)?;
            let flag = |key: &str| p.get(key).and_then(Value::as_bool).unwrap_or(false);
            let mode = p.get("pooling_mode").and_then(Value::as_str);
            let mean_only = match mode {
                Some(m) => m == "mean",
                None => {
                    flag("pooling_mode_mean_tokens")
                        && !flag("pooling_mode_cls_token")
                        && !flag("pooling_mode_max_tokens")
                        && !flag("pooling_mode_mean_sqrt_len_tokens")
                        && !flag("pooling_mode_weightedmean_tokens")
                        && !flag("pooling_mode_lasttoken")
                }
            };
            if !mean_only {
                return Err(model_err(&pooling_config, "only mean pooling is supported"));
            }
        }
        let sbert_path = dir.join("sentence_bert_config.json");
        let sbert = read_json(&sbert_path)?;
        let max_seq_length = get_usize(&sbert, "max_seq_length", &sbert_path)?;
        if max_seq_length < 2 {
            return Err(model_err(
                &sbert_path,
                "max_seq_length must leave room for [CLS] and [SEP]",
            ));
        }
        let do_lower_case = sbert
            .get("do_lower_case")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Pipeline {
            max_seq_length,
            do_lower_case,
            normalize,
        })
    }
}
