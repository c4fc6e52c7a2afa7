//! The `wisp` command line.

#![deny(unsafe_code)]

mod client;
mod cloudhost;
mod daemon;
mod image;
mod machine;
mod mounter;
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
    /// Clouds: create, list, show, delete (through the daemon).
    Cloud {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::CloudCommand,
    },
    /// Machines of a cloud: create, list, show, stop, rm, logs.
    Machine {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::MachineCommand,
    },
    /// Run a command in a running machine; exits with its status.
    Exec {
        #[command(flatten)]
        conn: client::Conn,
        /// Pass this command's standard input to the program (read to its end first).
        #[arg(long, short = 'i')]
        stdin: bool,
        machine: String,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Read or write a file of a running machine or of a volume.
    File {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::FileCommand,
    },
    /// Scoped tokens of a cloud.
    Token {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::TokenCommand,
    },
    /// Services: names for machines' ports, optionally forwarded from a host loopback port.
    Service {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::ServiceCommand,
    },
    /// Grants: a cloud's service exported to another cloud.
    Grant {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::GrantCommand,
    },
    /// The cloud's egress allowlist (off by default).
    Egress {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::EgressCommand,
    },
    /// Metered use of a cloud and what it costs.
    Usage {
        #[command(flatten)]
        conn: client::Conn,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lifecycle events (created, started, exited, quota hits).
    Events {
        #[command(flatten)]
        conn: client::Conn,
        #[arg(long, short = 'f')]
        follow: bool,
    },
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
        Command::Cloud { conn, command } => client::cloud(&conn, command),
        Command::Machine { conn, command } => client::machine(&conn, command),
        Command::Exec { conn, stdin, machine, command } => client::exec(&conn, &machine, command, stdin),
        Command::File { conn, command } => client::file(&conn, command),
        Command::Token { conn, command } => client::token(&conn, command),
        Command::Service { conn, command } => client::service(&conn, command),
        Command::Grant { conn, command } => client::grant(&conn, command),
        Command::Egress { conn, command } => client::egress(&conn, command),
        Command::Usage { conn, json } => client::usage(&conn, json),
        Command::Events { conn, follow } => client::events(&conn, follow),
        Command::CloudHost(args) => cloudhost::main(cli.state.as_deref(), args),
    };
    std::process::exit(status);
}
