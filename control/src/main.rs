//! The `wisp` command line.

#![deny(unsafe_code)]

mod run;
mod units;

use clap::{Parser, Subcommand};

/// wisp: kernel-less machines for AI agents.
#[derive(Parser)]
#[command(name = "wisp", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Linux program inside a fresh kernel-less machine.
    Run(run::RunArgs),
}

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => run::main(args),
    };
    std::process::exit(status);
}
