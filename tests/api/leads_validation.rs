//! Lead fields validated with DRF's CharField and EmailField semantics: every
//! failing field at once, trimming, types, lengths in characters, unicode,
//! NUL characters, and emails unique in any case, even under racing creates.

use futures::future::join_all;
use rocket::http::Status;
use serde_json::json;

use crate::helpers::{Backend, BLANK, INVALID_EMAIL, NOT_A_STRING, NULL, REQUIRED};
use crate::leads_common::{ids, lead_count, send, stored};
use crate::{app, on_both_backends};

on_both_backends!(
    duplicate_email_is_a_field_error_in_any_case,
    concurrent_creates_with_one_email_make_one_lead,
    every_failing_field_is_reported_at_once,
    fields_are_trimmed_and_blank_null_or_non_strings_rejected,
    numbers_are_accepted_as_text,
    max_lengths_count_characters_after_trimming,
    unicode_round_trips_in_every_field,
    null_characters_are_rejected,
    lead_emails_are_unique_in_any_unicode_case,
);

const EMAIL_TAKEN: &str = "lead with this email already exists.";

async fn duplicate_email_is_a_field_error_in_any_case(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let taken = app.create_lead(&alice, "Ann", "dup@example.com").await;
    let other = app.create_lead(&alice, "Bob", "other@example.com").await;
    let taken_path = format!("/api/leads/{}/", taken["id"]);
    let other_path = format!("/api/leads/{}/", other["id"]);

    // Unique across every owner's leads, compared case-insensitively.
    for (token, email) in [(&bob, "DUP@Example.com"), (&alice, "dup@example.com")] {
        let (status, body) = app
            .post(
                "/api/leads/",
                Some(token),
                json!({"name": "Copy", "email": email, "message": "x"}),
            )
            .await;
        assert_eq!(status, Status::BadRequest, "{email}");
        assert_eq!(body, json!({"email": [EMAIL_TAKEN]}));
    }
    // Reported along with every other failing field.
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&bob),
            json!({"name": "", "email": "Dup@example.com"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"name": [BLANK], "email": [EMAIL_TAKEN], "message": [REQUIRED]})
    );
    assert_eq!(lead_count(&app).await, 2);

    let (status, body) = app
        .put(
            &other_path,
            Some(&alice),
            json!({"name": "Bob", "email": "Dup@Example.COM", "message": "x"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [EMAIL_TAKEN]}));
    let (status, body) = app
        .patch(
            &other_path,
            Some(&alice),
            json!({"email": "dup@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [EMAIL_TAKEN]}));
    let (status, body) = app
        .patch(
            &other_path,
            Some(&alice),
            json!({"name": " ", "email": "dup@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"name": [BLANK], "email": [EMAIL_TAKEN]}));
    assert_eq!(
        stored(&app, &other["id"]).await,
        format!("Bob | other@example.com | Hello | {alice_id}")
    );

    // A lead keeps its own email, in any case.
    let (status, body) = app
        .put(
            &taken_path,
            Some(&alice),
            json!({"name": "Ann B", "email": "dup@example.com", "message": "same"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, body) = app
        .patch(
            &taken_path,
            Some(&alice),
            json!({"email": "DUP@example.com"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["email"], "DUP@example.com");
    // Even with another field failing, its own email is no conflict.
    let (status, body) = app
        .patch(
            &taken_path,
            Some(&alice),
            json!({"name": "", "email": "dup@example.com"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"name": [BLANK]}));

    // Once the lead is gone, its email is free again.
    assert_eq!(
        app.delete(&taken_path, Some(&alice)).await.0,
        Status::NoContent
    );
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&bob),
            json!({"name": "Copy", "email": "dup@example.com", "message": "x"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
}

async fn concurrent_creates_with_one_email_make_one_lead(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let requests = (0..12).map(|i| {
        let token = if i % 2 == 0 { &alice } else { &bob }.as_str();
        let email = if i % 3 == 0 {
            "Race@Example.com"
        } else {
            "race@example.com"
        };
        app.post(
            "/api/leads/",
            Some(token),
            json!({"name": format!("Racer {i}"), "email": email, "message": "go"}),
        )
    });
    let answers = join_all(requests).await;
    let created = answers
        .iter()
        .filter(|(status, _)| *status == Status::Created)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != Status::Created) {
        assert_eq!(*status, Status::BadRequest, "{body}");
        assert_eq!(*body, json!({"email": [EMAIL_TAKEN]}));
    }
    assert_eq!(lead_count(&app).await, 1);
}

async fn every_failing_field_is_reported_at_once(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    for (body, expected) in [
        (
            json!({"name": "   ", "email": "not-an-email"}),
            json!({"name": [BLANK], "email": [INVALID_EMAIL], "message": [REQUIRED]}),
        ),
        (
            json!({}),
            json!({"name": [REQUIRED], "email": [REQUIRED], "message": [REQUIRED]}),
        ),
        (
            json!({"name": "x".repeat(101), "email": null, "message": []}),
            json!({
                "name": ["Ensure this field has no more than 100 characters."],
                "email": [NULL],
                "message": [NOT_A_STRING],
            }),
        ),
    ] {
        let (status, answer) = app.post("/api/leads/", Some(&alice), body.clone()).await;
        assert_eq!(status, Status::BadRequest, "{body}");
        assert_eq!(answer, expected, "{body}");
    }
    assert_eq!(lead_count(&app).await, 0);
}

async fn fields_are_trimmed_and_blank_null_or_non_strings_rejected(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": "  Ann  ", "email": " ann@example.com\n", "message": "\t hi there \r\n"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(
        (&body["name"], &body["email"], &body["message"]),
        (&json!("Ann"), &json!("ann@example.com"), &json!("hi there"))
    );
    assert_eq!(
        stored(&app, &body["id"]).await,
        format!("Ann | ann@example.com | hi there | {alice_id}")
    );
    let path = format!("/api/leads/{}/", body["id"]);

    for (value, message) in [
        (json!(""), BLANK),
        (json!(" \t\n "), BLANK),
        (json!(null), NULL),
        (json!(true), NOT_A_STRING),
        (json!(false), NOT_A_STRING),
        (json!([]), NOT_A_STRING),
        (json!(["ann@example.com"]), NOT_A_STRING),
        (json!({}), NOT_A_STRING),
        (json!({"a": "b"}), NOT_A_STRING),
    ] {
        let all = json!({"name": value, "email": value, "message": value});
        let expected = json!({"name": [message], "email": [message], "message": [message]});
        let (status, answer) = app.post("/api/leads/", Some(&alice), all.clone()).await;
        assert_eq!(
            (status, answer),
            (Status::BadRequest, expected.clone()),
            "POST {all}"
        );
        let (status, answer) = app.put(&path, Some(&alice), all.clone()).await;
        assert_eq!(
            (status, answer),
            (Status::BadRequest, expected),
            "PUT {all}"
        );
        for field in ["name", "email", "message"] {
            let one = json!({ field: value });
            let (status, answer) = app.patch(&path, Some(&alice), one.clone()).await;
            assert_eq!(status, Status::BadRequest, "PATCH {one}");
            assert_eq!(answer, json!({ field: [message] }), "PATCH {one}");
        }
    }
    assert_eq!(lead_count(&app).await, 1);
    assert_eq!(
        stored(&app, &body["id"]).await,
        format!("Ann | ann@example.com | hi there | {alice_id}")
    );
}

async fn numbers_are_accepted_as_text(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": 42, "email": "n@example.com", "message": 1.5}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(
        (&body["name"], &body["message"]),
        (&json!("42"), &json!("1.5"))
    );
    let path = format!("/api/leads/{}/", body["id"]);
    let (status, body) = app.patch(&path, Some(&alice), json!({"name": -7})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["name"], "-7");
    let (status, body) = app.patch(&path, Some(&alice), json!({"email": 12})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [INVALID_EMAIL]}));
}

async fn max_lengths_count_characters_after_trimming(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let too_long = |max: usize| format!("Ensure this field has no more than {max} characters.");
    // Exactly at the limit, in multi-byte characters, with whitespace around.
    let name = "é".repeat(100);
    let email = format!("{}@example.com", "a".repeat(88));
    let message = "ü".repeat(500);
    assert_eq!(email.chars().count(), 100);
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": format!("  {name} "), "email": email, "message": format!("\n{message}\n")}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(
        (&body["name"], &body["email"], &body["message"]),
        (&json!(name), &json!(email), &json!(message))
    );
    let path = format!("/api/leads/{}/", body["id"]);
    assert_eq!(
        app.texts(&format!(
            "SELECT message FROM leads WHERE id = {}",
            body["id"]
        ))
        .await,
        [message.as_str()]
    );

    // One over.
    let over = json!({
        "name": "é".repeat(101),
        "email": format!("{}@example.com", "a".repeat(89)),
        "message": "ü".repeat(501),
    });
    let expected = json!({
        "name": [too_long(100)], "email": [too_long(100)], "message": [too_long(500)],
    });
    let (status, answer) = app.post("/api/leads/", Some(&alice), over.clone()).await;
    assert_eq!((status, answer), (Status::BadRequest, expected.clone()));
    let (status, answer) = app.put(&path, Some(&alice), over.clone()).await;
    assert_eq!((status, answer), (Status::BadRequest, expected));
    let (status, answer) = app
        .patch(&path, Some(&alice), json!({"message": over["message"]}))
        .await;
    assert_eq!(
        (status, answer),
        (Status::BadRequest, json!({"message": [too_long(500)]}))
    );
    assert_eq!(lead_count(&app).await, 1);
}

async fn unicode_round_trips_in_every_field(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let name = "Zoë 李小龍 🚀 Ñandú";
    let email = "zoe@exämple.de";
    let message = "Привет, мир! 👋 \u{200B}zero-width, \"quotes\", <tags> & 'apostrophes' \\ ∑";
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": name, "email": email, "message": message}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    let expected = json!({
        "id": body["id"], "name": name, "email": email, "message": message,
        "created_at": body["created_at"], "owner": alice_id,
    });
    assert_eq!(body, expected);
    assert_eq!(
        app.get(&format!("/api/leads/{}/", body["id"]), Some(&alice))
            .await,
        (Status::Ok, expected.clone())
    );
    assert_eq!(
        app.get("/api/leads/", Some(&alice)).await,
        (Status::Ok, json!([expected]))
    );
    assert_eq!(
        stored(&app, &body["id"]).await,
        format!("{name} | {email} | {message} | {alice_id}")
    );
    let (status, found) = app
        .get("/api/leads/?search=%F0%9F%9A%80", Some(&alice))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ids(&found), [body["id"].as_i64().unwrap()]);
}

async fn null_characters_are_rejected(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": "a\u{0}b", "email": "nul@example.com", "message": "\u{0}"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({
            "name": ["Null characters are not allowed."],
            "message": ["Null characters are not allowed."],
        })
    );
    let (status, body) = send(
        &app,
        rocket::http::Method::Post,
        "/api/leads/",
        &alice,
        "application/x-www-form-urlencoded",
        "name=ok&email=nul%00%40example.com&message=ok",
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"email": ["Null characters are not allowed.", INVALID_EMAIL]})
    );
    assert_eq!(lead_count(&app).await, 0);
}

async fn lead_emails_are_unique_in_any_unicode_case(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("unicode_owner").await;
    app.create_lead(&token, "Åsa", "asa@exämple.se").await;
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&token),
            json!({"name": "Åsa", "email": "ASA@EXÄMPLE.SE", "message": "m"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"email": ["lead with this email already exists."]})
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        1
    );
}
