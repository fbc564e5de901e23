//! `/api/leads` CRUD: the caller's own leads listed, created, retrieved,
//! replaced, patched and deleted, on paths with or without a trailing slash,
//! from JSON, form and multipart bodies; another user's lead is a 404.

use rocket::http::Status;
use serde_json::{json, Value};

use crate::helpers::{not_found, token_header, Backend, BLANK, INVALID_EMAIL, REQUIRED};
use crate::leads_common::{keys, lead_count, send, stored};
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
);

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
