import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Controller, useForm, useWatch } from 'react-hook-form';
import { api, type Page as ListPage, query } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import { Field } from '../../shared/ui/Field.tsx';
import { MutationError } from '../../shared/ui/States.tsx';
import { type CampaignBody, type CampaignFormInput, campaignForm } from './schemas.ts';
import type { Campaign, Contact } from './types.ts';
import { useDebounced } from './useJobStatus.ts';

// The server's renderer (src/daemon/workers/template.ts) has placeholders with a fallback
// and nothing else: `{{a|b|c}}` is variable `a` with the fallback "b|c", not a variation.
const TEMPLATE_HINT =
  'Placeholders: {{name}}, {{phone}} or any contact variable; {{city|there}} falls back to “there” when the ' +
  'contact has no city. Random variations (a|b|c) are not supported: text outside {{ }} is sent as written.';

/**
 * The new-campaign form: the body is checked here as the API checks it (delays in seconds
 * on screen, milliseconds in the request), then POSTed; the API's refusal is shown under it.
 */
export function CampaignForm({
  initialQ = '',
  onCreated,
}: {
  initialQ?: string;
  onCreated: (c: Campaign) => void;
}) {
  const me = useMe();
  const queryClient = useQueryClient();
  const form = useForm<CampaignFormInput, unknown, CampaignBody>({
    resolver: zodResolver(campaignForm),
    defaultValues: {
      name: '',
      template: '',
      audience: 'filter',
      q: initialQ,
      contact_ids: [],
      session_token: '',
      min_delay_s: 5,
      max_delay_s: 15,
      schedule_at: '',
      draft: false,
    },
  });
  const create = useMutation({
    mutationFn: (body: CampaignBody) => api.post<Campaign>('/api/campaigns', body),
    onSuccess: (campaign) => {
      void queryClient.invalidateQueries({ queryKey: keys(me).campaigns() });
      onCreated(campaign);
    },
  });
  const { errors } = form.formState;
  const audience = useWatch({ control: form.control, name: 'audience' });
  const draft = useWatch({ control: form.control, name: 'draft' });

  return (
    <form noValidate onSubmit={form.handleSubmit((body) => create.mutate(body))}>
      <Field label="Name" error={errors.name?.message}>
        {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
      </Field>
      <Field label="Message template" error={errors.template?.message} hint={TEMPLATE_HINT}>
        {(props) => (
          <textarea
            {...props}
            rows={4}
            placeholder="Hi {{name|there}}, 20% off in {{city}}!"
            {...form.register('template')}
          />
        )}
      </Field>

      <fieldset className="jobs-fieldset">
        <legend>Audience</legend>
        <label className="jobs-choice">
          <input type="radio" value="filter" {...form.register('audience')} /> Contacts matching a search
        </label>
        <label className="jobs-choice">
          <input type="radio" value="contacts" {...form.register('audience')} /> Contacts I pick
        </label>
        {audience === 'filter' ? (
          <AudienceFilter form={form} />
        ) : (
          <Controller
            control={form.control}
            name="contact_ids"
            render={({ field, fieldState }) => (
              <ContactPicker
                value={field.value}
                onChange={field.onChange}
                error={fieldState.error?.message}
              />
            )}
          />
        )}
      </fieldset>

      <Field
        label="WuzAPI session token"
        error={errors.session_token?.message}
        hint="The token of the WhatsApp session that sends. It is stored, never shown again."
      >
        {(props) => (
          <input {...props} type="password" autoComplete="off" {...form.register('session_token')} />
        )}
      </Field>
      <div className="jobs-row">
        {(
          [
            ['min_delay_s', 'Minimum delay (seconds)'],
            ['max_delay_s', 'Maximum delay (seconds)'],
          ] as const
        ).map(([name, label]) => (
          <Field key={name} label={label} error={errors[name]?.message}>
            {(props) => (
              <input
                {...props}
                type="number"
                min={0}
                max={600}
                step="any"
                inputMode="decimal"
                {...form.register(name, { valueAsNumber: true })}
              />
            )}
          </Field>
        ))}
      </div>
      <p className="field-hint jobs-below">
        A random pause between messages, 0–600 s; it looks less like a bot.
      </p>
      <Field
        label="Send at (optional)"
        error={errors.schedule_at?.message}
        hint="Your local time, within a year. Empty: as soon as a worker is free."
      >
        {(props) => <input {...props} type="datetime-local" {...form.register('schedule_at')} />}
      </Field>
      <label className="jobs-choice">
        <input type="checkbox" {...form.register('draft')} /> Save as a draft (start it later)
      </label>
      <MutationError error={create.error} />
      <div className="dialog-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : draft ? 'Save draft' : 'Create and send'}
        </button>
      </div>
    </form>
  );
}

type FormApi = ReturnType<typeof useForm<CampaignFormInput, unknown, CampaignBody>>;

function AudienceFilter({ form }: { form: FormApi }) {
  const me = useMe();
  const q = useDebounced((useWatch({ control: form.control, name: 'q' }) ?? '').trim(), 300);
  const params = { q, page: 1, per_page: 1 };
  const count = useQuery({
    queryKey: keys(me).contacts(params),
    queryFn: () => api.get<ListPage<Contact>>(`/api/contacts${query(params)}`),
  });
  return (
    <Field
      label="Search (empty: all your contacts)"
      error={form.formState.errors.q?.message}
      hint={
        count.data
          ? `${count.data.total} contact${count.data.total === 1 ? '' : 's'} match now.`
          : 'Name or phone contains this text.'
      }
    >
      {(props) => <input {...props} type="search" autoComplete="off" {...form.register('q')} />}
    </Field>
  );
}

/** A searchable checklist of the caller's contacts (the first 50 matches). */
function ContactPicker({
  value,
  onChange,
  error,
}: {
  value: string[];
  onChange: (ids: string[]) => void;
  error?: string;
}) {
  const me = useMe();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 300);
  const params = { q, page: 1, per_page: 50 };
  const list = useQuery({
    queryKey: keys(me).contacts(params),
    queryFn: () => api.get<ListPage<Contact>>(`/api/contacts${query(params)}`),
  });
  const selected = new Set(value);
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onChange([...next]);
  };
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor="picker-search">Find contacts</label>
      <input
        id="picker-search"
        type="search"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
        aria-describedby="picker-count"
      />
      <p id="picker-count" className="field-hint" aria-live="polite">
        {selected.size} selected
        {list.data && list.data.total > list.data.data.length
          ? ` · showing ${list.data.data.length} of ${list.data.total}; search to narrow`
          : ''}
      </p>
      <ul className="jobs-picker" aria-label="Contacts">
        {list.isPending && <li>Loading…</li>}
        {list.isError && <li className="form-error">Could not load contacts.</li>}
        {list.data?.data.length === 0 && <li>No contacts match.</li>}
        {list.data?.data.map((contact) => (
          <li key={contact.id}>
            <label className="jobs-choice">
              <input type="checkbox" checked={selected.has(contact.id)} onChange={() => toggle(contact.id)} />{' '}
              {contact.name || '—'} <span className="field-hint">{contact.phone}</span>
            </label>
          </li>
        ))}
      </ul>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
