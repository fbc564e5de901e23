//! The lead list's options: search, ordering, and page or limit/offset
//! pagination with absolute links.

use rocket::http::uri::Host;
use rocket::http::Status;
use serde_json::{json, Value};

use crate::helpers::{read, token_header, Backend, TestApp};
use crate::leads_common::{ids, keys};
use crate::{app, on_both_backends};

on_both_backends!(
    search_ands_terms_matching_name_email_or_message,
    search_takes_percent_underscore_and_backslash_literally,
    search_counts_a_bounded_number_of_distinct_terms,
    ordering_sorts_by_fields_and_ignores_unknown_ones,
    page_pagination_answers_count_links_and_results,
    page_links_keep_the_other_parameters,
    invalid_pages_are_404,
    limit_offset_pagination_answers_count_links_and_results,
);

/// Creates one lead per name, `<name>@example.com`, as the token's user.
async fn create_leads(app: &TestApp, token: &str, names: &[&str]) -> Vec<Value> {
    let mut leads = Vec::new();
    for name in names {
        let email = format!("{}@example.com", name.to_lowercase());
        leads.push(app.create_lead(token, name, &email).await);
    }
    leads
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
