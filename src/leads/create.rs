//! Inserting leads, with group commit on SQLite.
//!
//! SQLite's one writer is the ceiling of creates under load. Creates that
//! arrive while it is busy wait here; the first to get it inserts all that
//! wait in one statement and commit, and the others find their answer ready.

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

    /// How many creates are waiting for the writer now.
    pub fn waiting(&self) -> usize {
        self.lock().len()
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
    // `fetch_all`, not `fetch_one`: SQLite's autocommit INSERT commits only
    // once its RETURNING rows are all read; until then a reader misses them.
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
