//! The `leads` command line: `serve` (the default), `migrate`, `cleartokens`,
//! `backup`, and user administration.

use clap::{Parser, Subcommand};
use rocket::figment::Figment;
use rocket_db_pools::Config as PoolConfig;

use crate::db::DbPool;
use crate::error::Error;
use crate::users::hashing::Hasher;

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
    /// Delete expired tokens and login failures past the throttle window.
    Cleartokens,
    /// Write a consistent snapshot of the live SQLite database to PATH (a
    /// new file), while the server keeps running.
    Backup { path: std::path::PathBuf },
    /// Create a staff account. The password is read from LEADS_PASSWORD, or
    /// else asked for on the terminal; Django's validators apply.
    Createsuperuser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        email: String,
    },
    /// Give a user staff rights (the admin pages).
    GrantStaff { username: String },
    /// Take a user's staff rights away.
    RevokeStaff { username: String },
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
        Command::Createsuperuser { username, email } => {
            let password = match superuser_password() {
                Ok(password) => password,
                Err(e) => {
                    eprintln!("leads: {e}");
                    return 1;
                }
            };
            with_database(|db| async move {
                db.migrate().await.map_err(|e| e.to_string())?;
                let hasher = Hasher::start();
                let user = crate::users::service::create_superuser(
                    &db, &hasher, &username, &email, password,
                )
                .await
                .map_err(|e| e.to_string())?;
                println!("Superuser \"{}\" created (id {}).", user.username, user.id);
                Ok(())
            })
        }
        Command::GrantStaff { username } => set_staff(username, true),
        Command::RevokeStaff { username } => set_staff(username, false),
        Command::Cleartokens => with_database(|db| async move {
            db.migrate().await.map_err(|e| e.to_string())?;
            let removed = crate::auth::service::purge_expired(&db)
                .await
                .map_err(|e| e.to_string())?;
            let settings = crate::config::Settings::from_figment(&crate::config::figment())?;
            let forgotten = crate::auth::throttle::purge(&db, &settings)
                .await
                .map_err(|e| e.to_string())?;
            println!("Deleted {removed} expired token(s) and {forgotten} old login failure(s).");
            Ok(())
        }),
        Command::Backup { path } => with_database(|db| async move {
            db.backup_to(&path).await?;
            println!("Wrote a snapshot of the database to {}.", path.display());
            Ok(())
        }),
    }
}

/// `LEADS_PASSWORD` for scripts, else a prompt (twice) without echo.
fn superuser_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("LEADS_PASSWORD") {
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let again = rpassword::prompt_password("Password (again): ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != again {
        return Err("the passwords didn't match".into());
    }
    Ok(first)
}

fn set_staff(username: String, is_staff: bool) -> i32 {
    with_database(|db| async move {
        db.migrate().await.map_err(|e| e.to_string())?;
        crate::users::service::set_staff(&db, &username, is_staff)
            .await
            .map_err(|e| match e {
                Error::NotFound => "no such user".to_owned(),
                other => other.to_string(),
            })?;
        println!(
            "{username} is {}staff.",
            if is_staff { "now " } else { "no longer " }
        );
        Ok(())
    })
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
            let db = DbPool::connect(&config, None)
                .await
                .map_err(|e| e.to_string())?;
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
