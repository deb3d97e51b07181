//! The relay's second chance: each message of the relay's on-failure queue points at a stream
//! range the relay gave up on; this reads the range back from the stream and publishes its
//! outbox records. The only other code that publishes.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::RedriveOutbox)
}
