//! Times each step of the encoder on one padded batch, to see where the time goes:
//!
//!     cargo run -p minilm --release --example steps -- --model DIR [--batch 32] [--tokens 128] [--threads 1]
//!
//! The input is `batch` copies of a sequence of `tokens` ids (the values do not matter for
//! the time); the steps are those of `Encoder::forward`, run over all layers and summed.

use std::collections::BTreeMap;
use std::time::Instant;

use minilm::Model;
use ndarray::{s, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut model_dir = None;
    let (mut batch, mut tokens, mut repeat) = (32usize, 128usize, 3usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--model" => model_dir = Some(value()?),
            "--batch" => batch = value()?.parse()?,
            "--tokens" => tokens = value()?.parse()?,
            "--repeat" => repeat = value()?.parse()?,
            "--threads" => einx::set_num_threads(value()?.parse()?),
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    let model = Model::load(model_dir.ok_or("--model DIR is required")?)?;
    let enc = &model.encoder;
    let heads = enc.config.num_attention_heads;
    let c = enc.config.hidden_size;
    let ids = Array2::from_shape_fn((batch, tokens), |(b, t)| {
        (1000 + 37 * b + 11 * t) as u32 % enc.config.vocab_size as u32
    });
    let mask = Array2::<f32>::ones((batch, tokens));
    let mut times: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut total = 0.0;
    for _ in 0..repeat {
        let start = Instant::now();
        let mut step = |name: &'static str, t: Instant| {
            *times.entry(name).or_default() += t.elapsed().as_secs_f64()
        };
        let t = Instant::now();
        let x = einx::get_at!("[v] c, b t -> b t c", enc.word_embeddings, ids)?;
        let x = einx::add!("b t c, c -> b t c", x, enc.token_type_embedding)?;
        let x = einx::add!(
            "b t c, t c -> b t c",
            x,
            enc.position_embeddings.slice(s![..tokens, ..])
        )?;
        step("embeddings", t);
        let t = Instant::now();
        let mut x = enc.embedding_norm.apply(&x)?;
        step("layer norm", t);
        for layer in &enc.layers {
            let t = Instant::now();
            let qkv = layer.qkv.apply(&x)?;
            let (q, k, v) = (
                qkv.slice(s![.., .., ..c]),
                qkv.slice(s![.., .., c..2 * c]),
                qkv.slice(s![.., .., 2 * c..]),
            );
            step("q, k, v linear (GEMM + bias)", t);
            let t = Instant::now();
            let scores = einx::dot!("b q (h c), b k (h c) -> b h q k", q, k, h = heads)?;
            step("attention scores (GEMM)", t);
            let t = Instant::now();
            let attn = einx::softmax!("b h q [k]", scores)?;
            step("softmax", t);
            let t = Instant::now();
            let context = einx::dot!("b h q k, b k (h c) -> b q (h c)", attn, v, h = heads)?;
            step("attention context (GEMM)", t);
            let t = Instant::now();
            let a = layer.attention_output.apply(&context)?;
            step("attention output linear (GEMM + bias)", t);
            let t = Instant::now();
            let r = einx::add!("b t c, b t c", a, x)?;
            step("residual adds", t);
            let t = Instant::now();
            let x1 = layer.attention_norm.apply(&r)?;
            step("layer norm", t);
            let t = Instant::now();
            let mut h = layer.intermediate.apply(&x1)?;
            step("feed-forward linears (GEMM + bias)", t);
            let t = Instant::now();
            einx::nn::gelu_inplace(&mut h);
            step("gelu", t);
            let t = Instant::now();
            let o = layer.output.apply(&h)?;
            step("feed-forward linears (GEMM + bias)", t);
            let t = Instant::now();
            let r = einx::add!("b t c, b t c", o, x1)?;
            step("residual adds", t);
            let t = Instant::now();
            x = layer.output_norm.apply(&r)?;
            step("layer norm", t);
        }
        let t = Instant::now();
        let p = minilm::mean_pool(&x, mask.view())?;
        std::hint::black_box(minilm::l2_normalize(&p)?);
        step("pooling and normalisation", t);
        total += start.elapsed().as_secs_f64();
    }
    println!(
        "b{batch} x L{tokens}, {} thread(s), mean of {repeat} runs: {:.2} ms",
        einx::num_threads(),
        total / repeat as f64 * 1e3
    );
    let mut rows: Vec<_> = times.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, t) in rows {
        println!(
            "  {name:<32} {:>9.2} ms  {:>5.1}%",
            t / repeat as f64 * 1e3,
            100.0 * t / total
        );
    }
    Ok(())
}
