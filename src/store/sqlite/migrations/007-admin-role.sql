-- Roles granted to users; 'admin' opens the operator's view (/admin).
-- `phonectl user add --admin` and `phonectl user set-admin` grant and revoke it.
CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin')),
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, role)
) STRICT;
