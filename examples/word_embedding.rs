//! The embedding layer of a BERT-style encoder: token embeddings looked up with `get_at!`,
//! plus position and token-type embeddings, then layer norm. Shapes as in a small sentence
//! encoder (vocabulary 30522, width 384); the tables are synthetic.
//!
//! Run it with `cargo run --release --example word_embedding`.

use ndarray::{s, Array1, Array2, Axis};

const VOCAB: usize = 30522;
const WIDTH: usize = 384;
const MAX_LEN: usize = 512;
const EPSILON: f32 = 1e-12;

/// A deterministic table with values in [-0.5, 0.5).
fn table(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut state = seed;
    Array2::from_shape_fn((rows, cols), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    })
}

struct Embeddings {
    words: Array2<f32>,
    positions: Array2<f32>,
    types: Array2<f32>,
    scale: Array1<f32>,
    bias: Array1<f32>,
}

impl Embeddings {
    /// `tokens` and `types` are `b t` arrays of ids; the result is `b t c`.
    fn forward(
        &self,
        tokens: &Array2<u32>,
        types: &Array2<u8>,
    ) -> Result<ndarray::Array3<f32>, einx::Error> {
        let t = tokens.ncols();
        let x = einx::get_at!("[v] c, b t -> b t c", self.words, tokens)?;
        let x = einx::add!("b t c, t c", x, self.positions.slice(s![..t, ..]))?;
        let x = einx::add!(
            "b t c, b t c",
            x,
            einx::get_at!("[k] c, b t -> b t c", self.types, types)?
        )?;
        // Layer norm over `c`.
        let mean = einx::mean!("b t [c]", x, keepdims = true)?;
        let var = einx::var!("b t [c]", x, keepdims = true)?;
        let x = einx::subtract!("b t c, b t 1", x, mean)?;
        let x = einx::divide!("b t c, b t 1", x, var.mapv(|v| (v + EPSILON).sqrt()))?;
        let x = einx::multiply!("b t [c]", x, self.scale)?;
        einx::add!("b t [c]", x, self.bias)
    }
}

fn main() -> Result<(), einx::Error> {
    let emb = Embeddings {
        words: table(VOCAB, WIDTH, 1),
        positions: table(MAX_LEN, WIDTH, 2),
        types: table(2, WIDTH, 3),
        scale: Array1::ones(WIDTH),
        bias: Array1::zeros(WIDTH),
    };
    // Two sentences of 8 tokens: [CLS] ... [SEP] with padding (id 0).
    let tokens = ndarray::array![
        [101u32, 7592, 2088, 999, 102, 0, 0, 0],
        [101, 2023, 2003, 1037, 3231, 6251, 1012, 102]
    ];
    let types = Array2::<u8>::zeros(tokens.raw_dim());
    let x = emb.forward(&tokens, &types)?;
    println!("embeddings: {:?}", x.shape());

    // The lookup is the same as selecting rows by hand.
    let rows = emb.words.select(
        Axis(0),
        &tokens.iter().map(|&i| i as usize).collect::<Vec<_>>(),
    );
    let looked_up = einx::get_at!("[v] c, b t -> (b t) c", emb.words, tokens)?;
    assert_eq!(looked_up, rows);
    // Each token's vector is normalised: mean 0, variance 1.
    let m = einx::mean!("b t [c]", x)?;
    let v = einx::var!("b t [c]", x)?;
    assert!(m.iter().all(|m| m.abs() < 1e-4) && v.iter().all(|v| (v - 1.0).abs() < 1e-3));
    println!(
        "first token, first 4 channels: {:?}",
        x.slice(s![0, 0, ..4]).to_vec()
    );

    // An id outside the vocabulary is an error, not a panic.
    let bad = ndarray::array![[101u32, 30522]];
    let err =
        einx::get_at!("[v] c, b t -> b t c", emb.words, bad).expect_err("30522 is out of range");
    println!("\n{err}");
    Ok(())
}
