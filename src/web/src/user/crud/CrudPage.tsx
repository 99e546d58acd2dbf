import { zodResolver } from '@hookform/resolvers/zod';
import {
  keepPreviousData,
  type QueryKey,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { type ReactNode, type RefObject, useRef, useState } from 'react';
import {
  type DefaultValues,
  type FieldValues,
  type Path,
  type UseFormReturn,
  useForm,
} from 'react-hook-form';
import { useSearchParams } from 'react-router';
import type { z } from 'zod';
import { ApiError, api, errorMessage, type Page as ListPage, query } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import { ConfirmDialog, Dialog } from '../../shared/ui/Dialog.tsx';
import { Field } from '../../shared/ui/Field.tsx';
import { ListTable } from '../../shared/ui/ListTable.tsx';
import { Page } from '../../shared/ui/Page.tsx';
import { EmptyState } from '../../shared/ui/States.tsx';
import './crud.css';

export type Keys = ReturnType<typeof keys>;

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Hidden on narrow screens: the row still reads well without it. */
  optional?: boolean;
}

/** A list filter kept in the URL (`?team_id=…`) and passed to the API as is. */
export interface Filter {
  param: string;
  label: string;
  options: ReadonlyArray<{ value: string; label: string }>;
}

/**
 * Everything that makes one of the caller's resources (agents, teams, roles) differ;
 * `CrudPage` does the rest: list with pagination, search and filters, create and edit
 * in a dialog (react-hook-form + zod), delete with confirmation, loading/empty/error.
 */
export interface CrudResource<T extends { id: string }, V extends FieldValues> {
  /** "agent": buttons and dialog titles. */
  noun: string;
  /** "agents": empty states, search label. */
  plural: string;
  /** "Agents": the page heading. */
  title: string;
  /** "/api/session/agents": list and create; `/:id` patch and delete. */
  path: string;
  /** The list's query key for these params (keys(me).agents, …). */
  listKey: (k: Keys, params?: object) => QueryKey;
  /** What each write invalidates: the API's own invalidations (docs/API.md, "Caching"). */
  invalidates: Record<'create' | 'update' | 'delete', (k: Keys) => QueryKey[]>;
  columns: ReadonlyArray<Column<T>>;
  /** A row's name in buttons' accessible names and confirmations. */
  label: (row: T) => string;
  /** The form's values, validated like the server validates the body. */
  schema: z.ZodType<V, V>;
  blank: V;
  toValues: (row: T) => V;
  /** The request body for these values (create: all of it; edit: only what changed is sent). */
  toBody: (values: V) => Record<string, unknown>;
  fields: (form: UseFormReturn<V>) => ReactNode;
  /** Where a 409 duplicate goes (email of an agent, name of a team). */
  uniqueField?: Path<V>;
  filters?: ReadonlyArray<Filter>;
  intro?: ReactNode;
  emptyHint?: ReactNode;
  deleteDescription?: (row: T) => string;
  /** Under a refused delete (409 "team is used by 2 agents"): what to do about it. */
  deleteConflictHelp?: (row: T, error: ApiError) => ReactNode;
  /** Under a refused create/edit (e.g. the plan's agent limit): what to do about it. */
  formErrorHelp?: (error: ApiError) => ReactNode;
  perPage?: number;
}

/** "team is used by 2 agents" → "Team is used by 2 agents." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/** An error of a mutation, as a sentence, announced. */
export function ErrorText({ error, children }: { error: unknown; children?: ReactNode }) {
  if (!error) return null;
  return (
    <div className="form-error crud-error" role="alert">
      <p>{sentence(errorMessage(error))}</p>
      {children}
    </div>
  );
}

function pageParam(value: string | null): number {
  const page = Number(value);
  return Number.isInteger(page) && page >= 1 ? page : 1;
}

