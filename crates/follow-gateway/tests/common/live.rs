//! A real `followd` process on a loopback port, for end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Followd {
    pub child: Child,
    pub base: String,
    pub dir: PathBuf,
}

impl Followd {
    /// Starts `followd --config` on the configuration text; waits for its
    /// `listening on` line.
    pub fn start(dir: &Path, config_text: &str) -> Followd {
        let config = dir.join("followd.toml");
        std::fs::write(&config, config_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_followd"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Followd {
            child,
            base: format!("http://{address}"),
            dir: dir.to_owned(),
        }
    }

    /// Sends SIGTERM and waits; answers the exit success and stderr.
    pub fn terminate(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                return (status.success(), stderr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("followd did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Followd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
