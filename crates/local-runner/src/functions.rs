//! Every function of the bundle a process without a stream relay runs (all but the outbox
//! relay, whose job the runner's own bus does), wired by the bundle's `wire` exactly as on Lambda.

use std::collections::BTreeMap;

use app::orders::{SweepReport, Sweeper};
use app::ports::StoreError;
use app::step::StepOutcome;
use app::{SharedEnv, StepError};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use bundle::manifest::Trigger;
use bundle::{wire, Config, Function, Handler, Stores, WireError};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

/// Why the functions could not be wired.
#[derive(Debug, thiserror::Error)]
pub enum FunctionsError {
    #[error("wiring {function}: {source}")]
    Wire { function: Function, source: WireError },
    #[error("{0} is not wired as a sweeper")]
    NoSweeper(Function),
    #[error("configuration of {function}: {source}")]
    Config { function: Function, source: bundle::ConfigError },
}

/// The wired handlers, by function.
pub struct Functions {
    handlers: BTreeMap<Function, Handler>,
    sweeper: Sweeper,
}

impl Functions {
    /// Wires every function but the relay on `stores`, each with the configuration `config` gives.
    pub fn wire<E>(stores: &Stores, env: &SharedEnv, config: impl Fn(Function) -> Result<Config, E>) -> Result<Self, E>
    where
        E: From<FunctionsError>,
    {
        let mut handlers = BTreeMap::new();
        for f in Function::ALL {
            // The runner relays on its own and never gives up on a batch: nothing to redrive.
            if matches!(f.trigger(), Trigger::OutboxStream { .. } | Trigger::RelayFailures { .. }) {
                continue;
            }
            let handler = wire(f, &config(f)?, stores, env.clone())
                .map_err(|source| FunctionsError::Wire { function: f, source })?;
            handlers.insert(f, handler);
        }
        let Some(Handler::Sweep(sweeper)) = handlers.get(&Function::SweepOrders).cloned() else {
            return Err(FunctionsError::NoSweeper(Function::SweepOrders).into());
        };
        Ok(Functions { handlers, sweeper })
    }

    /// Runs the HTTP function `function` on `req`; `None` when it is not an HTTP function.
    pub async fn http(&self, function: Function, req: Request) -> Option<Response<Body>> {
        match self.handlers.get(&function)? {
            Handler::Http(h) => Some(h(req).await),
            _ => None,
        }
    }

    /// Runs the saga step `function` on a bus event, as Lambda would; `None` when it is not a step.
    pub async fn step(
        &self,
        function: Function,
        event: EventBridgeEvent<Value>,
    ) -> Option<Result<StepOutcome, StepError>> {
        match self.handlers.get(&function)? {
            Handler::Step(h) => Some(handlers::events::handle(function.name(), event, |e| h(e)).await),
            _ => None,
        }
    }

    /// One run of the sweeper, as its schedule would start it.
    pub async fn sweep(&self) -> Result<SweepReport, StoreError> {
        handlers::events::sweep(&self.sweeper).await
    }
}
