import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useId, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { ApiError, api, type Page as ListPage, type Plan, query } from '../shared/api.ts';
import { type Me, useMe } from '../shared/auth.tsx';
import { dateTime, money } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { ConfirmDialog, Dialog } from '../shared/ui/Dialog.tsx';
import { Field } from '../shared/ui/Field.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, ErrorState, Loading } from '../shared/ui/States.tsx';
import { ErrorText } from './crud/CrudPage.tsx';
import { type PlanValues, planForm, type Subscription } from './crud/resources.ts';
import { useSubscription } from './crud/useSubscription.ts';
import './crud/crud.css';

const STATUS: Record<Subscription['status'], [label: string, badge: string]> = {
  active: ['Active', 'badge badge-ok'],
  trialing: ['Trial', 'badge badge-warn'],
  past_due: ['Payment overdue', 'badge badge-bad'],
  canceled: ['Canceled', 'badge badge-bad'],
};

const ONE = { page: 1, per_page: 1 };
const count = (n: number) => new Intl.NumberFormat().format(n);
const price = (plan: Plan) => `${money(plan.price_cents, plan.currency.toUpperCase())} / ${plan.interval}`;

/**
 * POST/DELETE /api/user/subscription invalidate the caller's subscription (and the
 * tenant's analytics, which only admins load; their users list shows plans too).
 */
