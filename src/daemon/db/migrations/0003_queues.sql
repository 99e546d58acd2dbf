-- Background work: campaigns and their recipients, contact imports, reports, and the
-- record of every job we enqueue. BullMQ forgets finished jobs after the retention
-- period; these rows do not, so job status and results outlive Redis retention.

CREATE TABLE jobs (
  id uuid PRIMARY KEY,                 -- also the BullMQ job id
  tenant_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  queue text NOT NULL CHECK (queue IN ('campaign', 'import', 'report')),
  subject_id uuid NOT NULL,            -- the campaign, import or report it works on
  state text NOT NULL DEFAULT 'waiting'
    CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed')),
  progress jsonb NOT NULL DEFAULT '{}',
  attempts integer NOT NULL DEFAULT 0,
  result jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC);
CREATE INDEX jobs_subject ON jobs (subject_id);

CREATE TABLE campaigns (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  name text NOT NULL,
  template text NOT NULL,
  -- Who receives it, as asked: {"contact_ids": [...]} or {"filter": {...}}. Expanded into
  -- campaign_recipients by the job, so creating a campaign of any size is one small insert.
  audience jsonb NOT NULL,
  -- The WuzAPI session token sends go out with: a secret, never returned in full.
  session_token text NOT NULL,
  status text NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled', 'failed')),
  scheduled_at timestamptz,
  min_delay_ms integer NOT NULL CHECK (min_delay_ms >= 0),
  max_delay_ms integer NOT NULL CHECK (max_delay_ms >= min_delay_ms),
  expanded boolean NOT NULL DEFAULT false,
  total integer NOT NULL DEFAULT 0,
  sent integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  job_id uuid,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaigns_owner_created ON campaigns (tenant_id, owner_id, created_at DESC, id DESC);

-- One row per message to send. `status` is the idempotency record: a row is claimed
-- (pending → sending) before WuzAPI is called, and its message_id is stable, so a retried
-- or re-delivered job can never send the same recipient a second, different message.
CREATE TABLE campaign_recipients (
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  position integer NOT NULL,
  contact_id uuid,
  phone text NOT NULL,
  name text NOT NULL DEFAULT '',
  variables jsonb NOT NULL DEFAULT '{}',
  message_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  claimed_at timestamptz,
  sent_at timestamptz,
  error text,
  PRIMARY KEY (campaign_id, position),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_recipients_todo ON campaign_recipients (campaign_id, position) WHERE status IN ('pending', 'sending');
CREATE UNIQUE INDEX campaign_recipients_phone ON campaign_recipients (campaign_id, phone);

CREATE TABLE imports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  filename text NOT NULL DEFAULT '',
  source text NOT NULL,                -- the uploaded CSV, kept until the job has read it
  bytes integer NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  total_rows integer NOT NULL DEFAULT 0,
  accepted integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  -- The first rejected rows with their line number and reason, and counts by reason.
  rejections jsonb NOT NULL DEFAULT '[]',
  rejected_by_reason jsonb NOT NULL DEFAULT '{}',
  job_id uuid,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX imports_owner_created ON imports (tenant_id, owner_id, created_at DESC);

CREATE TABLE reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('campaign_delivery', 'subscriptions', 'usage')),
  -- Tenant-wide (an admin's) or the owner's own rows only.
  scope text NOT NULL CHECK (scope IN ('tenant', 'owner')),
  period_from timestamptz NOT NULL,
  period_to timestamptz NOT NULL CHECK (period_to > period_from),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  columns text[],
  rows jsonb,
  csv text,
  row_count integer,
  job_id uuid,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX reports_owner_created ON reports (tenant_id, owner_id, created_at DESC);
