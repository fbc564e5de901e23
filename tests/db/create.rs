//! Lead creates on SQLite: each caller gets its own answer, whether its lead
//! went in alone or in a group with others.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::join_all;
use leads::db::DbPool;
use leads::error::Error;
use leads::leads::{CreateQueue, Lead, LeadDraft, NewLead};
use leads::on_db;
use leads::timestamp::Timestamp;

use crate::sqlite;

async fn with_owner(name: &str) -> (DbPool, std::path::PathBuf) {
    let (db, dir) = sqlite(name).await;
    on_db!(db.writer().await.unwrap(), |c| sqlx::query(
        "INSERT INTO users (id, username, username_key, password, date_joined)
         VALUES (1, 'owner', 'owner', '!', 0)"
    )
    .execute(c)
    .await
    .map(drop))
    .unwrap();
    (db, dir)
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

/// Four creates queued behind a busy writer, then inserted in one group. One
/// breaks the foreign key (no user 2), which the statement cannot absorb:
/// the group is tried one by one, and only that one fails.
#[tokio::test]
async fn a_lead_that_fails_fails_alone_in_its_group() {
    let (db, dir) = with_owner("group-fallback").await;
    let queue = Arc::new(CreateQueue::default());
    let writer = db.writer().await.unwrap();
    let creates: Vec<_> = [(1, "a@example.com"), (2, "b@example.com")]
        .into_iter()
        .chain([(1, "A@EXAMPLE.COM"), (1, "c@example.com")])
        .map(|(owner, email)| {
            let (queue, db, lead) = (queue.clone(), db.clone(), lead(owner, email));
            tokio::spawn(async move { queue.insert(&db, lead).await })
        })
        .collect();
    // All four wait before the writer is free: the first to get it takes
    // them all in one group.
    for _ in 0..500 {
        if queue.waiting() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        queue.waiting(),
        4,
        "the creates did not queue for the writer"
    );
    drop(writer);
    let mut answers = Vec::new();
    for create in creates {
        answers.push(create.await.unwrap());
    }
    let outcomes: Vec<_> = answers.iter().map(outcome).collect();
    assert_eq!(outcomes, ["created", "failed", "email taken", "created"]);
    assert_eq!(answers[0].as_ref().unwrap().email, "a@example.com");
    assert_eq!(answers[3].as_ref().unwrap().email, "c@example.com");
    let count: i64 = on_db!(db.read().await.unwrap(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM leads"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(count, 2);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn concurrent_creates_each_get_their_own_answer() {
    let (db, dir) = with_owner("group-concurrent").await;
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
    let ids: HashSet<i64> = created.iter().map(|l| l.id).collect();
    assert_eq!(ids.len(), 60);
    std::fs::remove_dir_all(dir).ok();
}
