import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { api, type StripeSettings } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Field } from '../shared/ui/Field.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { ErrorState, Loading } from '../shared/ui/States.tsx';
import { showServerError } from './serverErrors.ts';
import { modeOf, settingsSchema } from './stripeSchema.ts';
import type { StripeSettingsInput } from './types.ts';
import './admin.css';

const SETTINGS = '/api/admin/stripe/settings';

type Schema = ReturnType<typeof settingsSchema>;
type Values = z.input<Schema>;

const FIELDS: Record<string, keyof Values> = {
  'body.publishable_key': 'publishable_key',
  'body.secret_key': 'secret_key',
  'body.webhook_secret': 'webhook_secret',
  'body.currency': 'currency',
};

const blank = (settings: StripeSettings): Values => ({
  publishable_key: settings.publishable_key ?? '',
  secret_key: '',
  webhook_secret: '',
  currency: settings.currency,
});

/** The tenant's Stripe keys: GET/PUT /api/admin/stripe/settings. */
export function Component() {
  const me = useMe();
  const settings = useQuery({
    queryKey: keys(me).stripeSettings,
    queryFn: () => api.get<StripeSettings>(SETTINGS),
  });
  return (
    <Page title="Stripe settings">
      {settings.isPending ? (
        <Loading label="Loading the Stripe settings…" />
      ) : settings.isError ? (
        <ErrorState error={settings.error} retry={() => void settings.refetch()} />
      ) : (
        <div className="settings-layout">
          <SettingsForm settings={settings.data} />
          <Summary settings={settings.data} />
        </div>
      )}
    </Page>
  );
}

function Summary({ settings }: { settings: StripeSettings }) {
  return (
    <aside className="card settings-summary" aria-labelledby="stripe-summary">
      <h2 id="stripe-summary">Stored</h2>
      {settings.configured && settings.publishable_key ? (
        <dl>
          <dt>Mode</dt>
          <dd>
            <span
              className={`badge ${modeOf(settings.publishable_key) === 'live' ? 'badge-ok' : 'badge-warn'}`}
            >
              {modeOf(settings.publishable_key) === 'live' ? 'Live' : 'Test'}
            </span>
          </dd>
          <dt>Secret key</dt>
          <dd className="mono">…{settings.secret_key_last4}</dd>
          <dt>Webhook secret</dt>
          <dd className="mono">…{settings.webhook_secret_last4}</dd>
          <dt>Currency</dt>
          <dd>{settings.currency.toUpperCase()}</dd>
          <dt>Updated</dt>
          <dd>{dateTime(settings.updated_at)}</dd>
        </dl>
      ) : (
        <p className="muted">Not configured yet: payments cannot be taken until the keys are saved.</p>
      )}
    </aside>
  );
}

function SettingsForm({ settings }: { settings: StripeSettings }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const form = useForm<Values, unknown, z.output<Schema>>({
    resolver: zodResolver(settingsSchema(settings)),
    defaultValues: blank(settings),
  });
  const save = useMutation({
    mutationFn: (body: StripeSettingsInput) => api.put<StripeSettings>(SETTINGS, body),
    onSuccess: async (saved) => {
      form.reset(blank(saved));
      queryClient.setQueryData(keys(me).stripeSettings, saved);
      // What the API invalidates (docs/API.md, "Caching"): the settings and the analytics.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys(me).stripeSettings }),
        queryClient.invalidateQueries({ queryKey: keys(me).analytics }),
      ]);
    },
    onError: (error) => showServerError(error, form.setError, FIELDS),
  });
  const onSubmit = form.handleSubmit(async (values) => {
    save.reset();
    const body: StripeSettingsInput = { publishable_key: values.publishable_key, currency: values.currency };
    if (values.secret_key) body.secret_key = values.secret_key;
    if (values.webhook_secret) body.webhook_secret = values.webhook_secret;
    await save.mutateAsync(body).catch(() => undefined);
  });
  const { errors } = form.formState;
  const keep = (last4: string | null) =>
    settings.configured ? `Stored: …${last4}. Leave blank to keep it.` : 'Required the first time.';
  return (
    <form className="card" onSubmit={onSubmit} noValidate aria-labelledby="stripe-form-title">
      <h2 id="stripe-form-title" className="visually-hidden">
        Stripe keys
      </h2>
      {errors.root?.server && (
        <p className="form-error" role="alert">
          {errors.root.server.message}
        </p>
      )}
      {/* A live region that is always there, so that what appears in it is announced. */}
      <div role="status">{save.isSuccess && <p className="form-success">Stripe settings saved.</p>}</div>
      <Field label="Publishable key" error={errors.publishable_key?.message} hint="pk_test_… or pk_live_…">
        {(props) => (
          <input {...props} autoComplete="off" spellCheck={false} {...form.register('publishable_key')} />
        )}
      </Field>
      <Field
        label="Secret key"
        error={errors.secret_key?.message}
        hint={`sk_test_…, sk_live_… or rk_…. ${keep(settings.secret_key_last4)}`}
      >
        {(props) => (
          <input {...props} type="password" autoComplete="new-password" {...form.register('secret_key')} />
        )}
      </Field>
      <Field
        label="Webhook signing secret"
        error={errors.webhook_secret?.message}
        hint={`whsec_…. ${keep(settings.webhook_secret_last4)}`}
      >
        {(props) => (
          <input
            {...props}
            type="password"
            autoComplete="new-password"
            {...form.register('webhook_secret')}
          />
        )}
      </Field>
      <Field label="Currency" error={errors.currency?.message} hint="3-letter ISO code, e.g. USD or BRL.">
        {(props) => (
          <input
            {...props}
            className="input-short"
            autoComplete="off"
            spellCheck={false}
            maxLength={3}
            {...form.register('currency')}
          />
        )}
      </Field>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
