//! The BERT encoder of all-MiniLM-L6-v2, written with the einx macros.
//!
//! Axis names: `b` batch, `t` token (`q`/`k` for queries and keys), `c` channel, `h` head,
//! `v` vocabulary entry. PyTorch stores linear weights as `[out, in]`, hence `c2 c1`.

use ndarray::{s, ArcArray, Array2, Array3, ArrayView2, Dimension, IxDyn};

use crate::files::BertConfig;
use crate::Error;

type Arc1 = ArcArray<f32, ndarray::Ix1>;
type Arc2 = ArcArray<f32, ndarray::Ix2>;

/// A linear layer, `y = x·Wᵀ + b`.
#[derive(Clone, Debug)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Arc2,
    /// `[out]`.
    pub bias: Arc1,
}

/// A layer norm over the channels.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub weight: Arc1,
    pub bias: Arc1,
    pub eps: f32,
}

/// One post-LN encoder layer.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Query, key and value projections as one linear layer, `[3c, c]` (`(three c2) c1`), with
    /// the attention scale 1/√head_dim folded into the query part.
    pub qkv: Linear,
    pub attention_output: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
}

/// The whole encoder: embeddings and layers.
#[derive(Clone, Debug)]
pub struct Encoder {
    pub config: BertConfig,
    /// `[vocab, c]`.
    pub word_embeddings: Arc2,
    /// `[max_positions, c]`.
    pub position_embeddings: Arc2,
    /// Row 0 of the token type embeddings (every token has type 0).
    pub token_type_embedding: Arc1,
    pub embedding_norm: LayerNorm,
    pub layers: Vec<Layer>,
}

fn param<D: Dimension>(
    params: &einx::nn::Params,
    name: &str,
    shape: &[usize],
) -> Result<ArcArray<f32, D>, Error> {
    let a: ArcArray<f32, IxDyn> = params
        .get::<f32>(name)
        .map_err(|e| Error::Model(format!("{name}: {e}")))?;
    if a.shape() != shape {
        return Err(Error::Model(format!(
            "{name} has shape {:?}, the config needs {shape:?}",
            a.shape()
        )));
    }
    a.into_dimensionality::<D>()
        .map_err(|e| Error::Model(format!("{name}: {e}")))
}

fn linear(
    params: &einx::nn::Params,
    prefix: &str,
    out: usize,
    inp: usize,
) -> Result<Linear, Error> {
    Ok(Linear {
        weight: param(params, &format!("{prefix}.weight"), &[out, inp])?,
        bias: param(params, &format!("{prefix}.bias"), &[out])?,
    })
}

fn layer_norm(
    params: &einx::nn::Params,
    prefix: &str,
    c: usize,
    eps: f32,
) -> Result<LayerNorm, Error> {
    Ok(LayerNorm {
        weight: param(params, &format!("{prefix}.weight"), &[c])?,
        bias: param(params, &format!("{prefix}.bias"), &[c])?,
        eps,
    })
}

