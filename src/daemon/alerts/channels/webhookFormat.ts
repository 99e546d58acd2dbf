import { createHash } from 'node:crypto';
import type { AlertNotification } from '../types.ts';

/**
 * What a webhook notification looks like on the wire. Discord and Slack reject a body that
 * breaks their limits (a 400, and the alert is lost), so every text is cut to size here,
 * before sending, rather than hoping the description stays short.
 */
export type WebhookFormat = 'discord' | 'slack' | 'json';

const DISCORD_HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com']);

export function detectWebhookFormat(url: URL): WebhookFormat {
  const host = url.hostname.toLowerCase();
  if (DISCORD_HOSTS.has(host) && url.pathname.startsWith('/api/webhooks/')) return 'discord';
  if (host === 'hooks.slack.com') return 'slack';
  return 'json';
}

/** The host only: the path and query of a Discord or Slack webhook *are* its secret token. */
export function describeWebhook(url: URL, format: WebhookFormat): string {
  return `${format} webhook at ${url.host}`;
}

export function validateWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // The text is not echoed: a mistyped webhook URL still carries its token.
    throw new Error('the webhook URL is not a valid URL (expected https://host/path)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`the webhook URL must start with https:// or http:// (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new Error('the webhook URL has a user name or password: put no credentials in the URL');
  }
  return url;
}

const MARKERS: Record<AlertNotification['kind'], string> = {
  firing: '[FIRING]',
  resolved: '[RESOLVED]',
  reminder: '[REMINDER]',
  test: '[TEST]',
};

export const TEST_NOTE = 'This is a test notification sent by `wuzctl alerts test`: nothing is wrong.';

/** "[FIRING] HighErrorRate: HTTP 5xx error rate above 1%": the line every channel leads with. */
export function alertTitle(n: AlertNotification): string {
  return `${MARKERS[n.kind]} ${n.alert}: ${n.summary}`;
}

/** The description, with the test note first so nobody reading a test starts an incident. */
export function alertDescription(n: AlertNotification): string {
  return n.kind === 'test' ? `${TEST_NOTE} ${n.description}` : n.description;
}

export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** Cuts to `max` UTF-16 units (never more than the services count), ending in '…'. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, max);
  let end = max - 1;
  // Never split a surrogate pair: a lone half is invalid UTF-16 and can be refused.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

export type DiscordBody = ReturnType<typeof discordBody>;
export type SlackBody = ReturnType<typeof slackBody>;
export type AlertmanagerBody = ReturnType<typeof alertmanagerBody>;

export function webhookBody(format: 'discord', n: AlertNotification): DiscordBody;
export function webhookBody(format: 'slack', n: AlertNotification): SlackBody;
export function webhookBody(format: 'json', n: AlertNotification): AlertmanagerBody;
export function webhookBody(
  format: WebhookFormat,
  n: AlertNotification,
): DiscordBody | SlackBody | AlertmanagerBody;
export function webhookBody(
  format: WebhookFormat,
  n: AlertNotification,
): DiscordBody | SlackBody | AlertmanagerBody {
  if (format === 'discord') return discordBody(n);
  if (format === 'slack') return slackBody(n);
  return alertmanagerBody(n);
}

// ---- Discord ------------------------------------------------------------------------------

export const DISCORD_LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
} as const;

const DISCORD_COLOURS: Record<AlertNotification['kind'], number> = {
  firing: 0x992d22,
  reminder: 0x992d22,
  resolved: 0x2ecc71,
  test: 0x3498db,
};

interface DiscordField {
  name: string;
  value: string;
  inline: boolean;
}

function discordBody(n: AlertNotification) {
  const title = truncate(alertTitle(n), DISCORD_LIMITS.title);
  const footer = truncate(`wuzctl on ${n.instance}`, DISCORD_LIMITS.footer);
  const fields = discordFields(n);
  let description = truncate(alertDescription(n), DISCORD_LIMITS.description);

  // The 6000 total is over all embed texts; the description is the one that grows, so it
  // gives way first, then the longest field value (a very long instance name, say).
  const total = () => title.length + footer.length + description.length + fieldsLength(fields);
  while (total() > DISCORD_LIMITS.total) {
    const excess = total() - DISCORD_LIMITS.total;
    const longest = fields.reduce<DiscordField | undefined>(
      (a, b) => (!a || b.value.length > a.value.length ? b : a),
      undefined,
    );
    if (!longest || description.length >= longest.value.length) {
      description = truncate(description, Math.max(1, description.length - excess));
    } else {
      longest.value = truncate(longest.value, Math.max(1, longest.value.length - excess));
    }
  }

  const content = n.kind === 'test' ? `${alertTitle(n)}\n${TEST_NOTE}` : alertTitle(n);
  return {
    content: truncate(content, DISCORD_LIMITS.content),
    embeds: [
      {
        title,
        ...(description ? { description } : {}),
        color: DISCORD_COLOURS[n.kind],
        // Discord refuses the whole message when an embed URL is not http(s).
        ...(isHttpUrl(n.runbookUrl) ? { url: n.runbookUrl } : {}),
        fields,
        timestamp: validIso(n.endsAt ?? n.startsAt),
        footer: { text: footer },
      },
    ],
    // An alert text must never ping @everyone or a role, whatever it contains.
    allowed_mentions: { parse: [] },
    username: 'wuzctl',
  };
}

