//! The saga's routing: each EventBridge rule of template.yaml, with the function it targets, and
//! the question "which steps does this event go to?".

use bundle::Function;
use sam_template::{Pattern, PatternError, Template, TemplateError};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml has rules for {0}, which is not a function of the bundle")]
    UnknownFunction(String),
    #[error("rule {rule} of {function}: {source}")]
    Pattern { function: String, rule: String, source: PatternError },
}

#[derive(Debug, Clone)]
struct Rule {
    function: Function,
    name: String,
    pattern: Pattern,
}

/// Every rule of the template, parsed. Building it fails on a pattern operator the runner does
/// not implement, naming the rule.
#[derive(Debug, Clone, Default)]
pub struct RuleTable {
    rules: Vec<Rule>,
}

impl RuleTable {
    pub fn from_template(t: &Template) -> Result<RuleTable, RuleError> {
        let mut rules = vec![];
        for f in t.functions()? {
            if f.rules.is_empty() {
                continue;
            }
            let function =
                Function::from_name(&f.binary).ok_or_else(|| RuleError::UnknownFunction(f.binary.clone()))?;
            for r in &f.rules {
                let pattern = Pattern::parse(&r.pattern).map_err(|source| RuleError::Pattern {
                    function: f.binary.clone(),
                    rule: r.name.clone(),
                    source,
                })?;
                rules.push(Rule { function, name: r.name.clone(), pattern });
            }
        }
        Ok(RuleTable { rules })
    }

    /// The functions whose rule matches `event` (an event as EventBridge shapes it).
    pub fn targets(&self, event: &Value) -> Vec<Function> {
        self.rules.iter().filter(|r| r.pattern.matches(event)).map(|r| r.function).collect()
    }

    /// (function, rule name) of every rule.
    pub fn list(&self) -> Vec<(Function, &str)> {
        self.rules.iter().map(|r| (r.function, r.name.as_str())).collect()
    }
}

/// An outbox record as EventBridge would deliver it to a target.
pub fn bus_event(record: &app::ports::OutboxRecord) -> Value {
    serde_json::json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": record.detail_type,
        "source": record.source,
        "account": "000000000000",
        "time": record.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": "local",
        "resources": [],
        "detail": serde_json::from_str::<Value>(&record.detail).unwrap_or(Value::Null),
    })
}
