import { z } from 'zod';
import { REPORT_KINDS, type ReportKind } from './types.ts';

/**
 * The forms' schemas, mirroring the server's (src/daemon/api/routes/contacts.ts and
 * routes/queues/*.ts) so that what the browser accepts the API accepts too. Each parses
 * the form's values into the request body the API takes.
 */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** E.164: spaces, dashes, dots and parentheses are forgiven, as the server does. */
export const phone = z
  .string()
  .transform((value) => value.replace(/[\s().-]/g, ''))
  .pipe(z.string().regex(/^\+[1-9]\d{7,14}$/, 'Enter an E.164 number such as +5511912345678.'));

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `name=value` lines → the contact's variables (≤ 50, names letters/digits/_ , values ≤ 1000). */
export const variablesText = z.string().transform((text, ctx) => {
  const variables: Record<string, string> = {};
  const lines = text.split('\n').map((line) => line.trim());
  lines.forEach((line, index) => {
    if (!line) return;
    const at = line.indexOf('=');
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    if (at < 0 || !VARIABLE_NAME.test(key) || key.length > 64) {
      ctx.addIssue({
        code: 'custom',
        message: `Line ${index + 1}: write name=value; names are letters, digits and _ (at most 64).`,
      });
    } else if (value.length > 1000) {
      ctx.addIssue({ code: 'custom', message: `Line ${index + 1}: a value is at most 1000 characters.` });
    } else {
      variables[key] = value;
    }
  });
  if (Object.keys(variables).length > 50) {
    ctx.addIssue({ code: 'custom', message: 'At most 50 variables.' });
  }
  return variables;
});

export const contactForm = z
  .object({
    phone,
    name: z.string().trim().max(100, 'At most 100 characters.'),
    variables: variablesText,
  })
  .transform(({ phone, name, variables }) => ({
    phone,
    name,
    ...(Object.keys(variables).length ? { variables } : {}),
  }));
export type ContactFormInput = z.input<typeof contactForm>;
export type ContactBody = z.output<typeof contactForm>;

const MAX_DELAY_S = 600;
const YEAR_MS = 365 * 86_400_000;
const seconds = (label: string) =>
  z
    .number({ error: `Enter the ${label} in seconds.` })
    .min(0, `The ${label} is at least 0 seconds.`)
    .max(MAX_DELAY_S, `The ${label} is at most ${MAX_DELAY_S} seconds (10 minutes).`);

/** A `datetime-local` value (the browser's time zone) as an ISO instant, or undefined. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

export interface CampaignBody {
  name: string;
  template: string;
  audience: { contact_ids: string[] } | { filter: { q?: string } };
  session_token: string;
  min_delay_ms: number;
  max_delay_ms: number;
  schedule_at?: string;
  draft: boolean;
}

export const campaignForm = z
  .object({
    name: z.string().trim().min(1, 'Give the campaign a name.').max(100, 'At most 100 characters.'),
    template: z.string().trim().min(1, 'Write the message.').max(4096, 'At most 4096 characters.'),
    audience: z.enum(['filter', 'contacts']),
    q: z.string().trim().max(100, 'At most 100 characters.'),
    contact_ids: z.array(z.string().regex(UUID)).max(100_000),
    session_token: z
      .string()
      .trim()
      .min(1, 'The WuzAPI session token is required to send.')
      .max(256, 'At most 256 characters.'),
    min_delay_s: seconds('minimum delay'),
    max_delay_s: seconds('maximum delay'),
    schedule_at: z.string(),
    draft: z.boolean(),
  })
  .superRefine((values, ctx) => {
    if (values.max_delay_s < values.min_delay_s) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_delay_s'],
        message: 'The maximum delay must be at least the minimum delay.',
      });
    }
    if (values.audience === 'contacts' && values.contact_ids.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['contact_ids'], message: 'Select at least one contact.' });
    }
    if (values.schedule_at) {
      const iso = localToIso(values.schedule_at);
      if (!iso) {
        ctx.addIssue({ code: 'custom', path: ['schedule_at'], message: 'Enter a date and time.' });
      } else if (Date.parse(iso) > Date.now() + YEAR_MS) {
        ctx.addIssue({ code: 'custom', path: ['schedule_at'], message: 'Schedule it within a year.' });
      }
    }
  })
  .transform(
    (values): CampaignBody => ({
      name: values.name,
      template: values.template,
      audience:
        values.audience === 'contacts'
          ? { contact_ids: values.contact_ids }
          : { filter: values.q ? { q: values.q } : {} },
      session_token: values.session_token,
      min_delay_ms: Math.round(values.min_delay_s * 1000),
      max_delay_ms: Math.round(values.max_delay_s * 1000),
      ...(values.schedule_at ? { schedule_at: localToIso(values.schedule_at) } : {}),
      draft: values.draft,
    }),
  );
export type CampaignFormInput = z.input<typeof campaignForm>;

export interface ReportBody {
  kind: ReportKind;
  from?: string;
  to?: string;
  scope?: 'tenant' | 'owner';
}

const DAY_MS = 86_400_000;
/** A `date` value → the start of that day in the browser's time zone, as an ISO instant. */
export function dayStart(value: string, plusDays = 0): string | undefined {
  if (!value) return undefined;
  const [y, m, d] = value.split('-').map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export const reportForm = z
  .object({
    kind: z.enum(REPORT_KINDS),
    from: z.string(),
    to: z.string(),
    scope: z.enum(['', 'tenant', 'owner']),
  })
  .superRefine((values, ctx) => {
    // `to` is inclusive in the form: the period ends at the start of the next day.
    const to = values.to ? Date.parse(dayStart(values.to, 1) ?? '') : Date.now();
    const from = values.from ? Date.parse(dayStart(values.from) ?? '') : to - 30 * DAY_MS;
    if (Number.isNaN(from)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'Enter a date.' });
    else if (Number.isNaN(to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Enter a date.' });
    else if (to <= from)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'The end must be after the start.' });
    else if (to - from > 366 * DAY_MS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'The period can be at most 366 days.' });
  })
  .transform(
    (values): ReportBody => ({
      kind: values.kind,
      ...(values.from ? { from: dayStart(values.from) } : {}),
      ...(values.to ? { to: dayStart(values.to, 1) } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
    }),
  );
export type ReportFormInput = z.input<typeof reportForm>;

export const jobLookup = z.object({
  id: z.string().trim().regex(UUID, 'A job id is a UUID such as 0b6f…-…'),
});
