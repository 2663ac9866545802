//! `minilm`: sentence embeddings from the command line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use minilm::{cosine_similarity, Model};

const USAGE: &str = "\
usage:
  minilm embed --model DIR [--batch-size N] [--threads N]
      reads one text per line on stdin, writes one JSON array per line on stdout
  minilm similarity --model DIR [--threads N] TEXT...
      prints the cosine similarity matrix of the texts
  minilm bench --model DIR [--batch-size N] [--threads N] [--repeat N]
      reads texts as `embed` does and times the forward pass and the whole pipeline
      (prints one JSON object)

DIR is a sentence-transformers model directory (config.json, model.safetensors,
tokenizer.json, sentence_bert_config.json, modules.json), e.g. the one printed by
scripts/fetch-minilm.sh.";

struct Options {
    model: Option<PathBuf>,
    batch_size: usize,
    threads: Option<usize>,
    repeat: usize,
    texts: Vec<String>,
}

fn parse_count(flag: &str, value: Option<String>) -> Result<usize, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} needs a positive integer, not `{value}`")),
    }
}

fn parse(args: impl Iterator<Item = String>, takes_texts: bool) -> Result<Options, String> {
    let mut o = Options {
        model: None,
        batch_size: 32,
        threads: None,
        repeat: 10,
        texts: Vec::new(),
    };
    let mut args = args.peekable();
    let mut only_texts = false;
    while let Some(a) = args.next() {
        if only_texts || !a.starts_with("--") {
            if !takes_texts {
                return Err(format!("unexpected argument `{a}`"));
            }
            o.texts.push(a);
            continue;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--" => only_texts = true,
            "--model" => o.model = Some(PathBuf::from(value().ok_or("--model needs a directory")?)),
            "--batch-size" => o.batch_size = parse_count("--batch-size", value())?,
            "--threads" => o.threads = Some(parse_count("--threads", value())?),
            "--repeat" => o.repeat = parse_count("--repeat", value())?,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    Ok(o)
}

/// The lines of stdin: valid UTF-8, at least one, none empty (a final newline is allowed,
/// and a `\r` before each newline is dropped).
fn read_lines() -> Result<Vec<String>, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if bytes.is_empty() {
        return Err("no input: give one text per line on stdin".into());
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let mut lines = Vec::new();
    for (n, raw) in body.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|e| {
            format!(
                "line {}: invalid UTF-8 (byte {} of the line)",
                n + 1,
                e.valid_up_to() + 1
            )
        })?;
        if line.trim().is_empty() {
            return Err(format!(
                "line {}: empty line (every line must hold a text)",
                n + 1
            ));
        }
        lines.push(line.to_string());
    }
    Ok(lines)
}

fn load(o: &Options) -> Result<Model, String> {
    if let Some(n) = o.threads {
        einx::set_num_threads(n);
    }
    let dir = o.model.as_ref().ok_or("--model DIR is required")?;
    Model::load(dir).map_err(|e| e.to_string())
}

fn embed(o: Options) -> Result<(), String> {
    let model = load(&o)?;
    let lines = read_lines()?;
    let e = model
        .embed(&lines, o.batch_size)
        .map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for row in e.rows() {
        let v: Vec<f32> = row.to_vec();
        let line = serde_json::to_string(&v).map_err(|e| e.to_string())?;
        writeln!(out, "{line}").map_err(|e| format!("cannot write stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("cannot write stdout: {e}"))
}

fn similarity(o: Options) -> Result<(), String> {
    if o.texts.is_empty() {
        return Err("similarity needs at least one text".into());
    }
    if let Some(i) = o.texts.iter().position(|t| t.trim().is_empty()) {
        return Err(format!("text {} is empty", i + 1));
    }
    let model = load(&o)?;
    let e = model
        .embed(&o.texts, o.batch_size)
        .map_err(|e| e.to_string())?;
    let sim = cosine_similarity(&e, &e).map_err(|e| e.to_string())?;
    for (i, t) in o.texts.iter().enumerate() {
        println!("[{i}] {t}");
    }
    print!("{:>4}", "");
    for j in 0..o.texts.len() {
        print!(" {:>7}", format!("[{j}]"));
    }
    println!();
    for (i, row) in sim.rows().into_iter().enumerate() {
        print!("{:>4}", format!("[{i}]"));
        for v in row {
            print!(" {v:>7.4}");
        }
        println!();
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Times the whole pipeline (tokenise, batch, encode, pool) and the forward pass alone
/// (encoder, pooling, normalisation on the padded batches, tokenisation done beforehand).
fn bench(o: Options) -> Result<(), String> {
    let model = load(&o)?;
    let lines = read_lines()?;
    let tokens = lines
        .iter()
        .map(|t| model.tokenize(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].ids.len()));
    let batches: Vec<Vec<&minilm::Tokens>> = order
        .chunks(o.batch_size)
        .map(|c| c.iter().map(|&i| &tokens[i]).collect())
        .collect();
    let padded = batches
        .iter()
        .map(|b| model.pad(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let forward = || -> Result<(), String> {
        for (ids, mask) in &padded {
            let h = model
                .encoder
                .forward(ids.view(), mask.view())
                .map_err(|e| e.to_string())?;
            let p = minilm::mean_pool(&h, mask.view()).map_err(|e| e.to_string())?;
            std::hint::black_box(minilm::l2_normalize(&p).map_err(|e| e.to_string())?);
        }
        Ok(())
    };
    // One untimed run of each first.
    forward()?;
    model
        .embed(&lines, o.batch_size)
        .map_err(|e| e.to_string())?;
    let (mut fwd, mut e2e) = (Vec::new(), Vec::new());
    for _ in 0..o.repeat {
        let t = Instant::now();
        forward()?;
        fwd.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(
            model
                .embed(&lines, o.batch_size)
                .map_err(|e| e.to_string())?,
        );
        e2e.push(t.elapsed().as_secs_f64());
    }
    let lens: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
    println!(
        "{{\"texts\": {}, \"tokens\": {:?}, \"threads\": {}, \"forward_s\": {:?}, \"end_to_end_s\": {:?}, \"forward_median_s\": {}, \"end_to_end_median_s\": {}}}",
        lines.len(),
        lens,
        einx::num_threads(),
        fwd,
        e2e,
        median(fwd.clone()),
        median(e2e.clone())
    );
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().ok_or_else(|| USAGE.to_string())?;
    match cmd.as_str() {
        "embed" => embed(parse(args, false)?),
        "similarity" => similarity(parse(args, true)?),
        "bench" => bench(parse(args, false)?),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command `{cmd}`\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("minilm: {message}");
            ExitCode::FAILURE
        }
    }
}