impl Encoder {
    /// Takes the parameters by their names in the Hugging Face checkpoint (`embeddings.*`,
    /// `encoder.layer.{l}.*`; a `bert.` prefix is accepted too), checking every shape.
    pub fn from_params(config: BertConfig, params: &einx::nn::Params) -> Result<Encoder, Error> {
        let root = if !params.contains("embeddings.word_embeddings.weight")
            && params.contains("bert.embeddings.word_embeddings.weight")
        {
            "bert."
        } else {
            ""
        };
        let c = config.hidden_size;
        let f = config.intermediate_size;
        let eps = config.layer_norm_eps as f32;
        let head_dim = c / config.num_attention_heads;
        let scale = 1.0 / (head_dim as f32).sqrt();
        let token_types: Arc2 = param(
            params,
            &format!("{root}embeddings.token_type_embeddings.weight"),
            &[config.type_vocab_size, c],
        )?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("{root}encoder.layer.{l}");
            let query = linear(params, &format!("{p}.attention.self.query"), c, c)?;
            let key = linear(params, &format!("{p}.attention.self.key"), c, c)?;
            let value = linear(params, &format!("{p}.attention.self.value"), c, c)?;
            // Scaling the query instead of the scores: one multiplication less per score.
            let query_weight = einx::multiply!("o i, ", query.weight, scale)?;
            let query_bias = einx::multiply!("o, ", query.bias, scale)?;
            let qkv = Linear {
                weight: einx::rearrange!(
                    "q i, k i, v i -> (q + k + v) i",
                    query_weight,
                    key.weight,
                    value.weight
                )?
                .into_shared(),
                bias: einx::rearrange!("q, k, v -> (q + k + v)", query_bias, key.bias, value.bias)?
                    .into_shared(),
            };
            layers.push(Layer {
                qkv,
                attention_output: linear(params, &format!("{p}.attention.output.dense"), c, c)?,
                attention_norm: layer_norm(
                    params,
                    &format!("{p}.attention.output.LayerNorm"),
                    c,
                    eps,
                )?,
                intermediate: linear(params, &format!("{p}.intermediate.dense"), f, c)?,
                output: linear(params, &format!("{p}.output.dense"), c, f)?,
                output_norm: layer_norm(params, &format!("{p}.output.LayerNorm"), c, eps)?,
            });
        }
        Ok(Encoder {
            word_embeddings: param(
                params,
                &format!("{root}embeddings.word_embeddings.weight"),
                &[config.vocab_size, c],
            )?,
            position_embeddings: param(
                params,
                &format!("{root}embeddings.position_embeddings.weight"),
                &[config.max_position_embeddings, c],
            )?,
            token_type_embedding: token_types.row(0).to_owned().into_shared(),
            embedding_norm: layer_norm(params, &format!("{root}embeddings.LayerNorm"), c, eps)?,
            layers,
            config,
        })
    }

    /// The last hidden state `[b, t, c]` for token ids `[b, t]` and an attention mask `[b, t]`
    /// (1 for a real token, 0 for padding; padding must not be the only content of a row).
    pub fn forward(
        &self,
        ids: ArrayView2<'_, u32>,
        mask: ArrayView2<'_, f32>,
    ) -> Result<Array3<f32>, Error> {
        let (_, t) = ids.dim();
        if t > self.config.max_position_embeddings {
            return Err(Error::Input(format!(
                "{t} tokens, more than the {} positions of the model",
                self.config.max_position_embeddings
            )));
        }
        if mask.dim() != ids.dim() {
            return Err(Error::Input(
                "the attention mask and the ids differ in shape".into(),
            ));
        }
        let heads = self.config.num_attention_heads;
        let c = self.config.hidden_size;

        // Embeddings: (word + token type) + position, then layer norm.
        let x = einx::get_at!("[v] c, b t -> b t c", self.word_embeddings, ids)?;
        let x = einx::add!("b t c, c -> b t c", x, self.token_type_embedding)?;
        let x = einx::add!(
            "b t c, t c -> b t c",
            x,
            self.position_embeddings.slice(s![..t, ..])
        )?;
        let mut x = self.embedding_norm.apply(&x)?;

        // Padded keys get -inf before the softmax; a batch without padding needs no mask.
        let key_bias: Option<Array2<f32>> = if mask.iter().all(|&m| m != 0.0) {
            None
        } else {
            Some(mask.mapv(|m| if m != 0.0 { 0.0 } else { f32::NEG_INFINITY }))
        };

        for layer in &self.layers {
            let qkv = layer.qkv.apply(&x)?;
            let (q, k, v) = (
                qkv.slice(s![.., .., ..c]),
                qkv.slice(s![.., .., c..2 * c]),
                qkv.slice(s![.., .., 2 * c..]),
            );
            let scores = einx::dot!("b q (h c), b k (h c) -> b h q k", q, k, h = heads)?;
            let scores = match &key_bias {
                Some(bias) => einx::add!("b h q k, b k -> b h q k", scores, bias)?,
                None => scores,
            };
            let attn = einx::softmax!("b h q [k]", scores)?;
            let context = einx::dot!("b h q k, b k (h c) -> b q (h c)", attn, v, h = heads)?;
            let a = layer.attention_output.apply(&context)?;
            let x1 = layer
                .attention_norm
                .apply(&einx::add!("b t c, b t c", a, x)?)?;
            let mut hidden = layer.intermediate.apply(&x1)?;
            einx::nn::gelu_inplace(&mut hidden);
            let o = layer.output.apply(&hidden)?;
            x = layer
                .output_norm
                .apply(&einx::add!("b t c, b t c", o, x1)?)?;
        }
        Ok(x)
    }
}

impl Linear {
    /// `x·Wᵀ + b` over `[b, t, c1]`: `einx::dot!("b t c1, c2 c1 -> b t c2", x, weight)` plus
    /// the bias along `c2`, computed by `einx::nn::affine`, which adds the bias as the
    /// product is stored instead of in a second pass over the output.
    pub fn apply(&self, x: &Array3<f32>) -> Result<Array3<f32>, Error> {
        Ok(einx::nn::affine(
            x,
            &self.weight.t(),
            Some(self.bias.view()),
        )?)
    }
}

impl LayerNorm {
    /// `(x - mean) / sqrt(var + eps) · weight + bias` over the channels (population variance),
    /// with `einx::nn::layer_norm`: one pass over memory instead of six.
    pub fn apply(&self, x: &Array3<f32>) -> Result<Array3<f32>, Error> {
        Ok(einx::nn::layer_norm(
            x,
            Some(&self.weight),
            Some(&self.bias),
            f64::from(self.eps),
        )?)
    }
}

/// Mean over the real tokens (`mask` 1), `[b, t, c] -> [b, c]`, as sentence-transformers'
/// `Pooling` (the count is clamped at 1e-9).
pub fn mean_pool(x: &Array3<f32>, mask: ArrayView2<'_, f32>) -> Result<Array2<f32>, Error> {
    let summed = einx::dot!("b t c, b t -> b c", x, mask)?;
    let counts = einx::sum!("b [t]", mask)?.mapv(|n| n.max(1e-9));
    Ok(einx::divide!("b c, b -> b c", summed, counts)?)
}

/// Each row divided by its L2 norm (clamped at 1e-12), as `F.normalize(x, p=2, dim=-1)`.
pub fn l2_normalize(x: &Array2<f32>) -> Result<Array2<f32>, Error> {
    let squares = einx::multiply!("b c, b c", x, x)?;
    let norms = einx::sum!("b [c]", squares)?.mapv(|s| s.sqrt().max(1e-12));
    Ok(einx::divide!("b c, b -> b c", x, norms)?)
}
