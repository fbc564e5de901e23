//! `/api/leads`: the caller's own leads, their validation (DRF's CharField
//! semantics), and the list's optional search, ordering and pagination.

use futures::future::join_all;
use rocket::http::uri::Host;
use rocket::http::Status;
use serde_json::{json, Value};

use crate::helpers::{read, token_header, Backend, TestApp};
use crate::{app, on_both_backends};

on_both_backends!(
    list_is_a_bare_array_of_the_callers_own_leads_in_id_order,
    create_answers_201_with_the_lead_owned_by_the_caller,
    retrieve_answers_the_lead,
    put_replaces_every_field_and_requires_them_all,
    patch_changes_only_the_fields_sent,
    delete_answers_204_with_an_empty_body_and_removes_the_row,
    every_path_answers_with_and_without_a_trailing_slash,
    another_users_lead_is_not_found_and_left_untouched,
    form_encoded_bodies_create_and_update_leads,
    multipart_bodies_create_leads,
    search_ands_terms_matching_name_email_or_message,
    search_takes_percent_underscore_and_backslash_literally,
    search_counts_a_bounded_number_of_distinct_terms,
    ordering_sorts_by_fields_and_ignores_unknown_ones,
    page_pagination_answers_count_links_and_results,
    page_links_keep_the_other_parameters,
    invalid_pages_are_404,
    limit_offset_pagination_answers_count_links_and_results,
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

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const INVALID_EMAIL: &str = "Enter a valid email address.";
const EMAIL_TAKEN: &str = "lead with this email already exists.";

fn not_found() -> Value {
    json!({"detail": "Not found."})
}

async fn lead_count(app: &TestApp) -> i64 {
    app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
        .await
}

/// The stored row as `name | email | message | owner`.
async fn stored(app: &TestApp, id: &Value) -> String {
    let rows = app
        .texts(&format!(
            "SELECT name || ' | ' || email || ' | ' || message || ' | ' || CAST(owner_id AS TEXT)
             FROM leads WHERE id = {id}"
        ))
        .await;
    assert_eq!(rows.len(), 1, "lead {id} should exist");
    rows.into_iter().next().unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|lead| lead["id"].as_i64().expect("an id"))
        .collect()
}

/// Creates one lead per name, `<name>@example.com`, as the token's user.
async fn create_leads(app: &TestApp, token: &str, names: &[&str]) -> Vec<Value> {
    let mut leads = Vec::new();
    for name in names {
        let email = format!("{}@example.com", name.to_lowercase());
        leads.push(app.create_lead(token, name, &email).await);
    }
    leads
}

/// Sends `body` in `content_type` as the token's user.
async fn send(
    app: &TestApp,
    method: rocket::http::Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: &str,
) -> (Status, Value) {
    let auth = format!("Token {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", content_type),
    ];
    let reply = app
        .send(method, path, &headers, Some(body.as_bytes()))
        .await;
    (reply.status, reply.body)
}

async fn list_is_a_bare_array_of_the_callers_own_leads_in_id_order(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let (carol, _) = app.register("carol").await;
    let zed = app.create_lead(&alice, "Zed", "zed@example.com").await;
    let bea = app.create_lead(&bob, "Bea", "bea@example.com").await;
    let amy = app.create_lead(&alice, "Amy", "amy@example.com").await;

    let (status, body) = app.get("/api/leads/", Some(&alice)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, json!([zed, amy]));
    assert_eq!(keys(&body[0]), keys(&zed));
    assert_eq!(app.get("/api/leads/", Some(&bob)).await.1, json!([bea]));
    assert_eq!(
        app.get("/api/leads/", Some(&carol)).await,
        (Status::Ok, json!([]))
    );
}

