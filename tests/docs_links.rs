//! What the repository's Markdown points at exists: every relative link (to a file, and to a
//! heading's anchor in a Markdown file) and every `cargo run -p PACKAGE [--bin BIN]` names a
//! file, heading, workspace package and binary that are there. Also the housekeeping files a
//! user expects: the CI workflow parses and calls the project's scripts, LICENSE is the license
//! Cargo.toml names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use system_tests::root;

/// Every Markdown file of the repository, tracked or new (git's view: not target/, .venv/, or
/// anything else ignored).
fn markdown_files() -> Vec<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files: {out:?}");
    let mut files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// The lines outside fenced code blocks, and those inside, of a Markdown text.
fn prose_and_code(text: &str) -> (Vec<&str>, Vec<&str>) {
    let (mut prose, mut code, mut fenced) = (vec![], vec![], false);
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            code.push(line);
        } else {
            prose.push(line);
        }
    }
    (prose, code)
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation dropped; a repeated
/// heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in prose_and_code(text).0 {
        let Some(title) = line.strip_prefix('#').map(|t| t.trim_start_matches('#')) else { continue };
        if !title.starts_with(' ') {
            continue;
        }
        let slug: String = title
            .trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let n = seen.entry(slug.clone()).or_default();
        out.insert(if *n == 0 { slug.clone() } else { format!("{slug}-{n}") });
        *n += 1;
    }
    out
}

/// Inline code spans removed, so a link written as code is not read as a link.
fn without_code_spans(line: &str) -> String {
    line.split('`').enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, s)| s).collect::<Vec<_>>().join(" ")
}

/// The targets of a text's links: `[text](target)` and `[label]: target`.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = vec![];
    for line in prose_and_code(text).0 {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            out.push(target.trim_matches(|c| c == '<' || c == '>').to_owned());
            rest = &after[end..];
        }
        let t = line.trim_start();
        if let Some((label, target)) = t.strip_prefix('[').and_then(|t| t.split_once("]: ")) {
            if !label.contains(']') {
                out.push(target.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
    }
    out
}

/// What is wrong with a relative link of `file`, if anything.
fn broken(file: &Path, target: &str) -> Option<String> {
    let external = ["http://", "https://", "mailto:", "ftp://"];
    if target.is_empty() || external.iter().any(|p| target.starts_with(p)) {
        return None;
    }
    let (path, anchor) = target.split_once('#').map_or((target, None), |(p, a)| (p, Some(a)));
    let dest = if path.is_empty() { file.to_path_buf() } else { file.parent()?.join(path) };
    if !dest.exists() {
        return Some(format!("{target}: no such file"));
    }
    if dest.canonicalize().ok()?.strip_prefix(root().canonicalize().ok()?).is_err() {
        return Some(format!("{target}: outside the repository"));
    }
    match anchor {
        Some(a) if dest.extension().is_some_and(|e| e == "md") => {
            let text = std::fs::read_to_string(&dest).ok()?;
            (!anchors(&text).contains(a)).then(|| format!("{target}: no heading with the anchor #{a}"))
        }
        _ => None,
    }
}

/// Every `cargo run` of a text: (package, bin), as named with `-p`/`--package` and `--bin`
/// before the `--` that starts the program's own arguments.
fn cargo_runs(text: &str) -> Vec<(Option<String>, Option<String>)> {
    let mut out = vec![];
    for line in text.lines() {
        let mut rest = line;
        while let Some(i) = rest.find("cargo run") {
            rest = &rest[i + "cargo run".len()..];
            let words: Vec<&str> = rest
                .split(|c: char| c.is_whitespace() || c == '`' || c == '"' || c == '\'' || c == ')' || c == ';')
                .filter(|w| !w.is_empty())
                .take_while(|w| *w != "--" && *w != "&&" && *w != "|" && *w != "\\")
                .collect();
            let value = |flags: &[&str]| {
                words.iter().position(|w| flags.contains(w)).and_then(|i| words.get(i + 1)).map(|s| s.to_string())
            };
            let inline = |flag: &str| words.iter().find_map(|w| w.strip_prefix(flag).map(str::to_owned));
            out.push((
                value(&["-p", "--package"]).or_else(|| inline("--package=")),
                value(&["--bin"]).or_else(|| inline("--bin=")),
            ));
        }
    }
    out
}

/// The workspace's packages and the binaries of each.
fn workspace_bins() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut bins = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let names = p["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect();
        bins.insert(p["name"].as_str().unwrap_or_default().to_owned(), names);
    }
    bins
}

fn relative(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn every_relative_link_in_the_markdown_exists() {
    let files = markdown_files();
    assert!(files.iter().any(|f| f.ends_with("README.md")), "the Markdown files: {files:?}");
    let mut wrong = vec![];
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for target in link_targets(&text) {
            checked += 1;
            if let Some(why) = broken(f, &target) {
                wrong.push(format!("{}: {why}", relative(f)));
            }
        }
    }
    assert!(checked > 0);
    assert!(wrong.is_empty(), "broken links:\n{}", wrong.join("\n"));
}

