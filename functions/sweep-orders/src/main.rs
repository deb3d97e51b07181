//! The sweeper, on a schedule: rejects orders PENDING longer than PENDING_TIMEOUT_SECONDS, so no
//! saga stays open forever; the rejection triggers the usual compensations.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::SweepOrders)
}
