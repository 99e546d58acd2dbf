import { Link } from 'react-router';
import { dateTime } from '../shared/format.ts';
import { Field } from '../shared/ui/Field.tsx';
import { CrudPage, type CrudResource } from './crud/CrudPage.tsx';
import { type Team, type TeamValues, teamForm } from './crud/resources.ts';

const teams: CrudResource<Team, TeamValues> = {
  noun: 'team',
  plural: 'teams',
  title: 'Teams',
  path: '/api/session/teams',
  listKey: (k, params) => k.teams(params),
  // POST/PATCH/DELETE /api/session/teams invalidate the caller's teams list only.
  invalidates: { create: (k) => [k.teams()], update: (k) => [k.teams()], delete: (k) => [k.teams()] },
  columns: [
    { header: 'Name', cell: (team) => team.name },
    { header: 'Created', cell: (team) => dateTime(team.created_at), optional: true },
    { header: 'Updated', cell: (team) => dateTime(team.updated_at), optional: true },
  ],
  label: (team) => team.name,
  schema: teamForm,
  blank: { name: '' },
  toValues: (team) => ({ name: team.name }),
  toBody: (values) => ({ name: values.name }),
  uniqueField: 'name',
  fields: (form) => (
    <Field
      label="Name"
      error={form.formState.errors.name?.message}
      hint="Unique among your teams, 1–100 characters."
    >
      {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
    </Field>
  ),
  intro: <p className="crud-intro">Group your agents into teams; an agent belongs to at most one.</p>,
  emptyHint: <p>Create a team, then assign agents to it on the Agents page.</p>,
  deleteDescription: (team) =>
    `“${team.name}” is removed for good. A team that agents still belong to cannot be deleted.`,
  deleteConflictHelp: (team) => (
    <p>
      Move those agents to another team (or remove them from it) first.{' '}
      <Link to={`/agents?team_id=${team.id}`}>Show the agents in “{team.name}”</Link>
    </p>
  ),
};

export function Component() {
  return <CrudPage resource={teams} />;
}
