//! The HTTP routes of template.yaml, matched the way API Gateway matches them: by method and by
//! path segments, `{name}` capturing one segment.

use std::collections::HashMap;

use bundle::Function;
use sam_template::{Template, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml routes to {0}, which is not a function of the bundle")]
    UnknownFunction(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    segments: Vec<Segment>,
    function: Function,
    template_path: String,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Found {
        function: Function,
        params: HashMap<String, String>,
    },
    /// The path exists, with other methods: the methods it has, for the `Allow` header (RFC 9110).
    MethodNotAllowed {
        allow: Vec<String>,
    },
    NotFound,
}

/// Every route of the template. Invariant: `function` is the binary name of the function that
/// serves the route (the manifest name).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect()
}

impl RouteTable {
    /// The routes of the template; a route to a function the bundle does not have is refused.
    pub fn from_template(t: &Template) -> Result<RouteTable, RouteError> {
        let mut routes = vec![];
        for f in t.functions()? {
            if f.routes.is_empty() {
                continue;
            }
            let function =
                Function::from_name(&f.binary).ok_or_else(|| RouteError::UnknownFunction(f.binary.clone()))?;
            for (method, path) in &f.routes {
                let segs = segments(path)
                    .into_iter()
                    .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name.trim_end_matches('+').to_owned()),
                        None => Segment::Literal(s.to_owned()),
                    })
                    .collect();
                routes.push(Route { method: method.clone(), segments: segs, function, template_path: path.clone() });
            }
        }
        Ok(RouteTable { routes })
    }

    /// (method, template path, function) of every route, for the start-up banner and tests.
    pub fn list(&self) -> Vec<(String, String, Function)> {
        self.routes.iter().map(|r| (r.method.clone(), r.template_path.clone(), r.function)).collect()
    }

    pub fn resolve(&self, method: &str, path: &str) -> Resolution {
        let parts = segments(path);
        let mut allow: Vec<String> = vec![];
        for r in &self.routes {
            if r.segments.len() != parts.len() {
                continue;
            }
            let mut params = HashMap::new();
            let ok = r.segments.iter().zip(&parts).all(|(seg, part)| match seg {
                Segment::Literal(l) => l == part,
                Segment::Param(name) => {
                    params.insert(name.clone(), (*part).to_owned());
                    true
                }
            });
            if !ok {
                continue;
            }
            if r.method.eq_ignore_ascii_case(method) {
                return Resolution::Found { function: r.function, params };
            }
            allow.push(r.method.to_ascii_uppercase());
        }
        if allow.is_empty() {
            Resolution::NotFound
        } else {
            allow.sort_unstable();
            allow.dedup();
            Resolution::MethodNotAllowed { allow }
        }
    }
}
