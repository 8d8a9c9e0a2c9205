-- Users, token families, refresh and access tokens (stored as SHA-256 hashes), sign-in failures.
-- Times are Unix seconds (REAL), as Python's time.time() gives them.
-- IF NOT EXISTS: a database made before migrations existed already has these tables; this version
-- adopts it as it is.

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS token_families (
    id             TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    created_at     REAL NOT NULL,
    revoked_at     REAL,
    revoked_reason TEXT
);

CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES token_families(id),
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at    REAL
);

CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES token_families(id),
    expires_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start REAL NOT NULL
);

CREATE INDEX IF NOT EXISTS login_failures_window ON login_failures(window_start);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX IF NOT EXISTS access_tokens_family ON access_tokens(family_id);
