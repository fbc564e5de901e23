//! Server-rendered pages for people in a browser (SPEC §4). They call the
//! same services as the JSON API; only input and rendering differ.

mod account;
mod catchers;
mod leads;
mod session;
mod view;

use rocket::fs::FileServer;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

pub use view::{kept, FormOutcome, PageError, View};

/// Mounts the pages, their HTML catchers, the stylesheet and the template engine.
pub fn mount(rocket: Rocket<Build>) -> Rocket<Build> {
    let static_dir = rocket
        .figment()
        .extract_inner::<rocket::figment::value::magic::RelativePathBuf>("static_dir")
        .map(|path| path.relative())
        .unwrap_or_else(|_| "static".into());
    rocket
        .attach(Template::fairing())
        .mount("/", session::routes())
        .mount("/", leads::routes())
        .mount("/", account::routes())
        .mount("/static", FileServer::from(static_dir).rank(20))
        .register("/", catchers::html())
}
