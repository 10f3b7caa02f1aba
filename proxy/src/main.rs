//! The `powerpulse` binary: parses the command line and hands over to the library.

fn main() {
    std::process::exit(powerpulse::cli::main());
}
