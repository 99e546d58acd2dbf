import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, type Page, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { Field } from '../shared/ui/Field.tsx';
import { CrudPage, type CrudResource } from './crud/CrudPage.tsx';
import {
  AGENT_STATUS_LABELS,
  AGENT_STATUSES,
  type Agent,
  type AgentStatus,
  type AgentValues,
  agentForm,
  type Role,
  type Team,
} from './crud/resources.ts';
import { useSubscription } from './crud/useSubscription.ts';

const STATUS_BADGE: Record<AgentStatus, string> = {
  active: 'badge badge-ok',
  away: 'badge badge-warn',
  inactive: 'badge',
};
/** The API's largest page: the team and role pickers list this many. */
const ALL = { page: 1, per_page: 100 };

/** The caller's teams or roles for the pickers and the table's names. */
function useOptions<T extends Team | Role>(kind: 'teams' | 'roles') {
  const me = useMe();
  return useQuery({
    queryKey: keys(me)[kind](ALL),
    queryFn: () => api.get<Page<T>>(`/api/session/${kind}${query(ALL)}`),
  });
}

function Usage() {
  const subscription = useSubscription();
  const sub = subscription.data;
  if (subscription.isPending || subscription.isError) return null;
  if (!sub) {
    return (
      <p className="crud-intro">
        You have no subscription, so no agent limit applies. <Link to="/subscription">Subscription</Link>
      </p>
    );
  }
  const { max_agents } = sub.plan.limits;
  return (
    <p className="crud-intro">
      {sub.usage.agents} of {max_agents} agents on your {sub.plan.name} plan.
      {sub.usage.agents >= max_agents && (
        <>
          {' '}
          <Link to="/subscription">Change plan</Link> to add more.
        </>
      )}
    </p>
  );
}

export function Component() {
  const teams = useOptions<Team>('teams');
  const roles = useOptions<Role>('roles');
  const teamList = teams.data?.data ?? [];
  const roleList = roles.data?.data ?? [];
  const teamName = new Map(teamList.map((team) => [team.id, team.name]));
  const roleName = new Map(roleList.map((role) => [role.id, role.name]));
  const nameOf = (names: Map<string, string>, id: string | null, loading: boolean) =>
    id === null ? '—' : (names.get(id) ?? (loading ? '…' : 'Unknown'));

  const agents: CrudResource<Agent, AgentValues> = {
    noun: 'agent',
    plural: 'agents',
    title: 'Agents',
    path: '/api/session/agents',
    listKey: (k, params) => k.agents(params),
    // Creating or deleting an agent changes the subscription's usage count; a rename does not.
    invalidates: {
      create: (k) => [k.agents(), k.subscription],
      update: (k) => [k.agents()],
      delete: (k) => [k.agents(), k.subscription],
    },
    columns: [
      {
        header: 'Name',
        cell: (agent) => (
          <>
            {agent.name}
            {/* On narrow screens the Email column is dropped: the address shows here. */}
            <span className="crud-secondary">{agent.email}</span>
          </>
        ),
      },
      { header: 'Email', cell: (agent) => agent.email, optional: true },
      {
        header: 'Status',
        cell: (agent) => (
          <span className={STATUS_BADGE[agent.status]}>{AGENT_STATUS_LABELS[agent.status]}</span>
        ),
      },
      { header: 'Team', cell: (agent) => nameOf(teamName, agent.team_id, teams.isPending) },
      { header: 'Role', cell: (agent) => nameOf(roleName, agent.role_id, roles.isPending), optional: true },
      { header: 'Created', cell: (agent) => dateTime(agent.created_at), optional: true },
    ],
    label: (agent) => agent.name,
    schema: agentForm,
    blank: { name: '', email: '', status: 'active', team_id: '', role_id: '' },
    toValues: (agent) => ({
      name: agent.name,
      email: agent.email,
      status: agent.status,
      team_id: agent.team_id ?? '',
      role_id: agent.role_id ?? '',
    }),
    toBody: (values) => ({
      name: values.name,
      email: values.email,
      status: values.status,
      team_id: values.team_id || null,
      role_id: values.role_id || null,
    }),
    uniqueField: 'email',
    fields: (form) => {
      const errors = form.formState.errors;
      return (
        <>
          <Field label="Name" error={errors.name?.message}>
            {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
          </Field>
          <Field label="Email" error={errors.email?.message} hint="Unique among your agents.">
            {(props) => <input {...props} type="email" autoComplete="off" {...form.register('email')} />}
          </Field>
          <Field label="Status" error={errors.status?.message}>
            {(props) => (
              <select {...props} {...form.register('status')}>
                {AGENT_STATUSES.map((status) => (
                  <option key={status} value={status}>
                    {AGENT_STATUS_LABELS[status]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Team"
            error={errors.team_id?.message}
            hint={
              teams.isError
                ? 'Your teams could not be loaded.'
                : teamList.length === 0
                  ? 'You have no teams yet (Teams page).'
                  : undefined
            }
          >
            {(props) => (
              <select {...props} {...form.register('team_id')}>
                <option value="">No team</option>
                {teamList.map((team) => (
                  <option key={team.id} value={team.id}>
                    {team.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Role"
            error={errors.role_id?.message}
            hint={
              roles.isError
                ? 'Your roles could not be loaded.'
                : roleList.length === 0
                  ? 'You have no roles yet (Roles page).'
                  : undefined
            }
          >
            {(props) => (
              <select {...props} {...form.register('role_id')}>
                <option value="">No role</option>
                {roleList.map((role) => (
                  <option key={role.id} value={role.id}>
                    {role.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </>
      );
    },
    filters: [
      {
        param: 'status',
        label: 'Status',
        options: AGENT_STATUSES.map((s) => ({ value: s, label: AGENT_STATUS_LABELS[s] })),
      },
      { param: 'team_id', label: 'Team', options: teamList.map((t) => ({ value: t.id, label: t.name })) },
      { param: 'role_id', label: 'Role', options: roleList.map((r) => ({ value: r.id, label: r.name })) },
    ],
    intro: <Usage />,
    emptyHint: <p>Agents answer your WhatsApp conversations. Add the first one.</p>,
    deleteDescription: (agent) => `“${agent.name}” (${agent.email}) is removed for good.`,
    // A 422 with max_agents: the plan is full.
    formErrorHelp: (error) =>
      error.status === 422 &&
      typeof error.details === 'object' &&
      error.details &&
      'max_agents' in error.details ? (
        <p>
          <Link to="/subscription">Change your plan</Link> or delete an agent first.
        </p>
      ) : null,
  };

  return <CrudPage resource={agents} />;
}
