//! GET /me: the caller's own customer, with available credit.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::GetMe)
}
