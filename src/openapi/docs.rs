//! The OpenAPI document reshaped for the reference page's template.
//!
//! Everything shown comes from the document; this only resolves `$ref`s,
//! spells schemas as short type descriptions ("array of Lead") with links,
//! and splits descriptions on backticks so the template can set code in
//! `<code>` while Tera still escapes every piece of text.

use serde_json::{json, Map, Value};

/// The methods an OpenAPI path item may hold, in the order the page lists them.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn context(doc: &Value) -> Value {
    let endpoints: Vec<Value> = entries(&doc["paths"])
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                let op = item.get(*method)?;
                Some(operation(doc, path, method, item, op))
            })
        })
        .collect();
    let named = |section: &str, render: fn(&str, &Value, &Value) -> Value| -> Vec<Value> {
        entries(&doc["components"][section])
            .map(|(name, value)| render(name, value, doc))
            .collect()
    };
    json!({
        "title": doc["info"]["title"],
        "version": doc["info"]["version"],
        "openapi": doc["openapi"],
        "description": rich(&doc["info"]["description"]),
        "endpoints": endpoints,
        "security_schemes": named("securitySchemes", security_scheme),
        "responses": named("responses", shared_response),
        "schemas": named("schemas", schema_entry),
    })
}

fn operation(doc: &Value, path: &str, method: &str, item: &Value, op: &Value) -> Value {
    // Path-level parameters apply to every operation of the path.
    let parameters: Vec<Value> = [&item["parameters"], &op["parameters"]]
        .into_iter()
        .flat_map(items)
        .map(|p| {
            let p = resolve(doc, p);
            json!({
                "name": p["name"], "in": p["in"], "required": p["required"].as_bool().unwrap_or(false),
                "type": type_parts(&p["schema"]), "constraints": constraints(&p["schema"]),
                "description": rich(&p["description"]),
            })
        })
        .collect();
    let body = op.get("requestBody").map(|b| {
        let b = resolve(doc, b);
        json!({ "required": b["required"].as_bool().unwrap_or(false), "media": media(&b["content"]) })
    });
    let responses: Vec<Value> = entries(&op["responses"])
        .map(|(status, r)| response(doc, status, r))
        .collect();
    let security = op.get("security").unwrap_or(&doc["security"]);
    let schemes: Vec<&String> = items(security)
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
        .collect();
    json!({
        "id": op["operationId"],
        "method": method.to_uppercase(),
        "path": path,
        "summary": op["summary"],
        "description": rich(&op["description"]),
        "security": schemes,
        "parameters": parameters,
        "body": body,
        "responses": responses,
    })
}

fn response(doc: &Value, status: &str, r: &Value) -> Value {
    let shared = ref_name(r);
    let r = resolve(doc, r);
    json!({
        "status": status,
        "shared": shared,
        "description": rich(&r["description"]),
        "headers": entries(&r["headers"]).map(|(name, _)| name).collect::<Vec<_>>(),
        "media": media(&r["content"]),
    })
}

fn shared_response(name: &str, r: &Value, doc: &Value) -> Value {
    let mut entry = response(doc, "", r);
    entry["name"] = json!(name);
    entry
}

fn security_scheme(name: &str, s: &Value, _: &Value) -> Value {
    json!({
        "name": name, "type": s["type"], "in": s["in"], "header": s["name"],
        "description": rich(&s["description"]),
    })
}

fn schema_entry(name: &str, s: &Value, _: &Value) -> Value {
    let required: Vec<&str> = items(&s["required"]).filter_map(Value::as_str).collect();
    let properties: Vec<Value> = entries(&s["properties"])
        .map(|(prop, p)| {
            json!({
                "name": prop, "required": required.contains(&prop.as_str()),
                "type": type_parts(p), "constraints": constraints(p), "description": rich(&p["description"]),
            })
        })
        .collect();
    json!({
        "name": name,
        "description": rich(&s["description"]),
        "type": type_parts(s),
        "constraints": constraints(s),
        "properties": properties,
        "example": s.get("example").map(Value::to_string),
    })
}

/// A `content` map's media types, each with its schema's type.
fn media(content: &Value) -> Vec<Value> {
    entries(content)
        .map(|(media, c)| json!({ "media": media, "type": type_parts(&c["schema"]) }))
        .collect()
}

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// The last segment of a `$ref` ("#/components/schemas/Lead" → "Lead").
fn ref_name(value: &Value) -> Option<&str> {
    value["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

/// What a local `$ref` points at (one level, as the document uses them).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

/// A schema as text pieces, those naming a component schema with a link:
/// `[{"text": "array of "}, {"text": "Lead", "href": "#schema-Lead"}]`.
fn type_parts(schema: &Value) -> Vec<Value> {
    if let Some(name) = ref_name(schema) {
        return vec![json!({ "text": name, "href": format!("#schema-{name}") })];
    }
    let text = |text: &str| json!({ "text": text });
    let combined = [("anyOf", " or "), ("oneOf", " or "), ("allOf", " and ")]
        .into_iter()
        .find_map(|(key, word)| Some((schema[key].as_array()?, word)));
    let additional = &schema["additionalProperties"];
    let mut parts = match (combined, schema["type"].as_str()) {
        (Some((alternatives, word)), _) => {
            let each: Vec<Vec<Value>> = alternatives.iter().map(type_parts).collect();
            each.join(&text(word))
        }
        (None, Some("array")) => [vec![text("array of ")], type_parts(&schema["items"])].concat(),
        (None, Some("object")) if additional.is_object() => {
            [vec![text("object of ")], type_parts(additional)].concat()
        }
        (None, Some(kind)) => match schema["format"].as_str() {
            Some(format) => vec![text(&format!("{kind} ({format})"))],
            None => vec![text(kind)],
        },
        (None, None) => vec![text("any")],
    };
    if schema["nullable"].as_bool() == Some(true) {
        parts.push(text(" or null"));
    }
    parts
}

/// The schema keywords that restrict values, in words.
fn constraints(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for (key, label) in [
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minItems", "min items"),
        ("minProperties", "min properties"),
        ("pattern", "pattern"),
    ] {
        if let Some(value) = schema.get(key) {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            found.push(format!("{label} {text}"));
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        found.push(format!("one of {}", values.join(", ")));
    }
    if schema["readOnly"].as_bool() == Some(true) {
        found.push("read-only".into());
    }
    let alternatives = ["anyOf", "oneOf", "allOf"]
        .iter()
        .flat_map(|key| items(&schema[*key]));
    found.extend(alternatives.flat_map(constraints));
    found
}

/// Text split on backticks: `[{"text": "...", "code": false}, ...]`.
fn rich(text: &Value) -> Vec<Value> {
    text.as_str()
        .unwrap_or("")
        .split('`')
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(i, piece)| json!({ "text": piece, "code": i % 2 == 1 }))
        .collect()
}
