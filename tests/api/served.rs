//! The real `leads` binary serving HTTP from a folder of its own, as an
//! operator starts it: which cookies each profile sets (SPEC §4), and the
//! secret key it creates on first start and reuses (SPEC §5, §6).
//!
//! SQLite only: neither depends on the database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::PASSWORD;

/// A running `leads serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts the binary in `dir` with no Rocket.toml, the given profile
    /// and `ROCKET_*` settings, on a port of its own choosing.
    fn start(dir: &Path, profile: &str, settings: &[(&str, &str)]) -> Server {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let errors = dir.join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_leads"))
            .current_dir(dir)
            .env_clear()
            .env("ROCKET_PROFILE", profile)
            .env("ROCKET_CONFIG", "/nonexistent/Rocket.toml")
            .env("ROCKET_PORT", "0")
            .env("ROCKET_LOG_LEVEL", "normal")
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_REQUEST_LOG", "false")
            .env("ROCKET_TEMPLATE_DIR", source.join("templates"))
            .env("ROCKET_STATIC_DIR", source.join("static"))
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).unwrap())
            .spawn()
            .expect("start the leads binary");
        // The port is the one Rocket reports it bound: this server's own.
        let (found, port) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some((_, port)) = line.split_once("launched from http://127.0.0.1:") {
                    let _ = found.send(port.trim().parse::<u16>().unwrap());
                }
            }
        });
        let port = port
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
                panic!("the server did not start: {:?}\n{stderr}", child.try_wait())
            });
        Server { child, port }
    }

    /// One request over a new connection; cookies as (name, value).
    fn send(&self, method: &str, path: &str, cookies: &[(String, String)], form: &str) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let cookie: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Cookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{form}",
            self.port,
            cookie.join("; "),
            form.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        Reply::parse(&response)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    /// Each `Set-Cookie` header whole.
    set_cookies: Vec<String>,
    body: String,
}

impl Reply {
    fn parse(response: &str) -> Reply {
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let mut lines = head.lines();
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let set_cookies = lines
            .filter_map(|line| line.split_once(": "))
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.to_owned())
            .collect();
        Reply {
            status,
            set_cookies,
            body: body.to_owned(),
        }
    }

    /// The `Set-Cookie` header for cookie `name`.
    fn expect_cookie(&self, name: &str) -> &str {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set_cookies))
    }

    /// The form's CSRF token.
    fn csrf(&self) -> String {
        crate::browser::csrf_in(&self.body)
    }
}

/// The cookie's (name, value) from its `Set-Cookie` header.
fn cookie_of(set_cookie: &str) -> (String, String) {
    let pair = set_cookie.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    (name.to_owned(), value.to_owned())
}

/// A new, empty folder, removed when dropped (also when a test fails).
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        let dir = std::env::temp_dir().join(format!(
            "leads-served-{}",
            leads::auth::token::random_hex(8)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Signs `username` up through the form as a browser would, expecting
/// cookies named with `prefix`; returns the session's `Set-Cookie` header
/// and the cookies to send back (the CSRF seed and the session).
fn sign_up(server: &Server, prefix: &str, username: &str) -> (String, Vec<(String, String)>) {
    let page = server.send("GET", "/signup", &[], "");
    assert_eq!(page.status, 200);
    let seed = page.expect_cookie(&format!("{prefix}leads_csrf"));
    let form = format!(
        "csrf_token={}&username={username}&email=&password={PASSWORD}",
        page.csrf()
    );
    let done = server.send("POST", "/signup", &[cookie_of(seed)], &form);
    assert_eq!(done.status, 303, "{}", done.body);
    let session = done.expect_cookie(&format!("{prefix}leads_session"));
    (
        session.to_owned(),
        vec![cookie_of(seed), cookie_of(session)],
    )
}

#[test]
fn session_cookies_follow_the_profile_and_cookie_secure() {
    // (profile, cookie_secure) → Secure and `__Host-`-named, or neither.
    for (profile, cookie_secure, secure) in [
        ("release", None, true),
        ("debug", None, false),
        ("debug", Some("true"), true),
        ("release", Some("false"), false),
    ] {
        let dir = Folder::new();
        let setting: Vec<(&str, &str)> = cookie_secure
            .map(|value| ("ROCKET_COOKIE_SECURE", value))
            .into_iter()
            .collect();
        let server = Server::start(&dir.0, profile, &setting);
        let case = format!("{profile}, cookie_secure {cookie_secure:?}");
        let prefix = if secure { "__Host-" } else { "" };
        let (session, cookies) = sign_up(&server, prefix, "carol");
        let attributes: Vec<&str> = session.split("; ").skip(1).collect();
        let mut expected = vec!["HttpOnly", "SameSite=Lax", "Path=/"];
        if secure {
            expected.push("Secure");
        }
        for attribute in &expected {
            assert!(attributes.contains(attribute), "{case}: {session}");
        }
        // `__Host-` also requires no Domain; nothing else is set.
        assert_eq!(attributes.len(), expected.len(), "{case}: {session}");

        // The cookie, under that name, is the session.
        assert_eq!(
            server.send("GET", "/leads", &cookies, "").status,
            200,
            "{case}"
        );
        let (_, token) = cookie_of(&session);
        let renamed = [(
            format!("{}leads_session", if secure { "" } else { "__Host-" }),
            token,
        )];
        assert_eq!(
            server.send("GET", "/leads", &renamed, "").status,
            303,
            "{case}"
        );
    }
}

/// A file's permission bits in octal, as `ls -l` and chmod read them.
fn permissions(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

#[test]
fn the_secret_key_file_is_created_private_and_reused() {
    let dir = Folder::new();
    let secret = dir.0.join("leads.secret");
    let server = Server::start(&dir.0, "release", &[]);
    let key = std::fs::read_to_string(&secret).expect("a secret key file");
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert_eq!(permissions(&secret), "600");
    for data in ["leads.db", "leads.db-wal", "leads.db-shm"] {
        assert_eq!(permissions(&dir.0.join(data)), "600", "{data}");
    }

    // A session and a form's CSRF token, then a restart.
    let (_, cookies) = sign_up(&server, "__Host-", "dora");
    let form = server.send("GET", "/leads/new", &cookies, "");
    assert_eq!(form.status, 200);
    drop(server);
    let server = Server::start(&dir.0, "release", &[]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), key);
    assert_eq!(permissions(&secret), "600");

    // Both still hold: the token signed before the restart is accepted.
    let lead = format!(
        "csrf_token={}&name=Kept&email=kept%40example.com&message=m",
        form.csrf()
    );
    let created = server.send("POST", "/leads/new", &cookies, &lead);
    assert_eq!(created.status, 303, "{}", created.body);
    let list = server.send("GET", "/leads", &cookies, "");
    assert!(list.body.contains("kept@example.com"));
}