async fn create_answers_201_with_the_lead_owned_by_the_caller(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (_, bob_id) = app.register("bob").await;
    let before = time::OffsetDateTime::now_utc();
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({
                "name": "Ann Lee", "email": "ann@example.com", "message": "Call me",
                "owner": bob_id, "id": 999, "created_at": "2000-01-01T00:00:00.000000Z",
            }),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(
        keys(&body),
        ["id", "name", "email", "message", "created_at", "owner"]
    );
    let id = body["id"].as_i64().unwrap();
    assert_ne!(id, 999, "id is read-only");
    assert_eq!(
        body,
        json!({
            "id": id, "name": "Ann Lee", "email": "ann@example.com", "message": "Call me",
            "created_at": body["created_at"], "owner": alice_id,
        })
    );

    // created_at: now, as ISO-8601 UTC with microseconds and `Z`.
    let created_at = body["created_at"].as_str().unwrap();
    assert_eq!(created_at.len(), "2026-11-29T11:03:18.736308Z".len());
    assert!(created_at.ends_with('Z'), "{created_at}");
    let parsed =
        time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
            .expect("an RFC 3339 timestamp");
    let after = time::OffsetDateTime::now_utc();
    assert!(
        before - time::Duration::SECOND <= parsed && parsed <= after,
        "{created_at}"
    );
    let stored_micros = app
        .scalar(&format!("SELECT created_at FROM leads WHERE id = {id}"))
        .await;
    assert_eq!(
        i128::from(stored_micros) * 1_000,
        parsed.unix_timestamp_nanos()
    );

    assert_eq!(lead_count(&app).await, 1);
    assert_eq!(
        stored(&app, &body["id"]).await,
        format!("Ann Lee | ann@example.com | Call me | {alice_id}")
    );
}

async fn retrieve_answers_the_lead(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let other = app.create_lead(&alice, "Bob", "bob@example.com").await;
    for (lead, path) in [
        (&lead, format!("/api/leads/{}/", lead["id"])),
        (&other, format!("/api/leads/{}/", other["id"])),
    ] {
        let (status, body) = app.get(&path, Some(&alice)).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(&body, lead);
        assert_eq!(
            keys(&body),
            ["id", "name", "email", "message", "created_at", "owner"]
        );
    }
    let missing = other["id"].as_i64().unwrap() + 1;
    assert_eq!(
        app.get(&format!("/api/leads/{missing}/"), Some(&alice))
            .await,
        (Status::NotFound, not_found())
    );
}

async fn put_replaces_every_field_and_requires_them_all(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (_, bob_id) = app.register("bob").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let path = format!("/api/leads/{}/", lead["id"]);
    let original = format!("Ann | ann@example.com | Hello | {alice_id}");

    let (status, body) = app.put(&path, Some(&alice), json!({"name": "New"})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [REQUIRED], "message": [REQUIRED]}));
    let (status, body) = app.put(&path, Some(&alice), json!({})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"name": [REQUIRED], "email": [REQUIRED], "message": [REQUIRED]})
    );
    assert_eq!(stored(&app, &lead["id"]).await, original);

    let (status, body) = app
        .put(
            &path,
            Some(&alice),
            json!({
                "name": "Anna", "email": "anna@example.com", "message": "Changed",
                "id": 999, "owner": bob_id, "created_at": "2000-01-01T00:00:00.000000Z",
            }),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    let expected = json!({
        "id": lead["id"], "name": "Anna", "email": "anna@example.com", "message": "Changed",
        "created_at": lead["created_at"], "owner": alice_id,
    });
    assert_eq!(body, expected);
    assert_eq!(
        keys(&body),
        ["id", "name", "email", "message", "created_at", "owner"]
    );
    assert_eq!(
        stored(&app, &lead["id"]).await,
        format!("Anna | anna@example.com | Changed | {alice_id}")
    );
    assert_eq!(app.get(&path, Some(&alice)).await, (Status::Ok, expected));
    assert_eq!(lead_count(&app).await, 1);
}

async fn patch_changes_only_the_fields_sent(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let path = format!("/api/leads/{}/", lead["id"]);

    let (status, body) = app
        .patch(&path, Some(&alice), json!({"message": "Only this"}))
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    let mut expected = lead.clone();
    expected["message"] = json!("Only this");
    assert_eq!(body, expected);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        format!("Ann | ann@example.com | Only this | {alice_id}")
    );

    // Nothing sent, nothing changed.
    assert_eq!(
        app.patch(&path, Some(&alice), json!({})).await,
        (Status::Ok, expected.clone())
    );

    let (status, body) = app
        .patch(
            &path,
            Some(&alice),
            json!({"name": "Anna", "email": "anna@example.com"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    expected["name"] = json!("Anna");
    expected["email"] = json!("anna@example.com");
    assert_eq!(body, expected);

    // A failing PATCH changes nothing, not even its valid fields.
    let (status, body) = app
        .patch(
            &path,
            Some(&alice),
            json!({"name": "Zed", "email": "not-an-email"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [INVALID_EMAIL]}));
    let (status, body) = app.patch(&path, Some(&alice), json!({"name": " "})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"name": [BLANK]}));
    assert_eq!(
        stored(&app, &lead["id"]).await,
        format!("Anna | anna@example.com | Only this | {alice_id}")
    );
}

