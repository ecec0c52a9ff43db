//! The baseline of the gateway benchmark: a plain axum route answering a
//! constant JSON body, on the same runtime and server as `followd`, with no
//! auth, middleware or storage. Prints `listening on ADDR`.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().route(
        "/constant",
        get(|| async { Json::<Value>(json!({"session": "s0", "jid": "120363012345678901@newsletter", "following": true, "relation": "following"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
