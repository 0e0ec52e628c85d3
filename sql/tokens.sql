-- name: tokens_create(name, scope, token_hash)<!
-- Store a new API token; only its SHA-256 hash is kept.
INSERT INTO api_tokens (name, scope, token_hash) VALUES (:name, :scope, :token_hash);

-- name: tokens_create_login_link(name, token_hash, lifetime)<!
INSERT INTO api_tokens (name, scope, token_hash, kind, expires_at)
VALUES (:name, 'admin', :token_hash, 'login_link', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', :lifetime));

-- name: tokens_by_hash(token_hash)^
-- A bearer token: an API token that has not been revoked.
SELECT id, name, scope FROM api_tokens
 WHERE token_hash = :token_hash AND kind = 'api' AND revoked_at IS NULL;

-- name: tokens_for_login(token_hash)^
-- What /login accepts: an API token, or a login link not yet spent nor expired.
SELECT id, name, scope, kind FROM api_tokens
 WHERE token_hash = :token_hash AND revoked_at IS NULL
   AND (kind = 'api'
        OR (used_at IS NULL AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));

-- name: tokens_spend_login_link(token_id)!
UPDATE api_tokens SET used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
 WHERE id = :token_id AND kind = 'login_link' AND used_at IS NULL;

-- name: tokens_purge_stale_login_links()!
-- Spent or expired links whose logins have ended are no longer needed.
DELETE FROM api_tokens
 WHERE kind = 'login_link'
   AND (used_at IS NOT NULL OR expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   AND id NOT IN (SELECT token_id FROM login_sessions);

-- name: tokens_name_taken(name)$
SELECT count(*) FROM api_tokens WHERE name = :name;

-- name: tokens_list()
SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE kind = 'api' ORDER BY id;

-- name: tokens_count_active_admin()$
SELECT count(*) FROM api_tokens WHERE scope = 'admin' AND kind = 'api' AND revoked_at IS NULL;

-- name: tokens_revoke(name)!
UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
 WHERE name = :name AND kind = 'api' AND revoked_at IS NULL;

-- name: tokens_delete_logins_of(name)!
DELETE FROM login_sessions WHERE token_id = (SELECT id FROM api_tokens WHERE name = :name);

-- name: tokens_touch(token_id)!
UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = :token_id;

-- name: tokens_create_login(id_hash, token_id, csrf_token, lifetime)!
INSERT INTO login_sessions (id_hash, token_id, csrf_token, expires_at)
VALUES (:id_hash, :token_id, :csrf_token, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', :lifetime));

-- name: tokens_login_by_hash(id_hash)^
-- A login is valid while it has not expired and its token has not been revoked.
SELECT t.id, t.name, t.scope, s.csrf_token
  FROM login_sessions s JOIN api_tokens t ON t.id = s.token_id
 WHERE s.id_hash = :id_hash
   AND s.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
   AND t.revoked_at IS NULL;

-- name: tokens_delete_login(id_hash)!
DELETE FROM login_sessions WHERE id_hash = :id_hash;

-- name: tokens_purge_expired_logins()!
DELETE FROM login_sessions WHERE expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
