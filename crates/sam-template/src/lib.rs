//! The SAM template, written and read. [`generate`] writes template.yaml from the manifest and
//! the hand-written shared part; [`Template`] reads it back: which functions exist, the routes,
//! rules, stream and schedule events that trigger them, their environment variables and IAM
//! statements. The local runner serves and routes from it, and the checks and the end-to-end test
//! deploy it.
//!
//! CloudFormation's short tags (`!Ref X`, `!GetAtt X.Arn`, `!Sub "..."`) are read as their plain
//! argument: enough to name what they point at, which is all the readers here need.

// Nothing that comes from outside (requests, events, stored items, SDK answers) may panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod generate;
mod pattern;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

pub use pattern::{Pattern, PatternError};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("template is not valid YAML: {0}")]
    Yaml(String),
    #[error("template has no Resources")]
    NoResources,
    #[error("{function}: {problem}")]
    Function { function: String, problem: String },
}

/// An IAM statement: its actions and the resources, as written (tags read as their argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// An EventBridge rule event of a function: its name in the template and its pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub bus: Option<String>,
    pub pattern: Value,
}

/// One `AWS::Serverless::Function`. Invariant: `binary` is the cargo binary it is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    pub binary: String,
    pub env: BTreeMap<String, String>,
    /// (method, path) of each HttpApi event.
    pub routes: Vec<(String, String)>,
    pub rules: Vec<Rule>,
    /// The stream (as written, e.g. `OrdersTable.StreamArn`) of each DynamoDB event, with its
    /// event's properties.
    pub streams: Vec<(String, Value)>,
    pub schedules: Vec<String>,
    pub statements: Vec<Statement>,
    pub properties: Value,
}

/// The template, as JSON (tags reduced to their argument).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub root: Value,
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => {
            s.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
        }
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                m.insert(key, to_json(v));
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

