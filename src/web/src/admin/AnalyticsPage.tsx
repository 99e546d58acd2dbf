import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, type StripeAnalytics, type SubscriptionStatus } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { money, percent } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, ErrorState, Loading } from '../shared/ui/States.tsx';
import { BarChart } from './chart.tsx';
import { STATUS_LABELS, StatusBadge } from './status.tsx';
import './admin.css';

/** Every status the API counts, in the order of their labels. */
const STATUSES = Object.keys(STATUS_LABELS) as SubscriptionStatus[];

/** "2026-11-03" (a UTC day) → "Nov 3", in the browser's locale. */
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const day = (date: string) => dayFormat.format(new Date(`${date}T00:00:00Z`));

/** Subscription analytics of the tenant: GET /api/admin/stripe/analytics. */
export function Component() {
  const me = useMe();
  const analytics = useQuery({
    queryKey: keys(me).analytics,
    queryFn: () => api.get<StripeAnalytics>('/api/admin/stripe/analytics'),
  });
  return (
    <Page title="Analytics">
      {analytics.isPending ? (
        <Loading label="Loading the analytics…" />
      ) : analytics.isError ? (
        <ErrorState error={analytics.error} retry={() => void analytics.refetch()} />
      ) : (
        <Dashboard data={analytics.data} />
      )}
    </Page>
  );
}

function Dashboard({ data }: { data: StripeAnalytics }) {
  const currency = data.currency.toUpperCase();
  const total = STATUSES.reduce((sum, status) => sum + (data.subscriptions[status] ?? 0), 0);
  if (total === 0) {
    return (
      <EmptyState title="No subscriptions yet">
        <p>
          Revenue and churn show here once users subscribe. Set up your <Link to="/admin/plans">plans</Link>{' '}
          and your <Link to="/admin/stripe">Stripe keys</Link> first.
        </p>
      </EmptyState>
    );
  }
  const live = data.subscriptions.active + data.subscriptions.past_due;
  const perDay = data.new_subscriptions_per_day;
  const newTotal = perDay.reduce((sum, d) => sum + d.count, 0);
  const busiest = perDay.reduce<{ date: string; count: number } | null>(
    (best, d) => (d.count > (best?.count ?? 0) ? d : best),
    null,
  );
  const summary =
    `${newTotal} new subscription${newTotal === 1 ? '' : 's'} in the last ${perDay.length} days` +
    (busiest ? `, at most ${busiest.count} on ${day(busiest.date)}.` : '.');
  return (
    <>
      <section aria-labelledby="revenue-title">
        <h2 id="revenue-title" className="visually-hidden">
          Revenue
        </h2>
        <div className="grid stats-grid">
          <Stat label="MRR" value={money(data.mrr_cents, currency)} hint="Monthly recurring revenue" />
          <Stat label="ARR" value={money(data.arr_cents, currency)} hint="Annual run rate: MRR × 12" />
          <Stat
            label="Churn (30 days)"
            value={percent(data.churn_rate_30d)}
            hint="Canceled ÷ live 30 days ago"
          />
          <Stat label="Live subscriptions" value={String(live)} hint="Active and past due" />
        </div>
      </section>

      <section aria-labelledby="status-title">
        <h2 id="status-title" className="section-title">
          Subscriptions by status
        </h2>
        <dl className="status-list">
          {STATUSES.map((status) => (
            <div key={status}>
              <dt>
                <StatusBadge status={status} />
              </dt>
              <dd>{data.subscriptions[status] ?? 0}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="new-title">
        <h2 id="new-title" className="section-title">
          New subscriptions, last {perDay.length} days
        </h2>
        <div className="card">
          <BarChart
            title={`New subscriptions per day, last ${perDay.length} days`}
            summary={summary}
            valueLabel="New subscriptions"
            data={perDay.map((d) => ({ label: day(d.date), value: d.count }))}
          />
        </div>
      </section>

      <section aria-labelledby="plans-title">
        <h2 id="plans-title" className="section-title">
          Revenue by plan
        </h2>
        <div className="table-wrap">
          <table className="admin-table">
            <caption className="visually-hidden">
              Live subscriptions and MRR by plan, highest MRR first
            </caption>
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col" className="num">
                  Live subscriptions
                </th>
                <th scope="col" className="num">
                  MRR
                </th>
                <th scope="col" className="num">
                  Share of MRR
                </th>
              </tr>
            </thead>
            <tbody>
              {data.revenue_by_plan.map((row) => (
                <tr key={row.plan_id}>
                  <th scope="row">{row.plan}</th>
                  <td className="num">{row.subscriptions}</td>
                  <td className="num">{money(row.mrr_cents, currency)}</td>
                  <td className="num">
                    {data.mrr_cents > 0 ? percent(row.mrr_cents / data.mrr_cents) : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

function Stat({ label, value, hint }: { label: string; value: string; hint: string }) {
  return (
    <div className="card stat-card">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      <span className="stat-hint">{hint}</span>
    </div>
  );
}
