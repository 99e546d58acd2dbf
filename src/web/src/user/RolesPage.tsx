import { Link } from 'react-router';
import { dateTime } from '../shared/format.ts';
import { Field } from '../shared/ui/Field.tsx';
import { CrudPage, type CrudResource } from './crud/CrudPage.tsx';
import { PERMISSION_LABELS, PERMISSIONS, type Role, type RoleValues, roleForm } from './crud/resources.ts';

const roles: CrudResource<Role, RoleValues> = {
  noun: 'role',
  plural: 'roles',
  title: 'Roles',
  path: '/api/session/roles',
  listKey: (k, params) => k.roles(params),
  // POST/PATCH/DELETE /api/session/roles invalidate the caller's roles list only.
  invalidates: { create: (k) => [k.roles()], update: (k) => [k.roles()], delete: (k) => [k.roles()] },
  columns: [
    { header: 'Name', cell: (role) => role.name },
    {
      header: 'Permissions',
      cell: (role) =>
        role.permissions.length === 0 ? (
          <span className="badge">None</span>
        ) : role.permissions.length === PERMISSIONS.length ? (
          <span className="badge badge-ok">All ({PERMISSIONS.length})</span>
        ) : (
          <span className="crud-badges">
            {role.permissions.map((permission) => (
              <span key={permission} className="badge" title={PERMISSION_LABELS[permission]}>
                {permission}
              </span>
            ))}
          </span>
        ),
    },
    { header: 'Updated', cell: (role) => dateTime(role.updated_at), optional: true },
  ],
  label: (role) => role.name,
  schema: roleForm,
  blank: { name: '', permissions: [] },
  toValues: (role) => ({ name: role.name, permissions: [...role.permissions] }),
  // In the API's order, so an unchanged set is not sent again.
  toBody: (values) => ({
    name: values.name,
    permissions: PERMISSIONS.filter((id) => values.permissions.includes(id)),
  }),
  uniqueField: 'name',
  fields: (form) => (
    <>
      <Field
        label="Name"
        error={form.formState.errors.name?.message}
        hint="Unique among your roles, 1–100 characters."
      >
        {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
      </Field>
      <fieldset
        className="crud-checks"
        aria-describedby={form.formState.errors.permissions ? 'permissions-error' : undefined}
      >
        <legend>Permissions</legend>
        <div className="crud-checks-grid">
          {PERMISSIONS.map((id) => (
            <label key={id}>
              <input type="checkbox" value={id} {...form.register('permissions')} />
              <span>
                {PERMISSION_LABELS[id]} <code className="visually-hidden">({id})</code>
              </span>
            </label>
          ))}
        </div>
        <div className="crud-checks-actions">
          <button
            type="button"
            className="btn"
            onClick={() => form.setValue('permissions', [...PERMISSIONS], { shouldDirty: true })}
          >
            Select all
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => form.setValue('permissions', [], { shouldDirty: true })}
          >
            Clear
          </button>
        </div>
        {form.formState.errors.permissions && (
          <p id="permissions-error" className="field-error" role="alert">
            {form.formState.errors.permissions.message}
          </p>
        )}
      </fieldset>
    </>
  ),
  intro: <p className="crud-intro">A role is a set of permissions you give agents.</p>,
  emptyHint: <p>Create a role, then give it to agents on the Agents page.</p>,
  deleteDescription: (role) =>
    `“${role.name}” is removed for good. A role that agents still have cannot be deleted.`,
  deleteConflictHelp: (role) => (
    <p>
      Give those agents another role (or none) first.{' '}
      <Link to={`/agents?role_id=${role.id}`}>Show the agents with “{role.name}”</Link>
    </p>
  ),
};

export function Component() {
  return <CrudPage resource={roles} />;
}
