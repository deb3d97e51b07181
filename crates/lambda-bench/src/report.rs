//! The results as raw JSON and as markdown tables, ratios to the bare binary first.

use serde_json::{json, Value};

use crate::emulator::Outcome;
use crate::harness::{Measured, Results, Series, BARE};
use crate::process::Invocation;

const MIB: f64 = 1024.0 * 1024.0;

/// The median of `xs` (`None` when empty).
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] })
}

/// The medians of one binary in one mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub init_ms: Option<f64>,
    pub rss_mib: Option<f64>,
    pub zip_mib: f64,
    pub stripped_mib: f64,
    pub first_ms: Option<f64>,
    pub warm_ms: Option<f64>,
}

pub fn summarize(m: &Measured) -> Summary {
    let init: Vec<f64> = m.runs.iter().map(|r| r.init_ms).collect();
    let rss: Vec<f64> = m.runs.iter().map(|r| r.rss_kib as f64 / 1024.0).collect();
    let first: Vec<f64> = m.runs.iter().map(|r| r.first.ms).collect();
    let warm: Vec<f64> = m.runs.iter().flat_map(|r| r.warm.iter().map(|w| w.ms)).collect();
    Summary {
        init_ms: median(&init),
        rss_mib: median(&rss),
        zip_mib: m.sizes.zip_bytes as f64 / MIB,
        stripped_mib: m.sizes.stripped_bytes as f64 / MIB,
        first_ms: median(&first),
        warm_ms: median(&warm),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn invocation_json(i: &Invocation) -> Value {
    json!({
        "ms": i.ms,
        "outcome": match i.outcome { Outcome::Response => "response", Outcome::Error => "error" },
        "answer": i.answer,
    })
}

fn measured_json(m: &Measured, bare: &Summary) -> Value {
    let s = summarize(m);
    json!({
        "name": m.name,
        "binary": m.binary.display().to_string(),
        "sizes": {
            "binary_bytes": m.sizes.binary_bytes,
            "stripped_bytes": m.sizes.stripped_bytes,
            "stripped": m.sizes.stripped,
            "zip_bytes": m.sizes.zip_bytes,
        },
        "failure": m.failure,
        "median": {
            "init_ms": s.init_ms,
            "rss_mib": s.rss_mib,
            "first_ms": s.first_ms,
            "warm_ms": s.warm_ms,
        },
        "ratio_to_bare": {
            "init": ratio(s.init_ms, bare.init_ms),
            "rss": ratio(s.rss_mib, bare.rss_mib),
            "zip": ratio(Some(s.zip_mib), Some(bare.zip_mib)),
        },
        "runs": m.runs.iter().map(|r| json!({
            "init_ms": r.init_ms,
            "rss_kib": r.rss_kib,
            "first": invocation_json(&r.first),
            "warm": r.warm.iter().map(invocation_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn bare_summary(series: &Series) -> Summary {
    series.measured.iter().find(|m| m.name == BARE).map(summarize).unwrap_or_default()
}

/// Where the numbers were taken.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines().find_map(|l| l.strip_prefix("model name")).map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
    });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|k| k.trim().to_owned());
    let cpus = std::thread::available_parallelism().map(|n| n.get()).ok();
    json!({ "cpu": cpu, "cpus": cpus, "kernel": kernel, "arch": std::env::consts::ARCH })
}

/// The raw results.
pub fn to_json(results: &Results) -> Value {
    let o = &results.options;
    let taken = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    json!({
        "taken_unix_s": taken,
        "machine": machine(),
        "profile": o.profile,
        "bin_dir": o.bin_dir.display().to_string(),
        "runs": o.runs,
        "warm_per_run": o.warm,
        "notes": [
            "init: wall time from spawning the binary to its first GET /2018-06-01/runtime/invocation/next",
            "rss: VmRSS from /proc/PID/status once that first GET has arrived",
            "first: the first invocation of a fresh process; warm: the later ones of the same process; both from handing the event out on /next to receiving its /response or /error",
            "sizes: the binary stripped, and a deflate zip of it named bootstrap; MiB = 2^20 bytes",
        ],
        "modes": results.series.iter().map(|s| {
            let bare = bare_summary(s);
            json!({
                "mode": s.mode.key,
                "note": s.mode.note,
                "binaries": s.measured.iter().map(|m| measured_json(m, &bare)).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

fn num(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{x:.decimals$}"))
}

/// The markdown tables, one per mode.
pub fn to_markdown(results: &Results) -> String {
    let o = &results.options;
    let m = machine();
    let cpu = m["cpu"].as_str().unwrap_or("unknown CPU");
    let cpus = m["cpus"].as_u64().map_or("?".to_owned(), |n| n.to_string());
    let mut md = String::new();
    md.push_str("## Lambda binaries against a bare `lambda_runtime` binary\n\n");
    md.push_str(&format!(
        "Profile `{}` (binaries from `{}`), every binary and `{BARE}` (lambda_runtime and nothing else, same \
         profile) started {} times as Lambda starts it, against the bench's own Runtime API emulator on 127.0.0.1, \
         with {} warm invocations per process after the first. Measured on {cpus} × {cpu}. The ratios to the bare \
         binary are the point; absolute times hold for this machine only.\n\n",
        o.profile,
        o.bin_dir.display(),
        o.runs,
        o.warm,
    ));
    md.push_str(
        "- **init**: spawn to the first `GET /runtime/invocation/next` (median); **RSS**: VmRSS at that moment \
         (median); **zip**: the stripped binary as `bootstrap`, deflated (MB = MiB here);\n\
         - **first**: the first invocation of a fresh process, **warm**: the later ones (medians), each from \
         handing out `events/<function>.json` on `/next` to receiving its `/response` or `/error`; **answer**: \
         what the first invocation of the first process answered (the one that did the work).\n",
    );
    for series in &results.series {
        let bare = bare_summary(series);
        md.push_str(&format!("\n### {}\n\n{}.\n\n", series.mode.title, series.mode.note));
        md.push_str(
            "| function | init ms | ×bare | RSS MB | ×bare | zip MB | first ms | warm ms | first/warm | answer |\n",
        );
        md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        let mut ratios: [Vec<f64>; 3] = Default::default();
        for m in &series.measured {
            let s = summarize(m);
            let init_x = ratio(s.init_ms, bare.init_ms);
            let rss_x = ratio(s.rss_mib, bare.rss_mib);
            if m.name != BARE {
                ratios[0].extend(init_x);
                ratios[1].extend(rss_x);
                ratios[2].extend(ratio(Some(s.zip_mib), Some(bare.zip_mib)));
            }
            let answer = match (&m.failure, m.runs.first()) {
                (Some(f), _) => format!("FAILED: {f}"),
                (None, Some(r)) => r.first.answer.clone(),
                (None, None) => String::new(),
            };
            let name = if m.name == BARE { format!("**{BARE}**") } else { m.name.clone() };
            md.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} |\n",
                num(s.init_ms, 1),
                num(init_x, 1),
                num(s.rss_mib, 1),
                num(rss_x, 1),
                s.zip_mib,
                num(s.first_ms, 1),
                num(s.warm_ms, 2),
                num(ratio(s.first_ms, s.warm_ms), 1),
                answer.replace('|', "\\|").replace('\n', " "),
            ));
        }
        md.push_str(&format!(
            "\nOver the {} functions, the median function takes ×{} the bare binary's init, ×{} its RSS and ×{} its zip.\n",
            series.measured.len().saturating_sub(1),
            num(median(&ratios[0]), 1),
            num(median(&ratios[1]), 1),
            num(median(&ratios[2]), 1),
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