async fn delete_answers_204_with_an_empty_body_and_removes_the_row(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let kept = app.create_lead(&alice, "Bob", "bob@example.com").await;
    let path = format!("/api/leads/{}/", lead["id"]);

    let response = app
        .client
        .delete(path.clone())
        .header(token_header(&alice))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(response.into_string().await.unwrap_or_default(), "");

    assert_eq!(
        app.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM leads WHERE id = {}",
            lead["id"]
        ))
        .await,
        0
    );
    assert_eq!(lead_count(&app).await, 1);
    assert_eq!(
        app.get(&path, Some(&alice)).await,
        (Status::NotFound, not_found())
    );
    assert_eq!(
        app.delete(&path, Some(&alice)).await,
        (Status::NotFound, not_found())
    );
    assert_eq!(app.get("/api/leads/", Some(&alice)).await.1, json!([kept]));
}

async fn every_path_answers_with_and_without_a_trailing_slash(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (status, first) = app
        .post(
            "/api/leads",
            Some(&alice),
            json!({"name": "Ann", "email": "ann@example.com", "message": "Hi"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{first}");
    let (status, second) = app
        .post(
            "/api/leads/",
            Some(&alice),
            json!({"name": "Bob", "email": "bob@example.com", "message": "Hi"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{second}");

    let item = format!("/api/leads/{}", first["id"]);
    for path in ["/api/leads", "/api/leads?search=ann", "/api/leads?page=1"] {
        let bare = app.get(path, Some(&alice)).await;
        let slashed = app
            .get(&path.replacen("leads", "leads/", 1), Some(&alice))
            .await;
        assert_eq!(bare.0, Status::Ok, "{path}");
        assert_eq!(bare, slashed, "{path}");
    }
    assert_eq!(
        app.get("/api/leads?search=ann", Some(&alice)).await.1,
        json!([first])
    );
    let bare = app.get(&item, Some(&alice)).await;
    assert_eq!(bare, (Status::Ok, first.clone()));
    assert_eq!(app.get(&format!("{item}/"), Some(&alice)).await, bare);

    for path in [item.clone(), format!("{item}/")] {
        let (status, body) = app
            .put(
                &path,
                Some(&alice),
                json!({"name": "Ann", "email": "ann@example.com", "message": path}),
            )
            .await;
        assert_eq!(status, Status::Ok, "PUT {path}: {body}");
        assert_eq!(body["message"], json!(path));
        let (status, body) = app.patch(&path, Some(&alice), json!({"name": path})).await;
        assert_eq!(status, Status::Ok, "PATCH {path}: {body}");
        assert_eq!(body["name"], json!(path));
    }
    for path in [
        "/api/auth/user",
        "/api/auth/user/",
        "/api/user",
        "/api/user/",
    ] {
        let (status, body) = app.get(path, Some(&alice)).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert_eq!(body["username"], "alice");
    }
    assert_eq!(
        app.delete(&item, Some(&alice)).await,
        (Status::NoContent, Value::Null)
    );
    assert_eq!(
        app.delete(&format!("/api/leads/{}/", second["id"]), Some(&alice))
            .await,
        (Status::NoContent, Value::Null)
    );
    assert_eq!(lead_count(&app).await, 0);
}

async fn another_users_lead_is_not_found_and_left_untouched(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let path = format!("/api/leads/{}/", lead["id"]);
    let original = format!("Ann | ann@example.com | Hello | {alice_id}");
    let full = json!({"name": "Mine", "email": "mine@example.com", "message": "Taken"});

    assert_eq!(
        app.get(&path, Some(&bob)).await,
        (Status::NotFound, not_found())
    );
    assert_eq!(
        app.put(&path, Some(&bob), full.clone()).await,
        (Status::NotFound, not_found())
    );
    assert_eq!(
        app.patch(&path, Some(&bob), json!({"name": "Mine"})).await,
        (Status::NotFound, not_found())
    );
    // The lookup comes before validation: an invalid body is still a 404.
    assert_eq!(
        app.put(&path, Some(&bob), json!({"name": ""})).await,
        (Status::NotFound, not_found())
    );
    assert_eq!(
        app.delete(&path, Some(&bob)).await,
        (Status::NotFound, not_found())
    );

    assert_eq!(stored(&app, &lead["id"]).await, original);
    assert_eq!(lead_count(&app).await, 1);
    assert_eq!(app.get("/api/leads/", Some(&bob)).await.1, json!([]));
    assert_eq!(app.get(&path, Some(&alice)).await, (Status::Ok, lead));
}

async fn form_encoded_bodies_create_and_update_leads(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let form = "application/x-www-form-urlencoded";

    let (status, body) = send(
        &app,
        rocket::http::Method::Post,
        "/api/leads/",
        &alice,
        form,
        "name=Ann+Lee&email=ann%40example.com&message=Caf%C3%A9+%26+more%3D&owner=999",
    )
    .await;
    assert_eq!(status, Status::Created, "{body}");
    let id = body["id"].clone();
    assert_eq!(
        body,
        json!({
            "id": body["id"], "name": "Ann Lee", "email": "ann@example.com",
            "message": "Café & more=", "created_at": body["created_at"], "owner": alice_id,
        })
    );
    let path = format!("/api/leads/{}/", body["id"]);

    // A repeated field: the last value wins, as in Django's QueryDict.
    let (status, body) = send(
        &app,
        rocket::http::Method::Patch,
        &path,
        &alice,
        form,
        "message=first&message=second",
    )
    .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["message"], "second");
    assert_eq!(body["name"], "Ann Lee");

    let (status, body) = send(
        &app,
        rocket::http::Method::Put,
        &path,
        &alice,
        form,
        "name=&email=bad",
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"name": [BLANK], "email": [INVALID_EMAIL], "message": [REQUIRED]})
    );
    assert_eq!(
        stored(&app, &id).await,
        format!("Ann Lee | ann@example.com | second | {alice_id}")
    );
    assert_eq!(lead_count(&app).await, 1);
}

async fn multipart_bodies_create_leads(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let body = "--XyZ\r\n\
        Content-Disposition: form-data; name=\"name\"\r\n\r\n\
        Mona Lisa\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"email\"\r\n\r\n\
        mona@example.com\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"attachment\"; filename=\"a.txt\"\r\n\
        Content-Type: text/plain\r\n\r\n\
        ignored file content\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"message\"\r\n\r\n\
        Line one\r\nLine two ✓\r\n\
        --XyZ--\r\n";
    let (status, created) = send(
        &app,
        rocket::http::Method::Post,
        "/api/leads/",
        &alice,
        "multipart/form-data; boundary=XyZ",
        body,
    )
    .await;
    assert_eq!(status, Status::Created, "{created}");
    assert_eq!(
        created,
        json!({
            "id": created["id"], "name": "Mona Lisa", "email": "mona@example.com",
            "message": "Line one\r\nLine two ✓", "created_at": created["created_at"],
            "owner": alice_id,
        })
    );

    let missing =
        "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nNo Email\r\n--XyZ--\r\n";
    let (status, body) = send(
        &app,
        rocket::http::Method::Post,
        "/api/leads/",
        &alice,
        "multipart/form-data; boundary=XyZ",
        missing,
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"email": [REQUIRED], "message": [REQUIRED]}));
    assert_eq!(lead_count(&app).await, 1);
}

async fn search_ands_terms_matching_name_email_or_message(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let mut ids_by_name = Vec::new();
    for (name, email, message) in [
        ("Alice Smith", "alice@acme.com", "Wants a demo"),
        (
            "Bob Jones",
            "bob@globex.com",
            "Pricing for the ACME subsidiary",
        ),
        ("Carol", "carol@initech.com", "Nothing here"),
    ] {
        let (status, body) = app
            .post(
                "/api/leads/",
                Some(&alice),
                json!({"name": name, "email": email, "message": message}),
            )
            .await;
        assert_eq!(status, Status::Created, "{body}");
        ids_by_name.push(body["id"].as_i64().unwrap());
    }
    let [smith, jones, carol] = ids_by_name[..] else {
        unreachable!()
    };
    app.create_lead(&bob, "Acme Demo", "acme@example.com").await;

    for (query, expected) in [
        ("acme", vec![smith, jones]),
        ("AcMe", vec![smith, jones]),
        ("acme%20DEMO", vec![smith]),
        ("acme+pricing", vec![jones]),
        ("acme,pricing", vec![jones]),
        ("%20%20smith%20%20", vec![smith]),
        ("initech.com", vec![carol]),
        ("o", vec![smith, jones, carol]),
        ("acme%20nothing", vec![]),
        ("zzz", vec![]),
        ("", vec![smith, jones, carol]),
    ] {
        let (status, body) = app
            .get(&format!("/api/leads/?search={query}"), Some(&alice))
            .await;
        assert_eq!(status, Status::Ok, "{query}");
        assert_eq!(ids(&body), expected, "?search={query}");
    }
    let (_, body) = app
        .get("/api/leads/?search=acme&page=1", Some(&alice))
        .await;
    assert_eq!(body["count"], 2);
    assert_eq!(ids(&body["results"]), [smith, jones]);
}

async fn search_takes_percent_underscore_and_backslash_literally(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let mut created = Vec::new();
    for (name, email) in [
        ("100% sure", "sure@example.com"),
        ("100 percent", "percent@example.com"),
        ("a_b", "ab@example.com"),
        ("aXb", "axb@example.com"),
        ("back\\slash", "slash@example.com"),
    ] {
        created.push(
            app.create_lead(&alice, name, email).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let [sure, _percent, underscore, _axb, backslash] = created[..] else {
        unreachable!()
    };
    for (query, expected) in [
        ("%25", vec![sure]),
        ("100%25", vec![sure]),
        ("_", vec![underscore]),
        ("a_b", vec![underscore]),
        ("%5C", vec![backslash]),
        ("k%5Cs", vec![backslash]),
        ("%25%25", vec![]),
    ] {
        let (status, body) = app
            .get(&format!("/api/leads/?search={query}"), Some(&alice))
            .await;
        assert_eq!(status, Status::Ok, "{query}");
        assert_eq!(ids(&body), expected, "?search={query}");
    }
}

async fn search_counts_a_bounded_number_of_distinct_terms(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    let mut both = Vec::new();
    for (name, email) in [("Ann", "ann@example.com"), ("Bob", "bob@example.com")] {
        let (status, body) = app
            .post(
                "/api/leads/",
                Some(&alice),
                json!({"name": name, "email": email, "message": alphabet}),
            )
            .await;
        assert_eq!(status, Status::Created, "{body}");
        both.push(body["id"].as_i64().unwrap());
    }
    let search = |terms: &[&str]| format!("/api/leads/?search={}", terms.join("+"));

    // Repeated terms count once.
    let mut terms = vec!["0"; 100];
    terms.push("ann");
    assert_eq!(
        ids(&app.get(&search(&terms), Some(&alice)).await.1),
        [both[0]]
    );

    // Distinct terms matching both leads, up to the maximum: a further term
    // is ignored, while one within the maximum still narrows the result.
    let max = leads::leads::list::MAX_SEARCH_TERMS;
    let pairs: Vec<&str> = (0..alphabet.len() - 1)
        .map(|i| &alphabet[i..i + 2])
        .collect();
    assert!(pairs.len() >= max);
    let mut terms = pairs[..max].to_vec();
    assert_eq!(ids(&app.get(&search(&terms), Some(&alice)).await.1), both);
    terms.push("ann");
    assert_eq!(ids(&app.get(&search(&terms), Some(&alice)).await.1), both);
    terms[max - 1] = "ann";
    assert_eq!(
        ids(&app.get(&search(&terms), Some(&alice)).await.1),
        [both[0]]
    );

    // Thousands of distinct terms are no server error.
    let many: Vec<String> = (0..5000).map(|i| format!("t{i}")).collect();
    let (status, body) = app
        .get(
            &format!("/api/leads/?search={}", many.join("+")),
            Some(&alice),
        )
        .await;
    assert_eq!((status, body), (Status::Ok, json!([])));
}

async fn ordering_sorts_by_fields_and_ignores_unknown_ones(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let leads = create_leads(&app, &alice, &["Bob", "Amy", "Bobby", "Cid"]).await;
    let id: Vec<i64> = leads.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    // Two leads share a name, and creation order differs from id order.
    app.execute(&format!(
        "UPDATE leads SET name = 'Bob' WHERE id = {}",
        id[2]
    ))
    .await;
    for (lead, micros) in id.iter().zip([1_000_000, 4_000_000, 3_000_000, 2_000_000]) {
        app.execute(&format!(
            "UPDATE leads SET created_at = {} WHERE id = {lead}",
            1_800_000_000_000_000_i64 + micros
        ))
        .await;
    }
    let [bob, amy, bobby, cid] = id[..] else {
        unreachable!()
    };

    for (ordering, expected) in [
        ("name,-created_at", vec![amy, bobby, bob, cid]),
        ("name,created_at", vec![amy, bob, bobby, cid]),
        ("%20name%20,%20-created_at%20", vec![amy, bobby, bob, cid]),
        ("-name,id", vec![cid, bob, bobby, amy]),
        ("-name,-id", vec![cid, bobby, bob, amy]),
        ("created_at", vec![bob, cid, bobby, amy]),
        ("-created_at", vec![amy, bobby, cid, bob]),
        ("email", vec![amy, bob, bobby, cid]),
        ("-id", vec![cid, bobby, amy, bob]),
        ("bogus", vec![bob, amy, bobby, cid]),
        ("bogus,-id", vec![cid, bobby, amy, bob]),
        (
            "password,-owner__password,-created_at",
            vec![amy, bobby, cid, bob],
        ),
        ("", vec![bob, amy, bobby, cid]),
    ] {
        let (status, body) = app
            .get(&format!("/api/leads/?ordering={ordering}"), Some(&alice))
            .await;
        assert_eq!(status, Status::Ok, "{ordering}");
        assert_eq!(ids(&body), expected, "?ordering={ordering}");
    }
    let (_, body) = app
        .get("/api/leads/?ordering=-created_at&search=bob", Some(&alice))
        .await;
    assert_eq!(ids(&body), [bobby, bob]);
}

async fn page_pagination_answers_count_links_and_results(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("page_size", 2)));
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let leads = create_leads(&app, &alice, &["A", "B", "C", "D", "E"]).await;
    let base = "http://localhost/api/leads/";

    for (query, next, previous, results) in [
        (
            "page=1",
            json!(format!("{base}?page=2")),
            json!(null),
            &leads[0..2],
        ),
        (
            "page=2",
            json!(format!("{base}?page=3")),
            json!(base),
            &leads[2..4],
        ),
        (
            "page=3",
            json!(null),
            json!(format!("{base}?page=2")),
            &leads[4..],
        ),
        (
            "page=last",
            json!(null),
            json!(format!("{base}?page=2")),
            &leads[4..],
        ),
    ] {
        for path in ["/api/leads/", "/api/leads"] {
            let (status, body) = app.get(&format!("{path}?{query}"), Some(&alice)).await;
            assert_eq!(status, Status::Ok, "{query}");
            assert_eq!(keys(&body), ["count", "next", "previous", "results"]);
            assert_eq!(
                body,
                json!({"count": 5, "next": next, "previous": previous, "results": results}),
                "{path}?{query}"
            );
        }
    }

    // No leads: one empty page.
    for query in ["page=1", "page=last"] {
        assert_eq!(
            app.get(&format!("/api/leads/?{query}"), Some(&bob)).await,
            (
                Status::Ok,
                json!({"count": 0, "next": null, "previous": null, "results": []})
            )
        );
    }

    // Links are absolute URLs on the host the request was sent to.
    let mut request = app
        .client
        .get("/api/leads/?page=2")
        .header(token_header(&alice));
    request
        .inner_mut()
        .set_host(Host::parse("leads.example.com:8000").unwrap());
    let (status, body) = read(request.dispatch().await).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        body["next"],
        "http://leads.example.com:8000/api/leads/?page=3"
    );
    assert_eq!(body["previous"], "http://leads.example.com:8000/api/leads/");
}