export function CrudPage<T extends { id: string }, V extends FieldValues>({
  resource,
}: {
  resource: CrudResource<T, V>;
}) {
  const me = useMe();
  const k = keys(me);
  const queryClient = useQueryClient();
  const [searchParams, setSearchParams] = useSearchParams();
  const perPage = resource.perPage ?? 25;
  const page = pageParam(searchParams.get('page'));
  const q = searchParams.get('q') ?? '';
  const filters = resource.filters ?? [];
  const params: Record<string, string | number> = { page, per_page: perPage };
  if (q) params.q = q;
  for (const filter of filters) {
    const value = searchParams.get(filter.param);
    if (value) params[filter.param] = value;
  }
  const filtered = Object.keys(params).length > 2;

  const list = useQuery({
    queryKey: resource.listKey(k, params),
    queryFn: () => api.get<ListPage<T>>(`${resource.path}${query(params)}`),
    placeholderData: keepPreviousData,
  });

  const setParams = (changes: Record<string, string>, replace = false) =>
    setSearchParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [name, value] of Object.entries(changes)) {
          if (value) next.set(name, value);
          else next.delete(name);
        }
        // A new search or filter starts at its first page.
        if (!('page' in changes)) next.delete('page');
        if (next.get('page') === '1') next.delete('page');
        return next;
      },
      { replace },
    );

  const [editing, setEditing] = useState<{ row: T | null } | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const createButton = useRef<HTMLButtonElement>(null);

  const remove = useMutation({
    mutationFn: (row: T) => api.delete(`${resource.path}/${row.id}`),
    onSuccess: () => invalidateAll(resource.invalidates.delete(k)),
    onError: (error) => {
      // Already gone (deleted elsewhere): the list is stale.
      if (error instanceof ApiError && error.status === 404) void invalidateAll([resource.listKey(k)]);
    },
  });

  function invalidateAll(queryKeys: QueryKey[]) {
    return Promise.all(queryKeys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
  }

  const openCreate = () => setEditing({ row: null });
  const newButton = (ref?: RefObject<HTMLButtonElement | null>) => (
    <button ref={ref} type="button" className="btn btn-primary" onClick={openCreate}>
      New {resource.noun}
    </button>
  );

  const empty = filtered ? (
    <EmptyState title={`No ${resource.plural} match these filters`}>
      <button
        type="button"
        className="btn"
        onClick={() =>
          setParams(Object.fromEntries(['q', ...filters.map((f) => f.param)].map((p) => [p, ''])))
        }
      >
        Clear filters
      </button>
    </EmptyState>
  ) : (
    <EmptyState title={`No ${resource.plural} yet`}>
      {resource.emptyHint}
      {newButton()}
    </EmptyState>
  );
  const optional = (column: { optional?: boolean }) => (column.optional ? 'crud-optional' : undefined);
  const body = (
    <ListTable
      list={list}
      loading={`Loading ${resource.plural}…`}
      empty={empty}
      caption={resource.title}
      headers={resource.columns.map((column) => ({ label: column.header, className: optional(column) }))}
      actions
      tableClassName="crud-table"
      onPage={(next, how) => setParams({ page: String(next) }, how?.replace)}
      row={(row) => (
        <tr key={row.id}>
          {resource.columns.map((column) => (
            <td key={column.header} className={optional(column)}>
              {column.cell(row)}
            </td>
          ))}
          <td>
            <div className="row-actions">
              <button
                type="button"
                className="btn"
                aria-label={`Edit ${resource.label(row)}`}
                onClick={() => setEditing({ row })}
              >
                Edit
              </button>
              <button
                type="button"
                className="btn btn-danger"
                aria-label={`Delete ${resource.label(row)}`}
                onClick={() => {
                  remove.reset();
                  setDeleting(row);
                }}
              >
                Delete
              </button>
            </div>
          </td>
        </tr>
      )}
    />
  );

  const editingRow = editing?.row ?? null;
  return (
    <Page title={resource.title} actions={newButton(createButton)}>
      {resource.intro}
      <Toolbar resource={resource} q={q} searchParams={searchParams} setParams={setParams} />
      {body}

      <Dialog
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        fallbackFocus={createButton}
        title={editingRow ? `Edit ${resource.noun} “${resource.label(editingRow)}”` : `New ${resource.noun}`}
      >
        {editing && (
          <CrudForm
            key={editingRow?.id ?? 'new'}
            resource={resource}
            row={editingRow}
            onDone={() => setEditing(null)}
          />
        )}
      </Dialog>

      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => {
          if (!open) setDeleting(null);
        }}
        title={
          deleting ? `Delete ${resource.noun} “${resource.label(deleting)}”?` : `Delete ${resource.noun}?`
        }
        description={
          (deleting && resource.deleteDescription?.(deleting)) ?? `This ${resource.noun} is removed for good.`
        }
        pending={remove.isPending}
        fallbackFocus={createButton}
        error={
          remove.error ? (
            <ErrorText error={remove.error}>
              {deleting && remove.error instanceof ApiError && remove.error.status === 409
                ? resource.deleteConflictHelp?.(deleting, remove.error)
                : null}
            </ErrorText>
          ) : undefined
        }
        onConfirm={() => {
          if (deleting) remove.mutate(deleting, { onSuccess: () => setDeleting(null) });
        }}
      />
    </Page>
  );
}

