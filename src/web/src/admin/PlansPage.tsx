import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type RefObject, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { api, type Page as List, type Plan, type StripeSettings } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime, money } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Dialog } from '../shared/ui/Dialog.tsx';
import { Field } from '../shared/ui/Field.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, ErrorState, Loading } from '../shared/ui/States.tsx';
import { PLAN_FIELDS, type PlanFormValues, planSchema, toNewPlan } from './planSchema.ts';
import { showServerError } from './serverErrors.ts';
import './admin.css';

const PLANS = '/api/admin/plans';
const count = new Intl.NumberFormat();

/** The tenant's plans: GET/POST /api/admin/plans. */
export function Component() {
  const me = useMe();
  const plans = useQuery({ queryKey: keys(me).plans, queryFn: () => api.get<List<Plan>>(PLANS) });
  // Only for the new plan's default currency: the tenant's Stripe currency (a cached read).
  const settings = useQuery({
    queryKey: keys(me).stripeSettings,
    queryFn: () => api.get<StripeSettings>('/api/admin/stripe/settings'),
  });
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const openDialog = () => {
    setCreated(null);
    setOpen(true);
  };
  const newPlanButton = useRef<HTMLButtonElement>(null);
  return (
    <Page
      title="Plans"
      actions={
        <button ref={newPlanButton} type="button" className="btn btn-primary" onClick={openDialog}>
          New plan
        </button>
      }
    >
      {/* A live region that is always there, so that what appears in it is announced. */}
      <div role="status">{created && <p className="form-success">Plan “{created}” created.</p>}</div>
      {plans.isPending ? (
        <Loading label="Loading the plans…" />
      ) : plans.isError ? (
        <ErrorState error={plans.error} retry={() => void plans.refetch()} />
      ) : plans.data.data.length === 0 ? (
        <EmptyState title="No plans yet">
          <p>Create the plans your users can subscribe to.</p>
          <button type="button" className="btn btn-primary" onClick={openDialog}>
            Create the first plan
          </button>
        </EmptyState>
      ) : (
        <PlanTable plans={plans.data.data} />
      )}
      <NewPlanDialog
        open={open}
        onOpenChange={setOpen}
        fallbackFocus={newPlanButton}
        defaultCurrency={settings.data?.currency ?? plans.data?.data[0]?.currency ?? 'usd'}
        onCreated={(plan) => {
          setCreated(plan.name);
          setOpen(false);
        }}
      />
    </Page>
  );
}

