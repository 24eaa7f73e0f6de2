-- Roles granted to users; 'admin' opens the operator's view (/admin).
-- `phonectl user add --admin` and `phonectl user set-admin` grant and revoke it.
-- user_id has the type of users.id; granted_at is milliseconds since the epoch (BIGINT).
CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin')),
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, role)
);
