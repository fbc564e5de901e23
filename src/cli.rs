//! The `leads` command line: `serve` (the default), `migrate`, `cleartokens`.

use clap::{Parser, Subcommand};
use rocket::figment::Figment;
use rocket_db_pools::Config as PoolConfig;

use crate::db::DbPool;

#[derive(Parser)]
#[command(
    name = "leads",
    version,
    about = "Lead tracking with Knox-style token authentication"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Delete expired tokens and exit.
    Cleartokens,
}

/// Runs the command line; returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Migrate => with_database(|db| async move {
            db.migrate().await.map_err(|e| e.to_string())?;
            println!("Migrations applied.");
            Ok(())
        }),
        Command::Cleartokens => with_database(|db| async move {
            db.migrate().await.map_err(|e| e.to_string())?;
            let removed = crate::auth::service::purge_expired(&db)
                .await
                .map_err(|e| format!("{e:?}"))?;
            println!("Deleted {removed} expired token(s).");
            Ok(())
        }),
    }
}

fn serve() -> i32 {
    let figment = match crate::config::with_persisted_secret(crate::config::figment()) {
        Ok(figment) => figment,
        Err(e) => {
            eprintln!("leads: cannot read or create the secret key file: {e}");
            return 1;
        }
    };
    match rocket::execute(crate::build(figment).launch()) {
        Ok(_) => 0,
        Err(e) => {
            // Prints the reason and marks the error handled (unhandled, it panics on drop).
            let _ = e.pretty_print();
            1
        }
    }
}

/// Runs a maintenance task against the configured database.
fn with_database<F, Fut>(task: F) -> i32
where
    F: FnOnce(DbPool) -> Fut + Send,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    rocket::execute(async move {
        let figment: Figment = crate::config::figment().focus("databases.leads");
        let result = async {
            let config: PoolConfig = figment.extract().map_err(|e| e.to_string())?;
            let db = DbPool::connect(&config).await.map_err(|e| e.to_string())?;
            let outcome = task(db.clone()).await;
            rocket_db_pools::Pool::close(&db).await;
            outcome
        }
        .await;
        match result {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("leads: {e}");
                1
            }
        }
    })
}
