//! The `leads` command line: `serve` (the default), `migrate`, `cleartokens`,
//! `backup`, and user administration.

use clap::{Parser, Subcommand};
use rocket::figment::Figment;
use rocket_db_pools::Config as PoolConfig;

use crate::config::{self, Settings};
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

/// What a command failed with, printed as `leads: <error>`.
type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs the command line; returns the process exit code.
pub fn run() -> i32 {
    let done = match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => match config::with_persisted_secret(config::figment()) {
            Ok(figment) => return serve(figment),
            Err(e) => Err(format!("cannot read or create the secret key file: {e}").into()),
        },
        Command::Migrate => with_database(|db| async move {
            db.migrate().await?;
            println!("Migrations applied.");
            Ok(())
        }),
        Command::Createsuperuser { username, email } => superuser_password().and_then(|password| {
            with_database(|db| async move {
                db.migrate().await?;
                let hasher = Hasher::start();
                let user = crate::users::service::create_superuser(
                    &db, &hasher, &username, &email, password,
                )
                .await?;
                println!("Superuser \"{}\" created (id {}).", user.username, user.id);
                Ok(())
            })
        }),
        Command::GrantStaff { username } => set_staff(username, true),
        Command::RevokeStaff { username } => set_staff(username, false),
        Command::Cleartokens => with_database(|db| async move {
            db.migrate().await?;
            let removed = crate::auth::service::purge_expired(&db).await?;
            let settings = Settings::from_figment(&config::figment())?;
            let forgotten = crate::auth::throttle::purge(&db, &settings).await?;
            println!("Deleted {removed} expired token(s) and {forgotten} old login failure(s).");
            Ok(())
        }),
        Command::Backup { path } => with_database(|db| async move {
            db.backup_to(&path).await?;
            println!("Wrote a snapshot of the database to {}.", path.display());
            Ok(())
        }),
    };
    match done {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("leads: {e}");
            1
        }
    }
}

/// `LEADS_PASSWORD` for scripts, else a prompt (twice) without echo.
fn superuser_password() -> Result<String, Failure> {
    if let Ok(password) = std::env::var("LEADS_PASSWORD") {
        return Ok(password);
    }
    let prompt = |text| {
        rpassword::prompt_password(text).map_err(|e| format!("cannot read the password: {e}"))
    };
    let password = prompt("Password: ")?;
    if prompt("Password (again): ")? != password {
        return Err("the passwords didn't match".into());
    }
    Ok(password)
}

fn set_staff(username: String, is_staff: bool) -> Result<(), Failure> {
    with_database(|db| async move {
        db.migrate().await?;
        let changed = crate::users::service::set_staff(&db, &username, is_staff).await;
        if let Err(Error::NotFound) = changed {
            return Err("no such user".into());
        }
        changed?;
        let now = if is_staff { "now " } else { "no longer " };
        println!("{username} is {now}staff.");
        Ok(())
    })
}

fn serve(figment: Figment) -> i32 {
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
fn with_database<F, Fut>(task: F) -> Result<(), Failure>
where
    F: FnOnce(DbPool) -> Fut + Send,
    Fut: std::future::Future<Output = Result<(), Failure>> + Send,
{
    rocket::execute(async move {
        let config: PoolConfig = config::figment().focus("databases.leads").extract()?;
        let db = DbPool::connect(&config, None).await?;
        let outcome = task(db.clone()).await;
        rocket_db_pools::Pool::close(&db).await;
        outcome
    })
}
