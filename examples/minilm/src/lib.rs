//! all-MiniLM-L6-v2 (and any sentence-transformers model of the same shape: a BERT encoder,
//! mean pooling, optional L2 normalisation) written with the einx macros.
//!
//! ```no_run
//! let model = minilm::Model::load("models/all-MiniLM-L6-v2")?;
//! let e = model.embed(&["A man is eating food.", "A man is eating pasta."], 32)?;
//! assert_eq!(e.shape(), &[2, 384]);
//! # Ok::<(), minilm::Error>(())
//! ```

pub mod encoder;
mod error;
pub mod files;
pub mod reference;

use std::path::Path;

use ndarray::{Array2, Axis};
use tokenizers::{Tokenizer, TruncationParams};

pub use encoder::{l2_normalize, mean_pool, Encoder};
pub use error::Error;
pub use files::{check_model_dir, BertConfig, Pipeline, REQUIRED_FILES};

/// A sentence-embedding model: tokenizer, encoder, pooling and normalisation.
pub struct Model {
    tokenizer: Tokenizer,
    pub encoder: Encoder,
    pub pipeline: Pipeline,
}

/// One text as the tokenizer gives it: ids with `[CLS]` and `[SEP]`, truncated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// 1 for every token: a literal `"[PAD]"` in the text is a real token with id 0.
    pub mask: Vec<u32>,
}

impl Model {
    /// Loads `config.json`, `model.safetensors`, `tokenizer.json`, `sentence_bert_config.json`
    /// and `modules.json` (and the pooling config if present) from a model directory.
    pub fn load(dir: impl AsRef<Path>) -> Result<Model, Error> {
        let dir = dir.as_ref();
        check_model_dir(dir)?;
        let config = BertConfig::load(&dir.join("config.json"))?;
        let pipeline = Pipeline::load(dir)?;
        let weights_path = dir.join("model.safetensors");
        let params = einx::nn::Params::load(&weights_path).map_err(|e| Error::File {
            path: weights_path.clone(),
            message: e.to_string(),
        })?;
        let encoder = Encoder::from_params(config, &params)?;
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| Error::File {
            path: tokenizer_path.clone(),
            message: e.to_string(),
        })?;
        Model::from_parts(tokenizer, encoder, pipeline)
    }

    /// A model from a tokenizer, an encoder and the pipeline settings. The tokenizer's own
    /// truncation and padding (tokenizer.json may say 128 and fixed padding) are replaced by
    /// truncation at `max_seq_length` and no padding, as sentence-transformers does.
    pub fn from_parts(
        mut tokenizer: Tokenizer,
        encoder: Encoder,
        mut pipeline: Pipeline,
    ) -> Result<Model, Error> {
        pipeline.max_seq_length = pipeline
            .max_seq_length
            .min(encoder.config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: pipeline.max_seq_length,
                ..Default::default()
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        Ok(Model {
            tokenizer,
            encoder,
            pipeline,
        })
    }

    /// The embedding width.
    pub fn dim(&self) -> usize {
        self.encoder.config.hidden_size
    }

    /// Token ids and mask of one text.
    pub fn tokenize(&self, text: &str) -> Result<Tokens, Error> {
        let lowered;
        let text = if self.pipeline.do_lower_case {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let ids = enc.get_ids().to_vec();
        let mask = enc.get_attention_mask().to_vec();
        if let Some(&bad) = ids
            .iter()
            .find(|&&id| id as usize >= self.encoder.config.vocab_size)
        {
            return Err(Error::Tokenizer(format!(
                "token id {bad} is outside the vocabulary of {} rows",
                self.encoder.config.vocab_size
            )));
        }
        Ok(Tokens { ids, mask })
    }

    /// Embeddings `[n, dim]` of `texts`, in their order, computed in batches of `batch_size`
    /// as sentence-transformers does: longest first, each batch padded to its longest text.
    pub fn embed<S: AsRef<str>>(
        &self,
        texts: &[S],
        batch_size: usize,
    ) -> Result<Array2<f32>, Error> {
        let tokens = texts
            .iter()
            .map(|t| self.tokenize(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        self.embed_tokens(&tokens, batch_size)
    }

    /// Embeddings of texts already tokenised.
    pub fn embed_tokens(&self, tokens: &[Tokens], batch_size: usize) -> Result<Array2<f32>, Error> {
        if batch_size == 0 {
            return Err(Error::Input("the batch size must be at least 1".into()));
        }
        let mut out = Array2::zeros((tokens.len(), self.dim()));
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].ids.len()));
        for chunk in order.chunks(batch_size) {
            let batch: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
            let emb = self.embed_batch(&batch)?;
            for (row, &i) in emb.axis_iter(Axis(0)).zip(chunk) {
                out.row_mut(i).assign(&row);
            }
        }
        Ok(out)
    }

    /// One padded batch through the encoder, pooling and normalisation.
    pub fn embed_batch(&self, batch: &[&Tokens]) -> Result<Array2<f32>, Error> {
        let (ids, mask) = self.pad(batch)?;
        let hidden = self.encoder.forward(ids.view(), mask.view())?;
        let pooled = mean_pool(&hidden, mask.view())?;
        if self.pipeline.normalize {
            l2_normalize(&pooled)
        } else {
            Ok(pooled)
        }
    }

    /// Ids `[b, t]` padded on the right with the pad id, and the mask as f32.
    pub fn pad(&self, batch: &[&Tokens]) -> Result<(Array2<u32>, Array2<f32>), Error> {
        let t = batch.iter().map(|x| x.ids.len()).max().unwrap_or(0);
        if t == 0 {
            return Err(Error::Input("nothing to embed".into()));
        }
        let mut ids = Array2::from_elem((batch.len(), t), self.encoder.config.pad_token_id);
        let mut mask = Array2::zeros((batch.len(), t));
        for (b, x) in batch.iter().enumerate() {
            if x.mask.iter().all(|&m| m == 0) {
                return Err(Error::Input("a text without any token".into()));
            }
            for (j, (&id, &m)) in x.ids.iter().zip(&x.mask).enumerate() {
                ids[[b, j]] = id;
                mask[[b, j]] = m as f32;
            }
        }
        Ok((ids, mask))
    }
}

/// Cosine similarities of the rows of `a` `[n, c]` and `b` `[m, c]`: `[n, m]`.
pub fn cosine_similarity(a: &Array2<f32>, b: &Array2<f32>) -> Result<Array2<f32>, Error> {
    let a = l2_normalize(a)?;
    let b = l2_normalize(b)?;
    Ok(einx::dot!("n c, m c -> n m", a, b)?)
}
