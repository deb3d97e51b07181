//! Saga step on OrderCreated: reserves every line of the order, or none.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReserveStock)
}
