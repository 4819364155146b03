//! A webhook receiver on 127.0.0.1: records every request (headers and body) and answers
//! each with the next status of its script (200 once the script is used up).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    always: Arc<Mutex<Option<u16>>>,
}

impl Receiver {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/liaison", listener.local_addr().unwrap());
        let me = Self {
            url,
            received: Arc::default(),
            script: Arc::default(),
            always: Arc::default(),
        };
        let worker = me.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(read) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // A request cut short (the sender killed mid-write) is not a request: its
                // headers must end with a blank line and name the body's length.
                let mut headers = HashMap::new();
                let complete = loop {
                    let mut h = String::new();
                    match reader.read_line(&mut h) {
                        Ok(0) | Err(_) => break false,
                        Ok(_) if h.trim().is_empty() => break true,
                        Ok(_) => {}
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                };
                let Some(len) = headers
                    .get("content-length")
                    .and_then(|l| l.parse::<usize>().ok())
                    .filter(|_| complete)
                else {
                    continue;
                };
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = worker
                    .script
                    .lock()
                    .unwrap()
                    .pop_front()
                    .or(*worker.always.lock().unwrap())
                    .unwrap_or(200);
                worker.received.lock().unwrap().push(Received {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let answer = if status == 200 { "ok" } else { "boom" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        me
    }

    /// The statuses of the next answers, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().extend(statuses);
    }

    /// The status of every answer after the script (200 when unset).
    pub fn always(&self, status: Option<u16>) {
        *self.always.lock().unwrap() = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until the received requests satisfy `done`.
    pub fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what}; received {got:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
