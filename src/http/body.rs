//! Request bodies in JSON, form-urlencoded or multipart form encoding.
//!
//! DRF checks authentication, the method and the object before it looks at
//! the body, so [`Body`] never fails as a data guard: it reads the body (up
//! to the configured limit) and keeps any problem for [`Body::input`], which
//! the handler calls once the object lookup has passed.

use rocket::data::{self, ByteUnit, Data, FromData, Limits};
use rocket::form::{self, DataField, Form, FromForm, ValueField};
use rocket::http::RawStr;
use rocket::request::Request;

use crate::error::Error;
use crate::validation::Input;

pub struct Body(Result<Input, Error>);

impl Body {
    /// The fields sent, or the 400/413/415 that the body deserves.
    pub fn input(self) -> Result<Input, Error> {
        self.0
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for Body {
    type Error = std::convert::Infallible;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        data::Outcome::Success(Body(read(req, data).await))
    }
}

async fn read<'r>(req: &'r Request<'_>, mut data: Data<'r>) -> Result<Input, Error> {
    // Like DRF: no declared type, or an empty body of any type, means no data.
    let Some(content_type) = req.content_type() else {
        return Ok(Input::default());
    };
    if data.peek(1).await.is_empty() {
        return Ok(Input::default());
    }
    let limits = req.limits();
    if content_type.is_json() {
        let bytes = read_capped(data, limits.get("json").unwrap_or(Limits::JSON)).await?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadRequest(format!("JSON parse error - {e}")))?;
        Input::from_json(value)
    } else if content_type.is_form() {
        let bytes = read_capped(data, limits.get("form").unwrap_or(Limits::FORM)).await?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Input::from_pairs(Form::values(&text).map(|field| {
            let name = RawStr::new(field.name.source().as_str()).url_decode_lossy();
            let value = RawStr::new(field.value).url_decode_lossy();
            (name.into_owned(), value.into_owned())
        })))
    } else if content_type.is_form_data() {
        match Form::<FormFields>::from_data(req, data).await {
            data::Outcome::Success(form) => Ok(Input::from_pairs(form.into_inner().0)),
            data::Outcome::Error((_, errors)) if errors.iter().any(over_limit) => {
                Err(Error::PayloadTooLarge)
            }
            _ => Err(Error::BadRequest(
                "Multipart form parse error - Invalid form data.".into(),
            )),
        }
    } else {
        // DRF names the type exactly as sent, parameters included.
        let sent = req.headers().get_one("Content-Type").unwrap_or_default();
        Err(Error::UnsupportedMediaType(sent.to_owned()))
    }
}

async fn read_capped(data: Data<'_>, limit: ByteUnit) -> Result<Vec<u8>, Error> {
    let capped = data
        .open(limit)
        .into_bytes()
        .await
        .map_err(|_| Error::BadRequest("The request body could not be read.".into()))?;
    if capped.is_complete() {
        Ok(capped.into_inner())
    } else {
        Err(Error::PayloadTooLarge)
    }
}

/// Whether a form error is the body's size limit. Rocket answers 413 to a
/// truncated multipart body as well, so its status cannot tell.
fn over_limit(error: &form::Error<'_>) -> bool {
    matches!(
        error.kind,
        form::error::ErrorKind::InvalidLength {
            min: None,
            max: Some(_)
        }
    )
}

/// A multipart form's text fields as name/value pairs; file parts are ignored.
struct FormFields(Vec<(String, String)>);

#[rocket::async_trait]
impl<'r> FromForm<'r> for FormFields {
    /// The fields so far and any parse error (an oversized or truncated
    /// body), which the default `push_error` would silently drop.
    type Context = (Vec<(String, String)>, form::Errors<'r>);

    fn init(_: form::Options) -> Self::Context {
        (Vec::new(), form::Errors::new())
    }

    fn push_value((fields, _): &mut Self::Context, field: ValueField<'r>) {
        fields.push((field.name.source().to_string(), field.value.to_owned()));
    }

    async fn push_data(_: &mut Self::Context, _: DataField<'r, '_>) {}

    fn push_error((_, errors): &mut Self::Context, error: form::Error<'r>) {
        errors.push(error);
    }

    fn finalize((fields, errors): Self::Context) -> form::Result<'r, Self> {
        if errors.is_empty() {
            Ok(FormFields(fields))
        } else {
            Err(errors)
        }
    }
}