#[test]
fn every_cargo_run_in_the_markdown_names_a_package_and_binary_that_exist() {
    let bins = workspace_bins();
    let mut wrong = vec![];
    let mut checked = 0;
    for f in markdown_files() {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (package, bin) in cargo_runs(&text) {
            checked += 1;
            // Prose ("builds it with `cargo run`") names no package: nothing to check.
            let Some(package) = package else { continue };
            match (bins.get(&package), bin) {
                (None, _) => wrong.push(format!("{}: cargo run -p {package}: no such package", relative(&f))),
                (Some(have), Some(bin)) if !have.contains(&bin) => {
                    wrong.push(format!("{}: cargo run -p {package} --bin {bin}: {package} has {have:?}", relative(&f)))
                }
                _ => {}
            }
        }
    }
    assert!(checked > 0);
    assert!(wrong.is_empty(), "commands that cannot run:\n{}", wrong.join("\n"));
}

/// The checks above find what they look for (so they can fail).
#[test]
fn the_checks_find_broken_links_and_commands() {
    let text =
        "# Deploying to AWS\n## Two commands\n```sh\n# terminal 1\n```\nSee [x](#two-commands), [y](#terminal-1), \
                [z](missing.md), `[code](not-a-link.md)`.\n[ref]: docs/nowhere.md\n";
    let readme = root().join("README.md");
    assert_eq!(anchors(text), BTreeSet::from(["deploying-to-aws".to_owned(), "two-commands".to_owned()]));
    let targets = link_targets(text);
    assert_eq!(targets, ["#two-commands", "#terminal-1", "missing.md", "docs/nowhere.md"]);
    assert!(broken(&readme, "missing.md").is_some());
    assert!(broken(&readme, "Cargo.toml").is_none());
    assert!(broken(&readme, "../outside.md").is_some());
    assert!(broken(&readme, "https://example.com/x").is_none());
    assert_eq!(
        cargo_runs("`cargo run -p load --release --bin flash-sale -- --orders 10` and cargo run -p local-runner"),
        [(Some("load".to_owned()), Some("flash-sale".to_owned())), (Some("local-runner".to_owned()), None)]
    );
    assert_eq!(cargo_runs("cargo run -p x -- --bin y"), [(Some("x".to_owned()), None)]);
}

#[test]
fn the_ci_workflow_parses_and_runs_the_projects_scripts() {
    let text = std::fs::read_to_string(root().join(".github/workflows/ci.yml")).expect("the workflow");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let jobs = docs[0]["jobs"].as_hash().expect("jobs");
    let runs: Vec<String> = jobs
        .values()
        .flat_map(|j| j["steps"].as_vec().cloned().unwrap_or_default())
        .filter_map(|s| s["run"].as_str().map(str::to_owned))
        .collect();
    assert!(runs.iter().any(|r| r == ".ci/run"), "a job runs .ci/run: {runs:?}");
    assert!(
        runs.iter().any(|r| r.contains("ARCH=arm64 ./scripts/sam-build.sh --release")),
        "the arm64 build: {runs:?}"
    );
    for r in &runs {
        for script in r.split_whitespace().filter(|w| w.starts_with("./scripts/") || w.starts_with(".ci/")) {
            assert!(root().join(script).exists(), "{script} named by the workflow");
        }
    }
    // The arm64 path the workflow relies on is the script's.
    let build = std::fs::read_to_string(root().join("scripts/sam-build.sh")).expect("sam-build.sh");
    assert!(build.contains("arm64) arch_flag=(--arm64)"), "sam-build.sh builds arm64 with cargo lambda --arm64");
}

#[test]
fn the_license_file_is_the_license_cargo_toml_names() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let license = std::fs::read_to_string(root().join("LICENSE")).expect("LICENSE");
    assert!(cargo.contains("license = \"MIT\""), "the workspace's license");
    assert!(license.starts_with("MIT License\n") && license.contains("Permission is hereby granted, free of charge"));
}

/// docs/API.md's table of problem types names every kind the API answers, with its status: the
/// table is prose for people, `problem_kinds!` is the fact, and this keeps them one.
#[test]
fn the_api_docs_name_every_problem_kind_with_its_status() {
    let doc = std::fs::read_to_string(root().join("docs/API.md")).expect("docs/API.md");
    for kind in handlers::problem::ProblemKind::ALL {
        let slug = format!("`{}`", kind.slug());
        let is_status_row =
            |l: &&str| l.strip_prefix("| ").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        let row = doc.lines().filter(is_status_row).find(|l| l.contains(&slug));
        let row = row.unwrap_or_else(|| panic!("docs/API.md's error table does not name {slug}"));
        let status = row.split('|').nth(1).unwrap_or("");
        assert!(status.contains(&kind.status().to_string()), "{slug} is a {} but its row says {status}", kind.status());
    }
}
