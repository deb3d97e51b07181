//! Logging on Lambda: JSON lines through tracing, one per event, with the fields of the enclosing
//! spans (request id from the Lambda runtime, correlation and causation ids from the saga steps).
//!
//! No personal data reaches a log: our code logs ids, never names, emails or addresses, and the
//! runtime crates, which log raw request and event bodies at TRACE and DEBUG, are capped at INFO
//! whatever level the function runs at.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};

/// The runtime crates that log raw payloads below INFO.
const PAYLOAD_LOGGERS: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// The filter for a configured level: Lambda's levels (`TRACE` to `FATAL`, any case; `FATAL` is
/// tracing's `error`), or a `RUST_LOG`-style directive list (`shop=debug,aws_smithy=warn`);
/// anything unreadable is `info`. The payload loggers stay at `info` or above in every case.
/// A [`Targets`] filter, not an `EnvFilter`: the same directives without the regular expressions
/// an `EnvFilter` compiles at start (and without the regex engine in every binary).
pub fn filter(configured: Option<&str>) -> Targets {
    let level = configured.map(str::trim).filter(|l| !l.is_empty()).unwrap_or("info").to_lowercase();
    let info = || Targets::new().with_default(LevelFilter::INFO);
    let targets = match level.as_str() {
        "fatal" => Targets::new().with_default(LevelFilter::ERROR),
        directives if directives.contains('=') => Targets::from_str(directives).unwrap_or_else(|_| info()),
        single => LevelFilter::from_str(single).map_or_else(|_| info(), |l| Targets::new().with_default(l)),
    };
    // TRACE, DEBUG or a directive list: the payload loggers capped at INFO (a level at or below
    // INFO already keeps them quiet enough).
    match targets.default_level() {
        Some(l) if l <= LevelFilter::INFO && !level.contains('=') => targets,
        _ => PAYLOAD_LOGGERS.iter().fold(targets, |t, c| t.with_target(*c, LevelFilter::INFO)),
    }
}

/// Installs the JSON subscriber once per process. The level comes from `AWS_LAMBDA_LOG_LEVEL`
/// (set by Lambda's logging configuration) or `RUST_LOG`, defaulting to `info`.
pub fn init_json() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_target(false)
        .finish()
        .with(filter(level.as_deref()))
        .try_init();
}

/// The namespace of the bundle's own metrics in CloudWatch.
pub const METRICS_NAMESPACE: &str = "ShopSaga";

/// The CloudWatch Embedded Metric Format recorder behind the `metrics` facade, for `function`:
/// every metric of `app::measure` carries a `Function` dimension, and [`flush_metrics`] writes
/// them to stdout as one JSON document, which CloudWatch Logs turns into metrics with no API
/// call. Installed once per process; `None` if a recorder is already installed.
pub fn init_metrics(function: &str) -> Option<&'static metrics_cloudwatch_embedded::Collector> {
    metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .with_dimension("Function", function.to_owned())
        .init()
        .inspect_err(|e| tracing::warn!(error = %e, "metrics are off: no recorder"))
        .ok()
}

/// Writes what was measured since the last flush (once per invocation, after it).
pub fn flush_metrics(collector: Option<&'static metrics_cloudwatch_embedded::Collector>) {
    if let Some(c) = collector {
        if let Err(e) = c.flush(std::io::stdout().lock()) {
            tracing::warn!(error = %e, "metrics could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn fatal_is_error_and_does_not_silence_every_line() {
        let f = filter(Some("FATAL"));
        assert!(f.would_enable("shop", &Level::ERROR) && !f.would_enable("shop", &Level::WARN));
        let f = filter(Some("warn"));
        assert!(f.would_enable("shop", &Level::WARN) && !f.would_enable("shop", &Level::INFO));
        for f in [filter(None), filter(Some("no such level!")), filter(Some(" INFO "))] {
            assert!(f.would_enable("shop", &Level::INFO) && !f.would_enable("shop", &Level::DEBUG));
        }
        assert!(!filter(Some("off")).would_enable("shop", &Level::ERROR));
    }

    #[test]
    fn the_runtime_never_logs_payloads_even_at_trace() {
        for configured in ["TRACE", "debug", "shop=trace,lambda_runtime=trace,lambda_http=debug"] {
            let f = filter(Some(configured));
            for c in PAYLOAD_LOGGERS {
                assert!(f.would_enable(c, &Level::INFO), "{configured}: {c} at INFO");
                assert!(!f.would_enable(c, &Level::DEBUG), "{configured}: {c} below INFO");
            }
        }
        assert!(filter(Some("TRACE")).would_enable("shop", &Level::TRACE));
        assert!(filter(Some("shop=trace,lambda_runtime=trace")).would_enable("shop::orders", &Level::TRACE));
    }
}