/// A value that JSON-in-a-string patterns (CloudFormation allows both) turn into JSON.
fn pattern_value(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

impl Template {
    pub fn load(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| TemplateError::Io { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        let root = docs.first().map(to_json).unwrap_or(Value::Null);
        if !root.get("Resources").is_some_and(Value::is_object) {
            return Err(TemplateError::NoResources);
        }
        Ok(Template { root })
    }

    /// The default value of the template parameter named `name` (a string, or a number as its
    /// text); `None` when there is no such parameter or it has no usable default.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        match &self.root["Parameters"][name]["Default"] {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The declaration of the template parameter named `name` (`Null` when there is none).
    pub fn parameter(&self, name: &str) -> &Value {
        &self.root["Parameters"][name]
    }

    /// Resources of `type_`, by logical id.
    pub fn resources_of(&self, type_: &str) -> BTreeMap<String, Value> {
        self.root["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, r)| r["Type"] == type_)
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect()
    }

    /// The `AWS::Events::Rule`s with a target, by the target's ARN as written (`XQueue.Arn`).
    fn rules_by_target(&self) -> BTreeMap<String, Vec<Rule>> {
        let mut out: BTreeMap<String, Vec<Rule>> = BTreeMap::new();
        for (name, r) in self.resources_of("AWS::Events::Rule") {
            let p = &r["Properties"];
            for target in p["Targets"].as_array().into_iter().flatten() {
                let Some(arn) = target["Arn"].as_str() else { continue };
                out.entry(arn.to_owned()).or_default().push(Rule {
                    name: name.clone(),
                    bus: p["EventBusName"].as_str().map(str::to_owned),
                    pattern: pattern_value(&p["EventPattern"]),
                });
            }
        }
        out
    }

    /// Every serverless function with its triggers, variables and policies. A function's rules
    /// are those of its own events and those that feed a queue it consumes (through an SQS event
    /// or an event source mapping of its own).
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        let globals_env = self.root["Globals"]["Function"]["Environment"]["Variables"].clone();
        let mut rules_by_target = self.rules_by_target();
        let mut mapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (_, m) in self.resources_of("AWS::Lambda::EventSourceMapping") {
            let p = &m["Properties"];
            if let (Some(f), Some(source)) = (p["FunctionName"].as_str(), p["EventSourceArn"].as_str()) {
                mapped.entry(f.to_owned()).or_default().push(source.to_owned());
            }
        }
        let mut out = vec![];
        for (id, r) in self.resources_of("AWS::Serverless::Function") {
            let problem = |p: &str| TemplateError::Function { function: id.clone(), problem: p.to_owned() };
            let props = &r["Properties"];
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .ok_or_else(|| problem("no Metadata.BuildProperties.Binary"))?
                .to_owned();
            let mut env = BTreeMap::new();
            for vars in [&globals_env, &props["Environment"]["Variables"]] {
                for (k, v) in vars.as_object().into_iter().flatten() {
                    env.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                }
            }
            let mut f = Function {
                logical_id: id.clone(),
                binary,
                env,
                routes: vec![],
                rules: vec![],
                streams: vec![],
                schedules: vec![],
                statements: vec![],
                properties: props.clone(),
            };
            for (name, ev) in props["Events"].as_object().into_iter().flatten() {
                let p = &ev["Properties"];
                match ev["Type"].as_str() {
                    Some("HttpApi") => {
                        let method = p["Method"].as_str().ok_or_else(|| problem("HttpApi event without Method"))?;
                        let path = p["Path"].as_str().ok_or_else(|| problem("HttpApi event without Path"))?;
                        f.routes.push((method.to_uppercase(), path.to_owned()));
                    }
                    Some("EventBridgeRule") => f.rules.push(Rule {
                        name: name.clone(),
                        bus: p["EventBusName"].as_str().map(str::to_owned),
                        pattern: pattern_value(&p["Pattern"]),
                    }),
                    Some("DynamoDB") => {
                        f.streams.push((p["Stream"].as_str().unwrap_or_default().to_owned(), p.clone()))
                    }
                    Some("SQS") => {
                        let queue = p["Queue"].as_str().unwrap_or_default();
                        f.rules.extend(rules_by_target.remove(queue).unwrap_or_default());
                    }
                    Some("Schedule") | Some("ScheduleV2") => f.schedules.push(
                        p["Schedule"].as_str().or(p["ScheduleExpression"].as_str()).unwrap_or_default().to_owned(),
                    ),
                    _ => {}
                }
            }
            for source in mapped.remove(&id).unwrap_or_default() {
                f.rules.extend(rules_by_target.remove(&source).unwrap_or_default());
            }
            for policy in props["Policies"].as_array().into_iter().flatten() {
                for s in policy["Statement"].as_array().into_iter().flatten() {
                    if s["Effect"] == "Allow" {
                        f.statements
                            .push(Statement { actions: strings(&s["Action"]), resources: strings(&s["Resource"]) });
                    }
                }
            }
            out.push(f);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
Globals:
  Function:
    Runtime: provided.al2023
Resources:
  Bus:
    Type: AWS::Events::EventBus
  GetOrderFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: get-order
    Properties:
      Environment:
        Variables:
          ORDERS_TABLE: !Ref OrdersTable
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: !GetAtt OrdersTable.Arn
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /orders/{id}
            Method: get
        OnCreated:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              source: [shop.orders]
              detail-type: [OrderCreated]
"#;

    #[test]
    fn functions_come_with_routes_rules_variables_and_statements() {
        let t = Template::parse(SAMPLE).unwrap();
        let f = &t.functions().unwrap()[0];
        assert_eq!(f.binary, "get-order");
        assert_eq!(f.routes, vec![("GET".to_owned(), "/orders/{id}".to_owned())]);
        assert_eq!(f.env["ORDERS_TABLE"], "OrdersTable");
        assert_eq!(f.statements[0].actions, vec!["dynamodb:GetItem"]);
        assert_eq!(f.statements[0].resources, vec!["OrdersTable.Arn"]);
        assert_eq!(f.rules[0].pattern["detail-type"][0], "OrderCreated");
        assert_eq!(f.rules[0].bus.as_deref(), Some("Bus"));
    }

    #[test]
    fn a_function_without_a_binary_is_an_error() {
        let t = Template::parse("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n").unwrap();
        assert!(matches!(t.functions(), Err(TemplateError::Function { .. })));
        assert!(matches!(Template::parse("a: 1"), Err(TemplateError::NoResources)));
    }
}