function invalidateSubscription(queryClient: ReturnType<typeof useQueryClient>, me: Me) {
  const k = keys(me);
  const scopes = me.user.role === 'admin' ? [k.subscription, k.analytics, k.users()] : [k.subscription];
  return Promise.all(scopes.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
}

function Meter({ label, used, max }: { label: string; used: number; max: number }) {
  const id = useId();
  const ratio = max > 0 ? Math.min(1, used / max) : used > 0 ? 1 : 0;
  const full = used >= max;
  const text = `${count(used)} of ${count(max)}`;
  return (
    <div className={`sub-meter${full ? ' sub-meter-full' : ''}`}>
      <div className="sub-meter-label">
        <span id={id}>{label}</span>
        <span>
          {text}
          {full && max > 0 ? ' · limit reached' : ''}
        </span>
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-labelledby={id}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={Math.min(used, max)}
        aria-valuetext={text}
      >
        <span style={{ width: `${Math.round(ratio * 100)}%` }} />
      </div>
    </div>
  );
}

function SubscriptionDetails({ sub }: { sub: Subscription }) {
  const [label, badge] = STATUS[sub.status];
  const endLabel = sub.cancel_at_period_end ? 'Ends' : sub.status === 'trialing' ? 'Trial ends' : 'Renews';
  return (
    <div className="sub-grid">
      <section className="card" aria-labelledby="sub-plan">
        <h2 id="sub-plan">{sub.plan.name} plan</h2>
        <p className="sub-price">
          {money(sub.plan.price_cents, sub.plan.currency.toUpperCase())} <small>/ {sub.plan.interval}</small>
        </p>
        <dl className="sub-facts">
          <dt>Status</dt>
          <dd>
            <span className={badge}>{label}</span>
            {sub.cancel_at_period_end && <span className="badge badge-warn">Cancels at period end</span>}
          </dd>
          <dt>Period</dt>
          <dd>since {dateTime(sub.current_period_start)}</dd>
          <dt>{endLabel}</dt>
          <dd>{dateTime(sub.current_period_end)}</dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="sub-usage">
        <h2 id="sub-usage">Usage and limits</h2>
        <Meter label="Agents" used={sub.usage.agents} max={sub.plan.limits.max_agents} />
        <Meter
          label="Messages this month"
          used={sub.usage.messages_this_month}
          max={sub.plan.limits.messages_per_month}
        />
        {sub.usage.agents > sub.plan.limits.max_agents && (
          <p className="form-error">You have more agents than this plan allows: you cannot add more.</p>
        )}
      </section>
    </div>
  );
}

/** Everyone picks from their tenant's plans (GET /api/user/plans). */
function PlanForm({ sub, onDone }: { sub: Subscription | null; onDone: (message: string) => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const plans = useQuery({
    queryKey: keys(me).plans,
    queryFn: () => api.get<ListPage<Plan>>('/api/user/plans'),
  });
  const form = useForm<PlanValues>({ resolver: zodResolver(planForm), defaultValues: { plan_id: '' } });
  const change = useMutation({
    mutationFn: (body: PlanValues) => api.post<Subscription>('/api/user/subscription', body),
    onSuccess: () => invalidateSubscription(queryClient, me),
  });
  const onSubmit = form.handleSubmit(async (values) => {
    try {
      const next = await change.mutateAsync(values);
      onDone(`You are now on the ${next.plan.name} plan.`);
    } catch {
      // Shown below the form (change.error).
    }
  });

  // Without a subscription there is no usage to read: the agents list's total says it.
  const agentCount = useQuery({
    queryKey: keys(me).agents(ONE),
    queryFn: () => api.get<ListPage<unknown>>(`/api/session/agents${query(ONE)}`),
    enabled: !sub,
  });
  const agents = sub?.usage.agents ?? agentCount.data?.total ?? 0;
  const chosen = plans.data?.data.find((plan) => plan.id === form.watch('plan_id'));
  const tooSmall = chosen && chosen.limits.max_agents < agents;
  const error = change.error;

  let picker: ReactNode;
  if (plans.isPending) {
    picker = <Loading label="Loading plans…" />;
  } else if (plans.isError) {
    picker = <ErrorState error={plans.error} retry={() => void plans.refetch()} />;
  } else {
    picker = (
      <Field
        label="Plan"
        error={form.formState.errors.plan_id?.message}
        hint={
          tooSmall
            ? `This plan allows ${chosen.limits.max_agents} agents and you have ${agents}: the change will be refused.`
            : undefined
        }
      >
        {(props) => (
          <select {...props} {...form.register('plan_id')}>
            <option value="">Choose a plan…</option>
            {plans.data.data.map((plan) => (
              <option key={plan.id} value={plan.id} disabled={plan.id === sub?.plan.id}>
                {plan.name} — {price(plan)} · up to {count(plan.limits.max_agents)} agents
                {plan.id === sub?.plan.id ? ' (current)' : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }

  const limitError =
    error instanceof ApiError &&
    error.status === 422 &&
    typeof error.details === 'object' &&
    error.details !== null;
  return (
    <form onSubmit={onSubmit} noValidate className="crud-form">
      {picker}
      <ErrorText error={error}>
        {limitError && (
          <p>
            <Link to="/agents">Go to your agents</Link> to remove some, or choose a larger plan.
          </p>
        )}
      </ErrorText>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={() => onDone('')}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={change.isPending || !plans.isSuccess}>
          {change.isPending ? 'Saving…' : sub ? 'Change plan' : 'Subscribe'}
        </button>
      </div>
    </form>
  );
}

export function Component() {
  const me = useMe();
  const queryClient = useQueryClient();
  const subscription = useSubscription();
  const [choosing, setChoosing] = useState(false);
  const [canceling, setCanceling] = useState(false);
  const [notice, setNotice] = useState('');
  const mainButton = useRef<HTMLButtonElement>(null);

  const cancel = useMutation({
    mutationFn: () => api.delete('/api/user/subscription'),
    onSuccess: () => invalidateSubscription(queryClient, me),
  });

  const sub = subscription.data;
  const openChooser = () => {
    setNotice('');
    setChoosing(true);
  };

  let body: ReactNode;
  if (subscription.isPending) body = <Loading label="Loading your subscription…" />;
  else if (sub === undefined)
    body = <ErrorState error={subscription.error} retry={() => void subscription.refetch()} />;
  else if (sub === null) {
    body = (
      <EmptyState title="You have no subscription">
        <p>Without a plan no agent limit applies. Subscribe to a plan to get its limits and billing.</p>
        <button type="button" className="btn btn-primary" onClick={openChooser}>
          Choose a plan
        </button>
      </EmptyState>
    );
  } else {
    body = (
      <>
        {subscription.isError && (
          <ErrorState error={subscription.error} retry={() => void subscription.refetch()} />
        )}
        {sub.cancel_at_period_end && (
          <div className="sub-notice">
            <p>
              Your subscription ends on {dateTime(sub.current_period_end)}. Changing plan before then keeps it
              going.
            </p>
          </div>
        )}
        <SubscriptionDetails sub={sub} />
      </>
    );
  }

  return (
    <Page
      title="Subscription"
      actions={
        sub ? (
          <>
            <button ref={mainButton} type="button" className="btn btn-primary" onClick={openChooser}>
              Change plan
            </button>
            {!sub.cancel_at_period_end && (
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => {
                  setNotice('');
                  cancel.reset();
                  setCanceling(true);
                }}
              >
                Cancel subscription
              </button>
            )}
          </>
        ) : undefined
      }
    >
      <p className="crud-intro crud-notice" role="status">
        {notice}
      </p>
      {body}

      <Dialog
        open={choosing}
        onOpenChange={setChoosing}
        fallbackFocus={mainButton}
        title={sub ? 'Change plan' : 'Choose a plan'}
        description={
          sub
            ? `You are on the ${sub.plan.name} plan with ${sub.usage.agents} agents. The new plan applies at once.`
            : 'Your subscription starts at once (with a trial when the plan has one).'
        }
      >
        {choosing && (
          <PlanForm
            sub={sub ?? null}
            onDone={(message) => {
              setChoosing(false);
              setNotice(message);
            }}
          />
        )}
      </Dialog>

      <ConfirmDialog
        open={canceling}
        onOpenChange={setCanceling}
        fallbackFocus={mainButton}
        title="Cancel your subscription?"
        description={
          sub
            ? `Your ${sub.plan.name} plan stays active until ${dateTime(sub.current_period_end)}, then ends. You can change plan before then to keep it.`
            : 'Your subscription ends at the end of its period.'
        }
        confirmLabel="Cancel subscription"
        pending={cancel.isPending}
        error={cancel.error ? <ErrorText error={cancel.error} /> : undefined}
        onConfirm={() =>
          cancel.mutate(undefined, {
            onSuccess: () => {
              setCanceling(false);
              setNotice('Cancellation scheduled.');
            },
          })
        }
      />
    </Page>
  );
}
