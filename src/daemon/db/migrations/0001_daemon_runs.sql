-- One row per supervisor start: when, which version and where it ran. `wuzctl status`
-- reports the count, and it proves that the data dir's database survives restarts.
CREATE TABLE daemon_runs (
  id bigserial PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  version text NOT NULL,
  hostname text NOT NULL,
  pid integer NOT NULL
);