function PlanTable({ plans }: { plans: Plan[] }) {
  return (
    <div className="table-wrap">
      <table className="admin-table">
        <caption className="visually-hidden">Plans, cheapest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Agents
            </th>
            <th scope="col" className="num">
              Messages / month
            </th>
            <th scope="col" className="num">
              Trial
            </th>
            <th scope="col">Stripe price</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {plans.map((plan) => (
            <tr key={plan.id}>
              <th scope="row">{plan.name}</th>
              <td className="num">
                {money(plan.price_cents, plan.currency.toUpperCase())}
                <span className="muted"> / {plan.interval}</span>
              </td>
              <td className="num">{count.format(plan.limits.max_agents)}</td>
              <td className="num">{count.format(plan.limits.messages_per_month)}</td>
              <td className="num">{plan.trial_days ? `${plan.trial_days} days` : '—'}</td>
              <td className="mono">{plan.stripe_price_id ?? '—'}</td>
              <td className="nowrap">{dateTime(plan.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const emptyPlan = (currency: string): PlanFormValues => ({
  name: '',
  price: '',
  currency: currency.toUpperCase(),
  interval: 'month',
  max_agents: '',
  messages_per_month: '',
  stripe_price_id: '',
  trial_days: '0',
});

function NewPlanDialog({
  open,
  onOpenChange,
  fallbackFocus,
  defaultCurrency,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** "New plan" in the header: where focus goes when the empty state's button is gone. */
  fallbackFocus: RefObject<HTMLButtonElement | null>;
  defaultCurrency: string;
  onCreated: (plan: Plan) => void;
}) {
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      fallbackFocus={fallbackFocus}
      title="New plan"
      description="What a subscriber pays and what they get. Plan names are unique."
    >
      {/* Mounted while open only: each opening starts from a clean form. */}
      <NewPlanForm
        defaultCurrency={defaultCurrency}
        onCreated={onCreated}
        onCancel={() => onOpenChange(false)}
      />
    </Dialog>
  );
}

function NewPlanForm({
  defaultCurrency,
  onCreated,
  onCancel,
}: {
  defaultCurrency: string;
  onCreated: (plan: Plan) => void;
  onCancel: () => void;
}) {
  const me = useMe();
  const queryClient = useQueryClient();
  const form = useForm<PlanFormValues, unknown, z.output<typeof planSchema>>({
    resolver: zodResolver(planSchema),
    defaultValues: emptyPlan(defaultCurrency),
  });
  const create = useMutation({
    mutationFn: (values: z.output<typeof planSchema>) => api.post<Plan>(PLANS, toNewPlan(values)),
    onSuccess: async (plan) => {
      // What the API invalidates (docs/API.md, "Caching"): the plans (so every view of a
      // subscription, which shows its plan) and the analytics (revenue by plan). The dialog
      // closes once the list behind it shows the new plan.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys(me).plans }),
        queryClient.invalidateQueries({ queryKey: keys(me).subscription }),
        queryClient.invalidateQueries({ queryKey: keys(me).analytics }),
      ]);
      onCreated(plan);
    },
    onError: (error) => showServerError(error, form.setError, PLAN_FIELDS, { status: 409, field: 'name' }),
  });
  const onSubmit = form.handleSubmit(async (values) => {
    await create.mutateAsync(values).catch(() => undefined);
  });
  const { errors } = form.formState;
  return (
    <form onSubmit={onSubmit} noValidate aria-label="New plan">
      {errors.root?.server && (
        <p className="form-error" role="alert">
          {errors.root.server.message}
        </p>
      )}
      <Field label="Name" error={errors.name?.message}>
        {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
      </Field>
      <div className="form-grid">
        <Field label="Price" error={errors.price?.message} hint="e.g. 99.90">
          {(props) => <input {...props} inputMode="decimal" autoComplete="off" {...form.register('price')} />}
        </Field>
        <Field label="Currency" error={errors.currency?.message} hint="3-letter ISO code">
          {(props) => (
            <input
              {...props}
              className="input-short"
              maxLength={3}
              autoComplete="off"
              spellCheck={false}
              {...form.register('currency')}
            />
          )}
        </Field>
        <Field label="Billing interval" error={errors.interval?.message}>
          {(props) => (
            <select {...props} {...form.register('interval')}>
              <option value="month">Monthly</option>
              <option value="year">Yearly</option>
            </select>
          )}
        </Field>
      </div>
      <fieldset className="fieldset">
        <legend>Limits</legend>
        <div className="form-grid">
          <Field label="Max agents" error={errors.max_agents?.message}>
            {(props) => (
              <input {...props} inputMode="numeric" autoComplete="off" {...form.register('max_agents')} />
            )}
          </Field>
          <Field label="Messages per month" error={errors.messages_per_month?.message}>
            {(props) => (
              <input
                {...props}
                inputMode="numeric"
                autoComplete="off"
                {...form.register('messages_per_month')}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <div className="form-grid">
        <Field label="Trial days" error={errors.trial_days?.message} hint="0 to 90">
          {(props) => (
            <input {...props} inputMode="numeric" autoComplete="off" {...form.register('trial_days')} />
          )}
        </Field>
        <Field
          label="Stripe price id"
          error={errors.stripe_price_id?.message}
          hint="Optional, e.g. price_123"
        >
          {(props) => (
            <input {...props} autoComplete="off" spellCheck={false} {...form.register('stripe_price_id')} />
          )}
        </Field>
      </div>
      <div className="dialog-actions form-actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Creating…' : 'Create plan'}
        </button>
      </div>
    </form>
  );
}
