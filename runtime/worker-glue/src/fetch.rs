//! A bounded GET: one subrequest over the network or a service binding, with a time limit, no
//! redirects, and a size cap that holds while the body is read (streamed chunk by chunk, never
//! buffered past the cap, the stream cancelled at the first chunk that would cross it).

use futures_util::future::{select, Either};
use js_sys::Uint8Array;
use jwks_cache::{CappedBody, FetchError};
use std::time::Duration;
use wasm_bindgen::JsCast;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult};
use worker::{
    AbortController, AbortSignal, Delay, Fetch, Fetcher, Method, Request, RequestInit,
    RequestRedirect, Response, ResponseBody,
};

/// Where a bounded fetch goes.
pub enum FetchTarget {
    /// A URL on the network.
    Url(String),
    /// `path` on a service binding.
    Service {
        /// The binding.
        fetcher: Fetcher,
        /// The path requested from it.
        path: &'static str,
    },
}

/// GETs `target` within `timeout` and `max_bytes`: the body and its `Cache-Control`, or why not
/// (a status other than 200 is an error; its body is cancelled unread).
pub async fn fetch_bounded(
    target: &FetchTarget,
    timeout: Duration,
    max_bytes: u64,
) -> Result<(Vec<u8>, Option<String>), FetchError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let download = Box::pin(download(target, max_bytes, &signal));
    let timer = Box::pin(Delay::from(timeout));
    let outcome = match select(download, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(FetchError::Timeout)
        }
    };
    outcome
}

async fn download(
    target: &FetchTarget,
    max_bytes: u64,
    signal: &AbortSignal,
) -> Result<(Vec<u8>, Option<String>), FetchError> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_redirect(RequestRedirect::Manual);
    let response: Response = match target {
        FetchTarget::Url(url) => {
            let request = Request::new_with_init(url, &init).map_err(|_| FetchError::Network)?;
            Fetch::Request(request)
                .send_with_signal(signal)
                .await
                .map_err(|_| FetchError::Network)?
        }
        FetchTarget::Service { fetcher, path } => {
            // The host is not looked at by a service binding; the path is.
            let url = format!("https://binding.internal{path}");
            fetcher
                .fetch(url, Some(init))
                .await
                .map_err(|_| FetchError::Network)?
        }
    };
    let status = response.status_code();
    if status != 200 {
        discard_body(&response);
        return Err(FetchError::HttpStatus { status });
    }
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A declared length over the cap is refused before reading; one within it (or none)
    // is not trusted: the running total is checked chunk by chunk.
    let mut body = match CappedBody::new(max_bytes, declared) {
        Ok(body) => body,
        Err(too_large) => {
            discard_body(&response);
            return Err(too_large);
        }
    };
    let cache_control = response.headers().get("cache-control").ok().flatten();
    match response.body() {
        ResponseBody::Stream(stream) => read_capped(stream, &mut body).await?,
        ResponseBody::Body(bytes) => body.append(bytes)?,
        ResponseBody::Empty => {}
    }
    Ok((body.into_bytes(), cache_control))
}

/// Reads `stream` into `body` one chunk at a time. A chunk that would take the body past its
/// cap is neither copied nor kept: the stream is cancelled there (the rest is never read) and
/// the fetch is `TooLarge`. Anything but a byte chunk is a network error.
async fn read_capped(stream: &ReadableStream, body: &mut CappedBody) -> Result<(), FetchError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let stop = |error: FetchError| {
        drop(reader.cancel());
        error
    };
    loop {
        let step: ReadableStreamReadResult = js_task::settled(reader.read())
            .await
            .map_err(|_| FetchError::Network)?
            .unchecked_into();
        match step.get_done() {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => return Err(stop(FetchError::Network)),
        }
        let chunk: Uint8Array = step
            .get_value()
            .dyn_into()
            .map_err(|_| stop(FetchError::Network))?;
        let len = usize::try_from(chunk.length()).unwrap_or(usize::MAX);
        if !body.fits(len) {
            return Err(stop(FetchError::TooLarge));
        }
        // Copied straight from the JS chunk into the space made for it (exactly `len` bytes).
        body.append_with(len, |space| chunk.copy_to(space))
            .map_err(stop)?;
    }
}

/// Cancels a body we will not read: an unread subrequest body otherwise holds the request open.
fn discard_body(response: &Response) {
    if let ResponseBody::Stream(stream) = response.body() {
        drop(stream.cancel());
    }
}
