//! What the tests share: a real `redis-server` each (on a unix socket in
//! a temporary directory, stopped through its child handle when dropped),
//! worker processes, and the runner of the `harness = false` binary.

pub(crate) mod workers;

/// The server of one test: hilo-redis's own `LocalRedis`, plus a plain
/// connection to look at its state directly.
pub(crate) struct RedisServer(hilo_redis::LocalRedis);

impl RedisServer {
    pub(crate) fn start() -> RedisServer {
        RedisServer(hilo_redis::LocalRedis::start().unwrap())
    }

    /// A server with `appendonly yes` and `appendfsync always`.
    #[allow(dead_code)]
    pub(crate) fn start_persistent() -> RedisServer {
        RedisServer(hilo_redis::LocalRedis::start_persistent().unwrap())
    }

    /// Kills the server and starts it again with its data.
    #[allow(dead_code)]
    pub(crate) fn restart(&mut self) {
        self.0.restart().unwrap();
    }

    /// The URL clients connect with.
    pub(crate) fn url(&self) -> String {
        self.0.url()
    }

    /// A plain connection, to look at the server's state directly.
    pub(crate) fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

/// `(name, function)` for [`run_needing_redis`].
#[allow(unused_macros)]
macro_rules! test {
    ($test:ident) => {
        (stringify!($test), $test as fn())
    };
}

/// The runner of a `harness = false` test binary whose tests all need a
/// redis-server: each is ignored unless asked for, as
/// `#[ignore = "needs redis-server"]` would make it (so `.ci/run` installs
/// it and runs them with `--ignored`). Takes libtest's options.
#[allow(dead_code)]
pub(crate) fn run_needing_redis(tests: &[(&'static str, fn())]) {
    let args = libtest_mimic::Arguments::from_args();
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
            .with_ignored_flag(true)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