async fn page_links_keep_the_other_parameters(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("page_size", 1)));
    let (alice, _) = app.register("alice").await;
    let leads = create_leads(&app, &alice, &["Ann", "Anna", "Annie", "Bob"]).await;
    let base = "http://localhost/api/leads/";

    // DRF rebuilds the query string with its parameters sorted by name.
    let (status, body) = app
        .get("/api/leads/?search=ann&page=2&ordering=-id", Some(&alice))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        body,
        json!({
            "count": 3,
            "next": format!("{base}?ordering=-id&page=3&search=ann"),
            "previous": format!("{base}?ordering=-id&search=ann"),
            "results": [leads[1]],
        })
    );
    let (_, body) = app
        .get("/api/leads/?search=ann&limit=1&offset=1", Some(&alice))
        .await;
    assert_eq!(body["next"], format!("{base}?limit=1&offset=2&search=ann"));
    assert_eq!(body["previous"], format!("{base}?limit=1&search=ann"));
    assert_eq!(body["results"], json!([leads[1]]));
}

async fn invalid_pages_are_404(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("page_size", 2)));
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    create_leads(&app, &alice, &["A", "B", "C", "D", "E"]).await;
    for page in [
        "0",
        "-1",
        "abc",
        "1.5",
        "4",
        "99999999999999999999",
        "18446744073709551615",
        "LAST",
    ] {
        let (status, body) = app
            .get(&format!("/api/leads/?page={page}"), Some(&alice))
            .await;
        assert_eq!(status, Status::NotFound, "page={page}");
        assert_eq!(body, json!({"detail": "Invalid page."}), "page={page}");
    }
    assert_eq!(
        app.get("/api/leads/?page=2", Some(&bob)).await,
        (Status::NotFound, json!({"detail": "Invalid page."}))
    );
}

