import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { useSearchParams } from 'react-router';
import { api, type Page as List, query, type UserListItem } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { ListTable } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState } from '../shared/ui/States.tsx';
import { StatusBadge } from './status.tsx';
import './admin.css';

const PER_PAGE_CHOICES = [10, 25, 50, 100];
const DEFAULT_PER_PAGE = 25;

/** The tenant's users and their subscriptions: GET /api/admin/users. Filters live in the URL. */
export function Component() {
  const me = useMe();
  const [search, setSearch] = useSearchParams();
  const page = Math.max(1, Number.parseInt(search.get('page') ?? '1', 10) || 1);
  const role = search.get('role') === 'admin' || search.get('role') === 'user' ? search.get('role') : null;
  const q = search.get('q') ?? '';
  const asked = Number(search.get('per_page'));
  const perPage = PER_PAGE_CHOICES.includes(asked) ? asked : DEFAULT_PER_PAGE;
  const params = { page, per_page: perPage, role, q: q || null };
  const users = useQuery({
    queryKey: keys(me).users(params),
    queryFn: () => api.get<List<UserListItem>>(`/api/admin/users${query(params)}`),
    placeholderData: keepPreviousData,
  });

  // Every change of filter starts again at page 1.
  const update = (changes: Record<string, string | null>) =>
    setSearch((current) => {
      const next = new URLSearchParams(current);
      for (const [key, value] of Object.entries(changes)) {
        if (value) next.set(key, value);
        else next.delete(key);
      }
      if (!('page' in changes)) next.delete('page');
      return next;
    });
  const filtered = Boolean(role || q);

  return (
    <Page title="Users">
      <Filters
        key={q}
        q={q}
        role={role}
        onSearch={(value) => update({ q: value.trim() || null })}
        onRole={(value) => update({ role: value || null })}
        onClear={filtered ? () => update({ q: null, role: null }) : undefined}
      />
      <ListTable
        list={users}
        loading="Loading the users…"
        empty={
          <EmptyState title={filtered ? 'No users match these filters' : 'No users yet'}>
            {filtered ? (
              <p>Try another search or role.</p>
            ) : (
              <p>
                Add users with <code>wuzctl users create</code>.
              </p>
            )}
          </EmptyState>
        }
        caption="Users, oldest first"
        headers={['Email', 'Name', 'Role', 'Subscription', 'Joined']}
        tableClassName="admin-table"
        onPage={(next) => update({ page: next > 1 ? String(next) : null })}
        footer={
          <PerPage
            value={perPage}
            onChange={(value) => update({ per_page: value === DEFAULT_PER_PAGE ? null : String(value) })}
          />
        }
        row={(user) => (
          <tr key={user.id}>
            <th scope="row">{user.email}</th>
            <td>{user.name}</td>
            <td>
              <span className={`badge${user.role === 'admin' ? ' badge-warn' : ''}`}>
                {user.role === 'admin' ? 'Admin' : 'User'}
              </span>
            </td>
            <td className="nowrap">
              {user.subscription ? (
                <>
                  {user.subscription.plan} <StatusBadge status={user.subscription.status} />
                </>
              ) : (
                <span className="muted">None</span>
              )}
            </td>
            <td className="nowrap">{dateTime(user.created_at)}</td>
          </tr>
        )}
      />
    </Page>
  );
}

function Filters({
  q,
  role,
  onSearch,
  onRole,
  onClear,
}: {
  q: string;
  role: string | null;
  onSearch: (q: string) => void;
  onRole: (role: string) => void;
  onClear?: () => void;
}) {
  const id = useId();
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSearch(String(new FormData(event.currentTarget).get('q') ?? ''));
  };
  return (
    <form className="filters" aria-label="Filter users" onSubmit={onSubmit}>
      <div className="field">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          name="q"
          type="search"
          defaultValue={q}
          maxLength={100}
          placeholder="Email or name"
          autoComplete="off"
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={role ?? ''} onChange={(event) => onRole(event.target.value)}>
          <option value="">Any role</option>
          <option value="admin">Admin</option>
          <option value="user">User</option>
        </select>
      </div>
      <button type="submit" className="btn">
        Search
      </button>
      {onClear && (
        <button type="button" className="btn" onClick={onClear}>
          Clear filters
        </button>
      )}
    </form>
  );
}

function PerPage({ value, onChange }: { value: number; onChange: (value: number) => void }) {
  const id = useId();
  return (
    <div className="per-page">
      <label htmlFor={id}>Per page</label>
      <select id={id} value={value} onChange={(event) => onChange(Number(event.target.value))}>
        {PER_PAGE_CHOICES.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}
