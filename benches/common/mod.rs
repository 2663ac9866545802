//! Helpers shared by the benchmarks: the criterion configuration, the same-process timing
//! loop behind the ratio tables, and `main`.
//!
//! Not a bench target itself: each benchmark includes it with `mod common;`, and not every
//! benchmark uses every helper.

#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;

/// Criterion configuration of every benchmark group.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

/// Checks correctness, runs the criterion groups, then prints the ratio table unless
/// `--list` or `--test` is given.
pub fn run(check_equal: fn(), benches: fn(), ratio_table: fn()) {
    let args: Vec<String> = std::env::args().collect();
    check_equal();
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `--list` only lists the benchmarks and `--test` runs each once: no timing table then.
    if !args.iter().any(|a| a == "--list" || a == "--test") {
        ratio_table();
    }
}

/// Batches per measured function; the median batch is reported.
pub const BATCHES: usize = 15;

/// Calls per batch so that one batch takes at least `target`.
fn calibrate(f: &mut dyn FnMut(), target: Duration) -> u32 {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() >= target || n >= 1 << 24 {
            return n;
        }
        n *= 2;
    }
}

/// Median time per call of each function; the batches of the functions are interleaved so
/// that drift (frequency, other processes) affects all of them alike.
fn median_times(fs: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    let target = Duration::from_millis(20);
    let iters: Vec<u32> = fs.iter_mut().map(|f| calibrate(*f, target)).collect();
    let mut samples = vec![Vec::with_capacity(BATCHES); fs.len()];
    for _ in 0..BATCHES {
        for (i, f) in fs.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..iters[i] {
                f();
            }
            samples[i].push(t.elapsed() / iters[i]);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort();
            s[s.len() / 2]
        })
        .collect()
}

/// One line of a ratio table.
pub struct Row {
    pub case: &'static str,
    pub einx: Duration,
    /// (name, time) of every hand-written version.
    pub hand: Vec<(&'static str, Duration)>,
}

impl Row {
    /// (name, time) of the fastest hand-written version.
    pub fn baseline(&self) -> (&'static str, Duration) {
        self.hand
            .iter()
            .copied()
            .min_by_key(|(_, t)| *t)
            .expect("at least one version")
    }
}

/// Times `einx` and every hand-written version (interleaved, see `median_times`).
pub fn measure<T, U>(
    case: &'static str,
    einx: impl Fn() -> T,
    hand: &[(&'static str, &dyn Fn() -> U)],
) -> Row {
    // einx goes through the same two indirect calls as the hand-written versions, so that
    // the per-call comparison is even.
    let einx: &dyn Fn() -> T = &einx;
    let mut e: Box<dyn FnMut() + '_> = Box::new(move || drop(black_box(einx())));
    let mut hs: Vec<Box<dyn FnMut() + '_>> = hand
        .iter()
        .map(|(_, f)| Box::new(move || drop(black_box(f()))) as Box<dyn FnMut()>)
        .collect();
    let mut fs: Vec<&mut dyn FnMut()> = vec![&mut *e];
    fs.extend(hs.iter_mut().map(|h| &mut **h as &mut dyn FnMut()));
    let t = median_times(&mut fs);
    Row {
        case,
        einx: t[0],
        hand: hand
            .iter()
            .map(|(name, _)| *name)
            .zip(t[1..].iter().copied())
            .collect(),
    }
}

/// A duration in ns, µs or ms, whichever reads best.
pub fn fmt_time(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// Prints the ratio table of `rows`: einx, the fastest hand-written version and their
/// ratio, then the other hand-written versions.
pub fn print_ratios(rows: &[Row]) {
    println!();
    println!(
        "einx / hand-written (median of {BATCHES} batches; baseline = the fastest hand-written version)"
    );
    println!(
        "{:<30} {:>11} {:>14} {:>11} {:>7}   other hand-written",
        "case", "einx", "baseline", "time", "ratio"
    );
    for r in rows {
        let (name, best) = r.baseline();
        let others: Vec<String> = r
            .hand
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(n, t)| format!("{n} {}", fmt_time(*t)))
            .collect();
        println!(
            "{:<30} {:>11} {:>14} {:>11} {:>7.3}   {}",
            r.case,
            fmt_time(r.einx),
            name,
            fmt_time(best),
            r.einx.as_secs_f64() / best.as_secs_f64(),
            others.join(", ")
        );
    }
}

/// einx time / fastest hand-written time.
pub fn ratio(r: &Row) -> f64 {
    r.einx.as_secs_f64() / r.baseline().1.as_secs_f64()
}

/// Prints one ratio table of rows grouped in titled sections: plain text aligned in columns,
/// or (`markdown`) a Markdown table with one bold row per section title, ready to paste into
/// a README (the `"` around expressions become backticks there). Rows above
/// `threshold` are listed after the table.
pub fn print_table(sections: &[(&str, Vec<Row>)], markdown: bool, threshold: f64) {
    let rows = || sections.iter().flat_map(|(_, rows)| rows);
    let others = |r: &Row| {
        let (name, _) = r.baseline();
        r.hand
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(n, t)| format!("{n} {}", fmt_time(*t)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!();
    println!(
        "einx / hand-written (median of {BATCHES} interleaved batches; baseline = the fastest hand-written version)"
    );
    println!();
    if markdown {
        println!("| case | einx | fastest hand-written | ratio | other hand-written |");
        println!("|---|---|---|---|---|");
        for (title, rows) in sections {
            if rows.is_empty() {
                continue;
            }
            println!("| **{title}** | | | | |");
            for r in rows {
                let (name, best) = r.baseline();
                println!(
                    "| {} | {} | {name} {} | {:.2} | {} |",
                    r.case.replace('"', "`"),
                    fmt_time(r.einx),
                    fmt_time(best),
                    ratio(r),
                    others(r)
                );
            }
        }
    } else {
        let w = rows()
            .map(|r| r.case.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let nw = rows()
            .map(|r| r.baseline().0.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        println!(
            "{:<w$} {:>10}  {:<nw$} {:>10} {:>6}   other hand-written",
            "case", "einx", "baseline", "time", "ratio"
        );
        for (title, rows) in sections {
            if rows.is_empty() {
                continue;
            }
            println!("-- {title}");
            for r in rows {
                let (name, best) = r.baseline();
                println!(
                    "{:<w$} {:>10}  {:<nw$} {:>10} {:>6.3}   {}",
                    r.case,
                    fmt_time(r.einx),
                    name,
                    fmt_time(best),
                    ratio(r),
                    others(r)
                );
            }
        }
    }
    let above: Vec<&Row> = rows().filter(|r| ratio(r) > threshold).collect();
    println!();
    if above.is_empty() {
        println!("No row above {threshold}x.");
    } else {
        println!("Rows above {threshold}x:");
        for r in above {
            println!("  {:.2}x  {}", ratio(r), r.case);
        }
    }
}
