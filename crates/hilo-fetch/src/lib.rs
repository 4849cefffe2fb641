//! `hilo fetch`: the lesson's downloader as a tool — many downloads at once
//! on a `ThreadPool`, high before medium before low, retries with backoff,
//! each file saved under the MD5 of its content. Being built (issue 15):
//! so far what a request is (`input`) and what its file is called
//! (`name`).

pub mod input;
pub mod name;
