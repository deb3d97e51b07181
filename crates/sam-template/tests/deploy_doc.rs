//! docs/DEPLOY.md states two things the template decides: every parameter `sam deploy --guided`
//! asks for, with its default and description, and what the stack costs each month at rest,
//! counted from its resources. Both are written between markers by this test from template.yaml,
//! so the page cannot drift from the template: it fails when they differ, and
//! `UPDATE_DEPLOY_DOC=1 cargo test -p sam-template --test deploy_doc` writes them.

use std::path::PathBuf;

use sam_template::Template;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Template {
    Template::load(root().join("template.yaml")).expect("template.yaml")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;").replace('\n', " ")
}

/// One row per parameter, in the template's order: name, default, description.
fn parameters(t: &Template) -> String {
    let mut out = String::from("| Parameter | Default | What it sets |\n|---|---|---|\n");
    for (name, p) in t.root["Parameters"].as_object().expect("Parameters") {
        let default = match &p["Default"] {
            Value::String(s) if s.is_empty() => "*(empty)*".to_owned(),
            Value::String(s) => format!("`{s}`"),
            Value::Number(n) => format!("`{n}`"),
            other => panic!("{name}: a parameter without a default: {other}"),
        };
        let description = p["Description"].as_str().unwrap_or_else(|| panic!("{name} has no Description"));
        out += &format!("| `{name}` | {default} | {} |\n", cell(description));
    }
    out
}

/// Monthly prices in USD, us-east-1, read from the pages named (2026-12-05).
const ALARM: f64 = 0.10; // https://aws.amazon.com/cloudwatch/pricing/ (standard resolution metric alarm)
const DASHBOARD: f64 = 3.00; // https://aws.amazon.com/cloudwatch/pricing/ (per dashboard)

/// What the stack costs with no traffic, counted from the template.
fn at_rest(t: &Template) -> String {
    let alarms = t.resources_of("AWS::CloudWatch::Alarm").len();
    let dashboards = t.resources_of("AWS::CloudWatch::Dashboard").len();
    let tables = t.resources_of("AWS::DynamoDB::Table");
    let pitr = tables
        .values()
        .filter(|r| r["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == true)
        .count();
    let schedules: Vec<String> = t.functions().expect("functions").into_iter().flat_map(|f| f.schedules).collect();
    assert!(schedules.iter().all(|s| s == "rate(1 minute)"), "the row below says every minute: {schedules:?}");
    let schedules = schedules.len();
    let fixed = alarms as f64 * ALARM + dashboards as f64 * DASHBOARD;
    format!(
        "| What | Count | USD a month |\n|---|---:|---:|\n\
         | CloudWatch alarms, at {ALARM:.2} each | {alarms} | {:.2} |\n\
         | CloudWatch dashboards, at {DASHBOARD:.2} each | {dashboards} | {:.2} |\n\
         | DynamoDB tables with point-in-time recovery (billed per GB stored: an empty table costs nothing) | {pitr} of {} | 0.00 |\n\
         | Scheduled functions, each invoked every minute (43,200 times a month: cents) | {schedules} | < 0.05 |\n\
         | S3 bucket and CloudFront distribution (per request and per GB: kilobytes of files) | 1 | 0.00 |\n\
         | **Fixed, before free tiers** (the first 10 alarms and 3 dashboards of an account are free) | | **{fixed:.2}** |\n",
        alarms as f64 * ALARM,
        dashboards as f64 * DASHBOARD,
        tables.len(),
    )
}

/// Replaces (or, with UPDATE_DEPLOY_DOC=1, writes) the text between `<!-- NAME -->` and
/// `<!-- end NAME -->` of docs/DEPLOY.md.
fn between_markers(name: &str, want: &str) {
    let path = root().join("docs/DEPLOY.md");
    let doc = std::fs::read_to_string(&path).expect("docs/DEPLOY.md");
    let (open, close) = (format!("<!-- {name} -->\n"), format!("<!-- end {name} -->"));
    let start = doc.find(&open).unwrap_or_else(|| panic!("docs/DEPLOY.md has no {open}")) + open.len();
    let end = start + doc[start..].find(&close).unwrap_or_else(|| panic!("docs/DEPLOY.md has no {close}"));
    if std::env::var_os("UPDATE_DEPLOY_DOC").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..start], &doc[end..])).expect("write docs/DEPLOY.md");
        return;
    }
    assert_eq!(
        &doc[start..end],
        want,
        "docs/DEPLOY.md's {name} differ from template.yaml: UPDATE_DEPLOY_DOC=1 cargo test -p sam-template --test deploy_doc"
    );
}

#[test]
fn the_deploy_guide_lists_every_parameter_with_its_default() {
    let t = template();
    let table = parameters(&t);
    for name in ["Architecture", "StorefrontOrigin", "AuthDomainPrefix", "JwtIssuer"] {
        assert!(table.contains(&format!("| `{name}` |")), "{table}");
    }
    between_markers("parameters", &table);
}

#[test]
fn the_deploy_guide_counts_the_fixed_cost_from_the_template() {
    let t = template();
    let table = at_rest(&t);
    assert!(t.resources_of("AWS::CloudWatch::Alarm").len() > 30, "every function has its alarms");
    between_markers("cost at rest", &table);
}