function discordFields(n: AlertNotification): DiscordField[] {
  const rows: [string, string | null | undefined, boolean][] = [
    ['Severity', n.severity, true],
    ['Value', n.value, true],
    ['Threshold', n.threshold, true],
    ['Since', n.startsAt, true],
    ['Resolved at', n.kind === 'resolved' ? n.endsAt : null, true],
    ['Instance', n.instance, false],
    [
      'Runbook',
      isHttpUrl(n.runbookUrl) ? `[open the runbook](${n.runbookUrl})` : `\`${n.runbookUrl}\``,
      false,
    ],
  ];
  return (
    rows
      // Discord rejects a field with an empty value.
      .filter((row): row is [string, string, boolean] => typeof row[1] === 'string' && row[1].trim() !== '')
      .slice(0, DISCORD_LIMITS.fields)
      .map(([name, value, inline]) => ({
        name: truncate(name, DISCORD_LIMITS.fieldName),
        value: truncate(value, DISCORD_LIMITS.fieldValue),
        inline,
      }))
  );
}

function fieldsLength(fields: DiscordField[]): number {
  return fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
}

/** Discord refuses an embed whose timestamp is not ISO 8601. */
function validIso(text: string): string {
  const time = Date.parse(text);
  return Number.isNaN(time) ? new Date().toISOString() : new Date(time).toISOString();
}

// ---- Slack --------------------------------------------------------------------------------

export const SLACK_LIMITS = { text: 3000, header: 150, section: 3000, field: 2000, fields: 10 } as const;

/** Slack's mrkdwn treats &, < and > as control characters (links, mentions). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Truncates escaped text without leaving half an entity ("&am…") behind. */
function slackTruncate(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  const cut = truncate(escaped, max);
  return cut.replace(/&[a-z]{0,4}…$/, '…');
}

function slackLink(url: string, label: string): string {
  // '|' and '>' would end the link early; percent-encoding keeps the URL working.
  const safe = url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
  return `<${safe}|${label}>`;
}

function slackBody(n: AlertNotification) {
  const title = alertTitle(n);
  const fallback = n.kind === 'test' ? `${title}\n${TEST_NOTE}` : title;
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
  const field = (name: string, value: string, escaped = true) =>
    mrkdwn(slackTruncate(`*${name}*\n${escaped ? slackEscape(value) : value}`, SLACK_LIMITS.field));

  const fields = [
    field('Severity', n.severity),
    ...(n.value ? [field('Value', n.value)] : []),
    field('Threshold', n.threshold),
    field('Since', n.startsAt),
    ...(n.kind === 'resolved' && n.endsAt ? [field('Resolved at', n.endsAt)] : []),
    field('Instance', n.instance),
    isHttpUrl(n.runbookUrl)
      ? field('Runbook', slackLink(n.runbookUrl, 'Runbook'), false)
      : field('Runbook', `\`${n.runbookUrl}\``),
  ].slice(0, SLACK_LIMITS.fields);

  const description = alertDescription(n);
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, SLACK_LIMITS.header) } },
    ...(description.trim()
      ? [{ type: 'section', text: mrkdwn(slackTruncate(slackEscape(description), SLACK_LIMITS.section)) }]
      : []),
    { type: 'section', fields },
  ];
  return { text: slackTruncate(slackEscape(fallback), SLACK_LIMITS.text), blocks };
}

// ---- Alertmanager-compatible JSON ---------------------------------------------------------

/** Alertmanager's "not resolved yet" value of endsAt (Go's zero time). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function alertmanagerBody(n: AlertNotification) {
  // Receivers built for Alertmanager know only firing and resolved: a test or a reminder
  // is an alert that fires; `wuzctl.kind` tells them apart for those that care.
  const status = n.kind === 'resolved' ? 'resolved' : 'firing';
  const labels = { alertname: n.alert, severity: n.severity, instance: n.instance };
  const annotations = { summary: n.summary, description: alertDescription(n), runbook_url: n.runbookUrl };
  return {
    version: '4',
    groupKey: `{}:{alertname="${n.alert}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'wuzctl',
    groupLabels: { alertname: n.alert },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: n.startsAt,
        endsAt: status === 'resolved' ? (n.endsAt ?? new Date().toISOString()) : ZERO_TIME,
        generatorURL: '',
        fingerprint: fingerprint(labels),
      },
    ],
    wuzctl: { kind: n.kind, title: alertTitle(n), value: n.value, threshold: n.threshold },
  };
}

/** Stable per label set, as Alertmanager's: the same alert keeps its fingerprint. */
function fingerprint(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
