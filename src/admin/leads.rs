//! `/admin/leads`: every lead, with search, filters, sorting, pages, bulk
//! delete and reassign, CSV export, and an edit page for any lead.

use rocket::form::{Form, Lenient};
use rocket::futures::StreamExt;
use rocket::http::{ContentType, Header};
use rocket::response::stream::TextStream;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, FromForm, Responder, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::db::{Db, DbPool};
use crate::error::Error;
use crate::http::Body;
use crate::leads::service::{self as leads, parse_id, Scope};
use crate::listing::{ListNav, Query};
use crate::pages::{FormOutcome, PageError, View};

use super::service::{self, AdminLead, LeadFilters, PAGE_SIZES};
use super::{audit, Staff};

pub fn routes() -> Vec<Route> {
    routes![list, export, action, confirm_delete, edit_form, edit]
}

const HEADERS: [(&str, &str); 6] = [
    ("id", "ID"),
    ("name", "Name"),
    ("email", "Email"),
    ("message", "Message"),
    ("owner", "Owner"),
    ("created", "Created"),
];

/// The list's parameters, in the order its links name them, so that every
/// link keeps the search, filters, sort and page together.
fn list_query(filters: &LeadFilters) -> Query {
    Query::default()
        .set("q", filters.q.as_deref())
        .set("owner", filters.owner.as_deref())
        .set("created_from", filters.created_from.as_deref())
        .set("created_to", filters.created_to.as_deref())
        .set("ordering", filters.ordering.as_deref())
        .set("per_page", filters.per_page.as_deref())
        .set("page", filters.page.as_deref())
}

fn row(lead: &AdminLead) -> Value {
    json!({
        "id": lead.id,
        "name": lead.name,
        "email": lead.email,
        "message": lead.message,
        "owner_id": lead.owner_id,
        "owner": lead.owner_username,
        "created_at": lead.created_at.html(),
        "created_display": lead.created_at.short(),
    })
}

