//! Inserting leads, with group commit on SQLite.
//!
//! SQLite has one writer, and each create is a trip to it and a commit of
//! its own: under load that serial path is the ceiling. Creates that arrive
//! while the writer is busy wait here instead; the first of them to get the
//! writer inserts all that wait in one statement, and the others find their
//! answer ready.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rocket::tokio::sync::oneshot;

use crate::db::{Backend, Bind, DbPool, LiveConn, Sql};
use crate::error::{Error, FieldErrors};
use crate::timestamp::Timestamp;
use crate::validation::case_key;

use super::{Lead, LeadDraft, EMAIL_TAKEN};

/// A lead to insert: its fields, its owner, and when it was asked for.
pub struct NewLead {
    pub draft: LeadDraft,
    pub owner: i64,
    pub created_at: Timestamp,
}

/// The most rows one statement inserts.
const MAX_GROUP: usize = 64;

type Waiting = (NewLead, oneshot::Sender<Result<Lead, Error>>);

/// The creates waiting for SQLite's writer (Rocket-managed state).
#[derive(Default)]
pub struct CreateQueue(Mutex<Vec<Waiting>>);

impl CreateQueue {
    /// Inserts the lead, in a group with whatever creates are waiting on
    /// SQLite; alone on PostgreSQL, where writers do not take turns.
    pub async fn insert(&self, db: &DbPool, lead: NewLead) -> Result<Lead, Error> {
        let sqlite = match db {
            Backend::Sqlite(sqlite) => sqlite,
            Backend::Postgres(_) => {
                let mut writer = db.writer().await?;
                return insert_all(writer.live(), vec![lead]).await?.remove(0);
            }
        };
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((lead, reply));
        loop {
            let mut writer = rocket::tokio::select! {
                // An earlier caller's group took this lead and has answered.
                biased;
                done = &mut answer => return done.map_err(|_| Error::Internal)?,
                writer = sqlite.writer() => writer,
            };
            let group: Vec<Waiting> = {
                let mut waiting = self.lock();
                let n = waiting.len().min(MAX_GROUP);
                waiting.drain(..n).collect()
            };
            if group.is_empty() {
                // Taken by a group that has not answered yet.
                drop(writer);
                return answer.await.map_err(|_| Error::Internal)?;
            }
            // In a task of its own, so that the group runs to its end and
            // answers everyone in it even if this request is cancelled.
            rocket::tokio::spawn(async move {
                let (leads, replies): (Vec<NewLead>, Vec<_>) = group.into_iter().unzip();
                let answers = insert_group(Backend::Sqlite(&mut *writer), leads).await;
                for (reply, answer) in replies.into_iter().zip(answers) {
                    reply.send(answer).ok();
                }
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One answer per lead, in order. Should the group's statement fail for a
/// reason other than a taken email (which it absorbs), each lead is tried
/// alone, so that only the one at fault reports an error.
async fn insert_group(mut conn: LiveConn<'_>, leads: Vec<NewLead>) -> Vec<Result<Lead, Error>> {
    let sql = insert_sql(&leads);
    match sql.fetch_all_on(conn.reborrow()).await {
        Ok(inserted) => assign(&leads, inserted),
        Err(_) => {
            let mut answers = Vec::with_capacity(leads.len());
            for lead in leads {
                let one = insert_all(conn.reborrow(), vec![lead]).await;
                answers.push(one.map_or_else(|e| Err(e.into()), |mut a| a.remove(0)));
            }
            answers
        }
    }
}

/// Inserts `leads` in one statement: one answer per lead, in order.
async fn insert_all(
    conn: LiveConn<'_>,
    leads: Vec<NewLead>,
) -> Result<Vec<Result<Lead, Error>>, sqlx::Error> {
    // `fetch_all`, not `fetch_one`: SQLite hands out a RETURNING row before
    // the statement has run to its end, and an autocommit INSERT commits only
    // then; a client told "created" could otherwise miss the lead on its next
    // read.
    let inserted = insert_sql(&leads).fetch_all_on(conn).await?;
    Ok(assign(&leads, inserted))
}

/// `INSERT … ON CONFLICT (email_key) DO NOTHING RETURNING …`: a row whose
/// email is taken, by the table or by an earlier row of the same
/// statement, is skipped rather than failing the others.
fn insert_sql(leads: &[NewLead]) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at) VALUES ",
    );
    for (i, lead) in leads.iter().enumerate() {
        let values = [
            Bind::Text(lead.draft.name.clone()),
            Bind::Text(lead.draft.email.clone()),
            Bind::Text(case_key(&lead.draft.email)),
            Bind::Text(lead.draft.message.clone()),
            Bind::Text(lead.draft.search_key()),
            Bind::Int(lead.owner),
            Bind::Int(lead.created_at.0),
        ];
        let placeholders: Vec<String> =
            values.into_iter().map(|v| sql.placeholder_for(v)).collect();
        sql.push(if i == 0 { "(" } else { ", (" })
            .push(&placeholders.join(", "))
            .push(")");
    }
    sql.push(" ON CONFLICT (email_key) DO NOTHING RETURNING ")
        .push(Lead::COLUMNS);
    sql
}

/// Matches inserted leads to the ones asked for, by email key (RETURNING
/// order is unspecified); one without a match had its email taken. Of
/// leads sharing an email, the first was inserted.
fn assign(leads: &[NewLead], inserted: Vec<Lead>) -> Vec<Result<Lead, Error>> {
    let mut by_key: HashMap<String, Lead> = inserted
        .into_iter()
        .map(|lead| (case_key(&lead.email), lead))
        .collect();
    leads
        .iter()
        .map(|lead| {
            by_key
                .remove(&case_key(&lead.draft.email))
                .ok_or_else(|| Error::Invalid(FieldErrors::single("email", EMAIL_TAKEN)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rocket::futures::future::join_all;

    use super::*;
    use crate::on_db;

    async fn sqlite_db(name: &str) -> DbPool {
        let path = std::env::temp_dir().join(format!(
            "leads-{name}-{}.db",
            crate::auth::token::random_hex(6)
        ));
        let config = rocket_db_pools::Config {
            url: format!("sqlite://{}", path.display()),
            min_connections: None,
            max_connections: 4,
            connect_timeout: 5,
            idle_timeout: None,
            extensions: None,
        };
        let db = DbPool::connect(&config, None)
            .await
            .expect("a SQLite database");
        db.migrate().await.expect("migrations");
        on_db!(db.writer().await.unwrap(), |c| sqlx::query(
            "INSERT INTO users (id, username, username_key, password, date_joined)
             VALUES (1, 'owner', 'owner', '!', 0)"
        )
        .execute(c)
        .await
        .map(drop))
        .expect("a user");
        db
    }

    fn lead(owner: i64, email: &str) -> NewLead {
        NewLead {
            draft: LeadDraft {
                name: "N".into(),
                email: email.into(),
                message: String::new(),
            },
            owner,
            created_at: Timestamp::now(),
        }
    }

    fn outcome(result: &Result<Lead, Error>) -> &'static str {
        match result {
            Ok(_) => "created",
            Err(Error::Invalid(_)) => "email taken",
            Err(_) => "failed",
        }
    }

    #[rocket::async_test]
    async fn a_lead_that_fails_fails_alone_in_its_group() {
        let db = sqlite_db("group-fallback").await;
        let mut writer = db.writer().await.unwrap();
        // Owner 2 does not exist: that row breaks the foreign key, which
        // ON CONFLICT does not absorb, so the group falls back to one by one.
        let group = vec![
            lead(1, "a@example.com"),
            lead(2, "b@example.com"),
            lead(1, "A@EXAMPLE.COM"),
            lead(1, "c@example.com"),
        ];
        let answers = insert_group(writer.live(), group).await;
        let outcomes: Vec<_> = answers.iter().map(outcome).collect();
        assert_eq!(outcomes, ["created", "failed", "email taken", "created"]);
        assert_eq!(answers[0].as_ref().unwrap().email, "a@example.com");
        assert_eq!(answers[3].as_ref().unwrap().email, "c@example.com");
        drop(writer);
        let count: i64 = on_db!(db.read().await.unwrap(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM leads"
        )
        .fetch_one(c)
        .await)
        .unwrap();
        assert_eq!(count, 2);
    }

    #[rocket::async_test]
    async fn concurrent_creates_share_groups_and_each_gets_its_own_answer() {
        let db = sqlite_db("group-concurrent").await;
        let queue = CreateQueue::default();
        // 60 distinct emails, each sent twice in two spellings.
        let emails: Vec<String> = (0..120)
            .map(|i| match i % 2 {
                0 => format!("lead{}@example.com", i / 2),
                _ => format!("LEAD{}@example.com", i / 2),
            })
            .collect();
        let answers = join_all(emails.iter().map(|e| queue.insert(&db, lead(1, e)))).await;
        let created: Vec<&Lead> = answers.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(created.len(), 60);
        let taken = answers.iter().filter(|r| outcome(r) == "email taken");
        assert_eq!(taken.count(), 60);
        for (email, answer) in emails.iter().zip(&answers) {
            if let Ok(lead) = answer {
                assert_eq!(&lead.email, email, "each caller gets its own lead back");
            }
        }
        let ids: std::collections::HashSet<i64> = created.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), 60);
    }
}
