//! Request bodies in JSON, form-urlencoded or multipart form encoding.
//!
//! DRF checks authentication, the method and the object before it looks at
//! the body, so [`Body`] never fails as a data guard: it reads the bytes (up
//! to the configured limit) and keeps any problem for [`Body::input`], which
//! the handler calls once the object lookup has passed.

use rocket::data::{self, ByteUnit, Data, FromData, Limits};
use rocket::form::{self, DataField, Form, FromForm, ValueField};
use rocket::http::{RawStr, Status};
use rocket::request::Request;

use crate::error::Error;
use crate::validation::Input;

pub struct Body(Result<Encoded, Error>);

enum Encoded {
    Empty,
    Json(Vec<u8>),
    UrlEncoded(Vec<u8>),
    Multipart(Vec<(String, String)>),
}

impl Body {
    /// The fields sent, or the 400/413/415 that the body deserves.
    pub fn input(self) -> Result<Input, Error> {
        match self.0? {
            Encoded::Empty => Ok(Input::default()),
            Encoded::Json(bytes) => {
                let value = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::BadRequest(format!("JSON parse error - {e}")))?;
                Input::from_json(value)
            }
            Encoded::UrlEncoded(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Ok(Input::from_pairs(Form::values(&text).map(|field| {
                    let name = RawStr::new(field.name.source().as_str()).url_decode_lossy();
                    let value = RawStr::new(field.value).url_decode_lossy();
                    (name.into_owned(), value.into_owned())
                })))
            }
            Encoded::Multipart(pairs) => Ok(Input::from_pairs(pairs)),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for Body {
    type Error = std::convert::Infallible;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        data::Outcome::Success(Body(read(req, data).await))
    }
}

async fn read<'r>(req: &'r Request<'_>, data: Data<'r>) -> Result<Encoded, Error> {
    // Like DRF: no declared type means no data, whatever was sent.
    let Some(content_type) = req.content_type() else {
        return Ok(Encoded::Empty);
    };
    let limits = req.limits();
    if content_type.is_json() {
        read_capped(data, limits.get("json").unwrap_or(Limits::JSON))
            .await
            .map(Encoded::Json)
    } else if content_type.is_form() {
        read_capped(data, limits.get("form").unwrap_or(Limits::FORM))
            .await
            .map(Encoded::UrlEncoded)
    } else if content_type.is_form_data() {
        match Form::<FormFields>::from_data(req, data).await {
            data::Outcome::Success(form) => Ok(Encoded::Multipart(form.into_inner().0)),
            data::Outcome::Error((Status::PayloadTooLarge, _)) => Err(Error::PayloadTooLarge),
            _ => Err(Error::BadRequest(
                "Multipart form parse error - Invalid form data.".into(),
            )),
        }
    } else {
        // An empty body of any type is no data; a non-empty one we cannot read.
        let mut data = data;
        if data.peek(1).await.is_empty() {
            Ok(Encoded::Empty)
        } else {
            Err(Error::UnsupportedMediaType(
                content_type.media_type().to_string(),
            ))
        }
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

/// A multipart form's text fields as name/value pairs; file parts are ignored.
struct FormFields(Vec<(String, String)>);

#[rocket::async_trait]
impl<'r> FromForm<'r> for FormFields {
    type Context = Vec<(String, String)>;

    fn init(_: form::Options) -> Self::Context {
        Vec::new()
    }

    fn push_value(fields: &mut Self::Context, field: ValueField<'r>) {
        fields.push((field.name.source().to_string(), field.value.to_owned()));
    }

    async fn push_data(_: &mut Self::Context, _: DataField<'r, '_>) {}

    fn finalize(fields: Self::Context) -> form::Result<'r, Self> {
        Ok(FormFields(fields))
    }
}