/// `<option>`s for an owner picker, built here rather than in the template:
/// with a thousand users the template loop was most of a page's time.
fn owner_options(choices: &[(i64, String)], selected: Option<i64>) -> String {
    let mut html = String::with_capacity(choices.len() * 40);
    for (id, username) in choices {
        let chosen = if selected == Some(*id) {
            " selected"
        } else {
            ""
        };
        html.push_str(&format!(
            "<option value=\"{id}\"{chosen}>{}</option>",
            escape_html(username)
        ));
    }
    html
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[get("/admin/leads?<filters..>")]
async fn list(
    _staff: Staff,
    view: View,
    db: &Db,
    filters: LeadFilters,
) -> Result<Template, PageError> {
    let (page, owners) = rocket::futures::future::try_join(
        service::list_leads(db, &filters),
        service::owner_choices(db),
    )
    .await?;
    let links = list_query(&filters);
    let (shown, sort) = ((page.page, page.pages), Some(filters.order()));
    let nav = ListNav::new("/admin/leads", &links, shown, &HEADERS, sort);
    Ok(view.render(
        "admin/leads",
        "admin",
        json!({
            "leads": page.rows.iter().map(row).collect::<Vec<_>>(),
            "count": page.count,
            "total": page.total,
            "nav": nav,
            "filters": filters,
            "per_page": filters.per_page(),
            "page_sizes": PAGE_SIZES,
            "owner_options": owner_options(&owners, filters.owner_id()),
            "reassign_options": owner_options(&owners, None),
            "export_url": links.clone().remove("page").url("/admin/leads/export.csv"),
            "here": links.url("/admin/leads"),
        }),
    ))
}

/// A CSV download.
#[derive(Responder)]
struct Csv<S> {
    body: S,
    content_type: ContentType,
    disposition: Header<'static>,
}

/// Spreadsheets run cells that start with these as formulas; a leading `'`
/// keeps them text (OWASP's CSV injection advice).
fn csv_cell(text: &str) -> String {
    let text = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv_line(lead: &AdminLead) -> String {
    let cells = [
        lead.id.to_string(),
        csv_cell(&lead.name),
        csv_cell(&lead.email),
        csv_cell(&lead.message),
        csv_cell(&lead.owner_username),
        lead.created_at.to_string(),
    ];
    format!("{}\r\n", cells.join(","))
}

/// The current search, filters and sort as CSV, streamed row by row from
/// the database, so memory stays flat however many leads match.
#[get("/admin/leads/export.csv?<filters..>")]
async fn export(staff: Staff, db: &Db, filters: LeadFilters) -> Csv<TextStream![String]> {
    let pool: DbPool = (**db).clone();
    let sql = filters.export_sql();
    let detail = format!("filters={:?}", list_query(&filters).url(""));
    audit(&staff.0, "export_leads", &detail);
    let body = TextStream! {
        yield "id,name,email,message,owner,created_at\r\n".to_owned();
        let mut reader = match pool.read().await {
            Ok(reader) => reader,
            Err(e) => {
                rocket::error!("CSV export failed: {e}");
                return;
            }
        };
        let mut rows = sql.fetch_stream::<AdminLead>(&mut reader);
        while let Some(row) = rows.next().await {
            match row {
                Ok(lead) => yield csv_line(&lead),
                Err(e) => {
                    // Headers are gone already: cut the file short, loudly in the log.
                    rocket::error!("CSV export failed midway: {e}");
                    break;
                }
            }
        }
    };
    Csv {
        body,
        content_type: ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        disposition: Header::new("Content-Disposition", "attachment; filename=\"leads.csv\""),
    }
}

/// The bulk-action form of the list: the selected ids and what to do.
#[derive(FromForm)]
struct BulkAction {
    action: String,
    #[field(default = Vec::new())]
    ids: Vec<i64>,
    owner: Option<i64>,
    #[field(default = String::from("/admin/leads"))]
    back: String,
}

/// Where to return: only our own list, with its query string.
fn back_to(back: &str) -> String {
    if back.starts_with("/admin/leads") && !back.contains(['\r', '\n']) {
        back.to_owned()
    } else {
        "/admin/leads".to_owned()
    }
}

/// "1 lead", "2 leads".
fn leads_counted(n: u64) -> String {
    format!("{n} lead{}", if n == 1 { "" } else { "s" })
}

#[post("/admin/leads/action", data = "<form>")]
async fn action(
    staff: Staff,
    view: View,
    db: &Db,
    form: Form<Lenient<BulkAction>>,
) -> Result<Either<Template, Flash<Redirect>>, PageError> {
    let back = back_to(&form.back);
    let outcome = match (form.action.as_str(), form.owner) {
        _ if form.ids.is_empty() => Err("Select at least one lead first."),
        // Deleting asks first: the confirmation page lists what will go.
        ("delete", _) => {
            let leads = service::leads_by_id(db, &form.ids).await?;
            let leads: Vec<Value> = leads.iter().map(row).collect();
            let context = json!({ "leads": leads, "back": back });
            let page = view.render("admin/confirm_delete", "admin", context);
            return Ok(Either::Left(page));
        }
        ("reassign", None) => Err("Choose the new owner."),
        ("reassign", Some(owner)) => match service::reassign_leads(db, &form.ids, owner).await {
            Ok(moved) => {
                let detail = format!("count={moved} owner_id={owner}");
                audit(&staff.0, "reassign_leads", &detail);
                Ok(format!("Reassigned {}.", leads_counted(moved)))
            }
            Err(Error::NotFound) => Err("That user no longer exists."),
            Err(error) => return Err(error.into()),
        },
        _ => Err("Choose an action."),
    };
    let back = Redirect::to(back);
    Ok(Either::Right(match outcome {
        Ok(done) => Flash::success(back, done),
        Err(problem) => Flash::error(back, problem),
    }))
}

#[post("/admin/leads/delete", data = "<form>")]
async fn confirm_delete(
    staff: Staff,
    db: &Db,
    form: Form<Lenient<BulkAction>>,
) -> Result<Flash<Redirect>, PageError> {
    let deleted = service::delete_leads(db, &form.ids).await?;
    audit(&staff.0, "delete_leads", &format!("count={deleted}"));
    let message = format!("Deleted {}.", leads_counted(deleted));
    Ok(Flash::success(Redirect::to(back_to(&form.back)), message))
}

fn edit_page(
    view: View,
    lead: &AdminLead,
    options: String,
    form: Value,
    errors: Value,
) -> Template {
    let context =
        json!({ "lead": row(lead), "form": form, "errors": errors, "owner_options": options });
    view.render("admin/lead_edit", "admin", context)
}

async fn admin_lead(db: &DbPool, id: &str) -> Result<AdminLead, PageError> {
    let found = service::leads_by_id(db, &[parse_id(id)?]).await?;
    found.into_iter().next().ok_or(PageError(Error::NotFound))
}

#[get("/admin/leads/<id>")]
async fn edit_form(_staff: Staff, view: View, db: &Db, id: &str) -> Result<Template, PageError> {
    let lead = admin_lead(db, id).await?;
    let options = owner_options(&service::owner_choices(db).await?, Some(lead.owner_id));
    let form = json!({ "name": lead.name, "email": lead.email, "message": lead.message });
    Ok(edit_page(view, &lead, options, form, json!({})))
}

/// Saves the fields (validated as everywhere else) and the owner, together.
#[post("/admin/leads/<id>", data = "<body>")]
async fn edit(
    staff: Staff,
    view: View,
    db: &Db,
    id: &str,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let lead = admin_lead(db, id).await?;
    let input = body.input()?;
    let owners = service::owner_choices(db).await?;
    let owner = input.str("owner").and_then(|o| o.parse::<i64>().ok());
    let result = leads::update(db, Scope::Staff, lead.id, &input, false, owner).await;
    Ok(FormOutcome::from_result(
        result,
        |saved| {
            audit(&staff.0, "edit_lead", &format!("lead_id={}", saved.id));
            Flash::success(
                Redirect::to("/admin/leads"),
                format!("Lead “{}” saved.", saved.name),
            )
        },
        |errors| {
            let form = crate::pages::kept(&input, &["name", "email", "message"]);
            let options = owner_options(&owners, owner);
            edit_page(view, &lead, options, form, json!(errors))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn owner_options_escape_and_select() {
        let html = super::owner_options(&[(1, "a<b".into()), (2, "c".into())], Some(2));
        assert_eq!(
            html,
            "<option value=\"1\">a&lt;b</option><option value=\"2\" selected>c</option>"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_formula_safe() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@cmd"), "'@cmd");
        assert_eq!(csv_cell("Zoë"), "Zoë");
    }
}
