//! A lead name that is HTML comes out as text on every page that shows it:
//! the owner's list, search, forms, confirmations and flash messages, and
//! the staff's list, edit page and bulk-delete confirmation.

use rocket::http::Status;

use crate::browser::Browser;
use crate::helpers::{Backend, TestApp};
use crate::{app, on_both_backends};

on_both_backends!(an_html_lead_name_is_escaped_on_every_page);

/// Closes an attribute value and opens a script: unescaped, it runs.
const NAME: &str = "\"><script>alert(1)</script>";
const NAME_IN_FORM: &str = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
/// `NAME` as Tera escapes it.
const ESCAPED: &str = "&quot;&gt;&lt;script&gt;alert(1)&lt;&#x2F;script&gt;";

/// The page shows the name, escaped, and no markup of it.
fn assert_escaped(what: &str, status: Status, page: &str, expected: Status) {
    assert_eq!(status, expected, "{what}");
    assert!(!page.contains("<script"), "{what}: raw markup in\n{page}");
    assert!(!page.contains(NAME), "{what}");
    assert!(page.contains(ESCAPED), "{what}: no escaped name in\n{page}");
}

/// Posts a form and follows its redirect: the page with the flash message.
async fn post_then_follow(
    browser: &mut Browser,
    app: &TestApp,
    path: &str,
    form: &str,
) -> (Status, String) {
    let (status, _, location) = browser.post_form(app, path, form, &[]).await;
    assert_eq!(status, Status::SeeOther, "{path}");
    let (status, page, _) = browser.get(app, &location.unwrap()).await;
    (status, page)
}

async fn an_html_lead_name_is_escaped_on_every_page(backend: Backend) {
    let app = app!(backend);
    let mut owner = Browser::default();
    owner.sign_up(&app, "owner").await;
    let csrf = owner.csrf(&app).await;
    let fields = format!("csrf_token={csrf}&name={NAME_IN_FORM}&message=hi");
    let flash = |done: &str| format!("Lead “{ESCAPED}” {done}.");

    let (status, page) = post_then_follow(
        &mut owner,
        &app,
        "/leads/new",
        &format!("{fields}&email=x%40example.com"),
    )
    .await;
    assert_escaped("list after create", status, &page, Status::Ok);
    assert!(page.contains(&flash("created")), "the flash message");
    let id = app.scalar("SELECT id FROM leads").await;
    let (status, page, _) = owner
        .post_form(&app, "/leads/new", &format!("{fields}&email="), &[])
        .await;
    assert_escaped(
        "new form with errors",
        status,
        &page,
        Status::UnprocessableEntity,
    );

    for path in [
        format!("/leads/{id}/edit"),
        format!("/leads/{id}/delete"),
        format!("/leads?search={NAME_IN_FORM}"),
    ] {
        let (status, page, _) = owner.get(&app, &path).await;
        assert_escaped(&path, status, &page, Status::Ok);
    }
    let edit = format!("/leads/{id}/edit");
    let (status, page, _) = owner
        .post_form(&app, &edit, &format!("{fields}&email="), &[])
        .await;
    assert_escaped(
        "edit form with errors",
        status,
        &page,
        Status::UnprocessableEntity,
    );
    let (status, page) = post_then_follow(
        &mut owner,
        &app,
        &edit,
        &format!("{fields}&email=y%40example.com"),
    )
    .await;
    assert_escaped("list after edit", status, &page, Status::Ok);
    assert!(page.contains(&flash("saved")), "the flash message");

    // The staff's pages.
    let mut boss = Browser::default();
    boss.sign_up(&app, "boss").await;
    app.execute("UPDATE users SET is_staff = TRUE WHERE username = 'boss'")
        .await;
    let csrf = boss.csrf(&app).await;
    let fields = format!("csrf_token={csrf}&name={NAME_IN_FORM}&message=hi");
    for path in [
        "/admin/leads".to_owned(),
        format!("/admin/leads?q={NAME_IN_FORM}"),
        format!("/admin/leads/{id}"),
    ] {
        let (status, page, _) = boss.get(&app, &path).await;
        assert_escaped(&path, status, &page, Status::Ok);
    }
    let admin_edit = format!("/admin/leads/{id}");
    let (status, page, _) = boss
        .post_form(&app, &admin_edit, &format!("{fields}&email="), &[])
        .await;
    assert_escaped(
        "admin edit with errors",
        status,
        &page,
        Status::UnprocessableEntity,
    );
    let (status, page) = post_then_follow(
        &mut boss,
        &app,
        &admin_edit,
        &format!("{fields}&email=z%40example.com"),
    )
    .await;
    assert_escaped("admin list after edit", status, &page, Status::Ok);
    assert!(page.contains(&flash("saved")), "the flash message");
    let (status, page, _) = boss
        .post_form(
            &app,
            "/admin/leads/action",
            &format!("csrf_token={csrf}&action=delete&ids={id}"),
            &[],
        )
        .await;
    assert_escaped("bulk delete confirmation", status, &page, Status::Ok);

    // Deleting it: the flash names it one last time.
    let csrf = owner.csrf(&app).await;
    let delete = format!("/leads/{id}/delete");
    let (status, page) =
        post_then_follow(&mut owner, &app, &delete, &format!("csrf_token={csrf}")).await;
    assert_escaped("list after delete", status, &page, Status::Ok);
    assert!(page.contains(&flash("deleted")), "the flash message");
}
