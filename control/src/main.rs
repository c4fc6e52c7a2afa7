//! The `wisp` command line.

#![deny(unsafe_code)]

mod cloudhost;
mod daemon;
mod image;
mod machine;
mod progress;
mod proto;
mod rootfs;
mod run;
mod sandbox;
mod state;
mod units;
mod volume;

use clap::{Parser, Subcommand};

/// wisp: kernel-less machines for AI agents.
#[derive(Parser)]
#[command(name = "wisp", version, about, long_about = None)]
struct Cli {
    /// State directory for images, volumes and writable layers [default:
    /// $WISP_STATE, else /var/lib/wisp as root, else ~/.local/share/wisp].
    #[arg(long, global = true, value_name = "DIR")]
    state: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Linux program inside a fresh kernel-less machine.
    Run(run::RunArgs),
    /// Manage images: read-only root filesystems for machines.
    Image(image::ImageArgs),
    /// Manage volumes: host storage that outlives machines.
    Volume(volume::VolumeArgs),
    /// Serve the control API: clouds, machines, tokens, usage.
    Daemon(daemon::DaemonArgs),
    /// Internal: the host process of one cloud, started by the daemon.
    #[command(hide = true)]
    CloudHost(cloudhost::HostArgs),
}

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => run::main(args, cli.state.as_deref()),
        Command::Image(args) => image::main(cli.state.as_deref(), args),
        Command::Volume(args) => volume::main(cli.state.as_deref(), args),
        Command::Daemon(args) => daemon::main(cli.state.as_deref(), args),
        Command::CloudHost(args) => cloudhost::main(cli.state.as_deref(), args),
    };
    std::process::exit(status);
}