function Toolbar<T extends { id: string }, V extends FieldValues>({
  resource,
  q,
  searchParams,
  setParams,
}: {
  resource: CrudResource<T, V>;
  q: string;
  searchParams: URLSearchParams;
  setParams: (changes: Record<string, string>) => void;
}) {
  return (
    <div className="crud-toolbar">
      <search className="crud-search">
        <form
          className="crud-search-form"
          onSubmit={(event) => {
            event.preventDefault();
            const value = new FormData(event.currentTarget).get('q');
            setParams({ q: typeof value === 'string' ? value.trim() : '' });
          }}
        >
          <Field label={`Search ${resource.plural}`}>
            {(props) => <input {...props} key={q} name="q" type="search" defaultValue={q} maxLength={100} />}
          </Field>
          <button type="submit" className="btn">
            Search
          </button>
        </form>
      </search>
      {resource.filters?.map((filter) => (
        <Field key={filter.param} label={filter.label}>
          {(props) => (
            <select
              {...props}
              value={searchParams.get(filter.param) ?? ''}
              onChange={(event) => setParams({ [filter.param]: event.target.value })}
            >
              <option value="">Any</option>
              {/* A value from a link that is not among the options (yet): still shown as chosen. */}
              {(() => {
                const value = searchParams.get(filter.param);
                return value && !filter.options.some((option) => option.value === value) ? (
                  <option value={value}>(this {filter.label.toLowerCase()})</option>
                ) : null;
              })()}
              {filter.options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      ))}
    </div>
  );
}

/** Only the entries whose value differs from the row's: a PATCH changes what the user changed. */
function changedEntries(next: Record<string, unknown>, before: Record<string, unknown>) {
  return Object.fromEntries(
    Object.entries(next).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(before[key])),
  );
}

/**
 * Puts the server's refusal next to the field it is about: a 400's `details`
 * (`body.email: must be an email address`) or a 409 duplicate. True when it did.
 */
function showOnFields<V extends FieldValues>(
  error: unknown,
  form: UseFormReturn<V>,
  resource: CrudResource<never, V>,
) {
  if (!(error instanceof ApiError)) return false;
  const fields = Object.keys(resource.blank);
  if (error.status === 400 && Array.isArray(error.details)) {
    const issues = (error.details as Array<{ path?: unknown; message?: unknown }>)
      .map((issue) => ({
        field: String(issue.path ?? '').split('.')[1] ?? '',
        message: String(issue.message ?? ''),
      }))
      .filter((issue) => fields.includes(issue.field));
    if (issues.length === 0) return false;
    for (const issue of issues) form.setError(issue.field as Path<V>, { message: sentence(issue.message) });
    form.setFocus(issues[0]?.field as Path<V>);
    return true;
  }
  if (error.status === 409 && error.code === 'conflict' && resource.uniqueField) {
    form.setError(resource.uniqueField, { message: sentence(error.message) });
    form.setFocus(resource.uniqueField);
    return true;
  }
  return false;
}

function CrudForm<T extends { id: string }, V extends FieldValues>({
  resource,
  row,
  onDone,
}: {
  resource: CrudResource<T, V>;
  row: T | null;
  onDone: () => void;
}) {
  const me = useMe();
  const queryClient = useQueryClient();
  const form = useForm<V>({
    resolver: zodResolver(resource.schema),
    defaultValues: (row ? resource.toValues(row) : resource.blank) as DefaultValues<V>,
  });
  const [formError, setFormError] = useState<unknown>(null);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      row ? api.patch<T>(`${resource.path}/${row.id}`, body) : api.post<T>(resource.path, body),
    // The dialog closes once the list shows the change (the refetch is a cache hit: the
    // API reloaded page 1 before answering).
    onSuccess: () =>
      Promise.all(
        resource.invalidates[row ? 'update' : 'create'](keys(me)).map((queryKey) =>
          queryClient.invalidateQueries({ queryKey }),
        ),
      ),
  });

  const onSubmit = form.handleSubmit(async (values) => {
    setFormError(null);
    let body = resource.toBody(values);
    if (row) {
      body = changedEntries(body, resource.toBody(resource.toValues(row)));
      if (Object.keys(body).length === 0) return onDone();
    }
    try {
      await save.mutateAsync(body);
      onDone();
    } catch (error) {
      if (!showOnFields(error, form, resource as CrudResource<never, V>)) setFormError(error);
    }
  });

  return (
    <form onSubmit={onSubmit} noValidate className="crud-form">
      {resource.fields(form)}
      <ErrorText error={formError}>
        {formError instanceof ApiError ? resource.formErrorHelp?.(formError) : null}
      </ErrorText>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : row ? 'Save changes' : `Create ${resource.noun}`}
        </button>
      </div>
    </form>
  );
}