async fn limit_offset_pagination_answers_count_links_and_results(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("page_size", 2)));
    let (alice, _) = app.register("alice").await;
    let leads = create_leads(&app, &alice, &["A", "B", "C", "D", "E"]).await;
    let url = |query: &str| json!(format!("http://localhost/api/leads/?{query}"));

    for (query, next, previous, results) in [
        (
            "limit=2",
            url("limit=2&offset=2"),
            json!(null),
            &leads[0..2],
        ),
        (
            "limit=2&offset=2",
            url("limit=2&offset=4"),
            url("limit=2"),
            &leads[2..4],
        ),
        (
            "offset=4&limit=2",
            json!(null),
            url("limit=2&offset=2"),
            &leads[4..],
        ),
        (
            "limit=2&offset=3",
            json!(null),
            url("limit=2&offset=1"),
            &leads[3..],
        ),
        // The limit defaults to the page size.
        (
            "offset=1",
            url("limit=2&offset=3"),
            url("limit=2"),
            &leads[1..3],
        ),
        (
            "limit=0",
            url("limit=2&offset=2"),
            json!(null),
            &leads[0..2],
        ),
        (
            "limit=abc&offset=-3",
            url("limit=2&offset=2"),
            json!(null),
            &leads[0..2],
        ),
        ("limit=10", json!(null), json!(null), &leads[..]),
        (
            "limit=10&offset=10",
            json!(null),
            url("limit=10"),
            &leads[5..],
        ),
        (
            "limit=3&offset=1",
            url("limit=3&offset=4"),
            url("limit=3"),
            &leads[1..4],
        ),
    ] {
        let (status, body) = app.get(&format!("/api/leads/?{query}"), Some(&alice)).await;
        assert_eq!(status, Status::Ok, "{query}");
        assert_eq!(keys(&body), ["count", "next", "previous", "results"]);
        assert_eq!(
            body,
            json!({"count": 5, "next": next, "previous": previous, "results": results}),
            "?{query}"
        );
    }
    // Taking precedence over ?page=, which the links keep.
    let (_, body) = app.get("/api/leads/?page=2&limit=1", Some(&alice)).await;
    assert_eq!(
        body,
        json!({
            "count": 5, "next": url("limit=1&offset=1&page=2"), "previous": null,
            "results": [leads[0]],
        })
    );
}

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
