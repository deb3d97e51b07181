//! Saga step on OrderRejected / OrderCancelled / StockReleaseRequested: gives the order's stock back.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReleaseStock)
}
