import { zodResolver } from '@hookform/resolvers/zod';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { api, type Page as ListPage, query } from '../shared/api.ts';
import { useMe } from '../shared/auth.tsx';
import { dateTime } from '../shared/format.ts';
import { keys } from '../shared/queryKeys.ts';
import { ConfirmDialog, Dialog } from '../shared/ui/Dialog.tsx';
import { Field } from '../shared/ui/Field.tsx';
import { ListTable } from '../shared/ui/ListTable.tsx';
import { Page } from '../shared/ui/Page.tsx';
import { EmptyState, MutationError } from '../shared/ui/States.tsx';
import { ImportCsvButton, ImportCsvStatus, useCsvImport } from './jobs/ImportCsv.tsx';
import './jobs/jobs.css';
import { type ContactBody, type ContactFormInput, contactForm } from './jobs/schemas.ts';
import type { Contact } from './jobs/types.ts';
import { retryTransient, useDebounced } from './jobs/useJobStatus.ts';

const PER_PAGE = 25;

/** The caller's contacts: search, add, delete, and import a CSV of them. */
export function Component() {
  const me = useMe();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 300);
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Contact | null>(null);
  const csv = useCsvImport();
  const params = { q, page, per_page: PER_PAGE };
  const list = useQuery({
    queryKey: keys(me).contacts(params),
    queryFn: () => api.get<ListPage<Contact>>(`/api/contacts${query(params)}`),
    placeholderData: keepPreviousData,
    retry: retryTransient,
  });

  return (
    <Page
      title="Contacts"
      actions={
        <>
          <ImportCsvButton state={csv} />
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New contact
          </button>
        </>
      }
    >
      <ImportCsvStatus state={csv} />
      <div className="jobs-toolbar">
        <div className="field">
          <label htmlFor="contacts-search">Search contacts</label>
          <input
            id="contacts-search"
            type="search"
            placeholder="Name or phone"
            maxLength={100}
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
              setPage(1);
            }}
          />
        </div>
        {list.data && list.data.total > 0 && !list.isPlaceholderData && (
          <Link className="btn jobs-linkbtn" to={`/campaigns${query({ new: 1, q })}`}>
            New campaign to {q ? 'these' : 'all'} {list.data.total} contact{list.data.total === 1 ? '' : 's'}
          </Link>
        )}
      </div>

      <ListTable
        list={list}
        loading="Loading contacts…"
        empty={
          q ? (
            <EmptyState title={`No contacts match “${q}”.`}>
              <p>Try another name or number.</p>
            </EmptyState>
          ) : (
            <EmptyState title="No contacts yet.">
              <p>
                Add one, or import a CSV with a header row: phone, name and any other columns as variables.
              </p>
            </EmptyState>
          )
        }
        caption="Contacts"
        headers={['Name', 'Phone', 'Variables', 'Added']}
        actions
        className="jobs-table"
        onPage={setPage}
        row={(contact) => (
          <tr key={contact.id}>
            <td>{contact.name || '—'}</td>
            <td>{contact.phone}</td>
            <td className="jobs-wrap">
              <Variables variables={contact.variables} />
            </td>
            <td>{dateTime(contact.created_at)}</td>
            <td>
              <div className="row-actions">
                <button
                  type="button"
                  className="btn"
                  aria-label={`Delete ${contact.name || contact.phone}`}
                  onClick={() => setDeleting(contact)}
                >
                  Delete
                </button>
              </div>
            </td>
          </tr>
        )}
      />

      <CreateContact open={creating} onOpenChange={setCreating} />
      <DeleteContact contact={deleting} onClose={() => setDeleting(null)} />
    </Page>
  );
}

function Variables({ variables }: { variables: Record<string, string> }) {
  const entries = Object.entries(variables ?? {});
  if (entries.length === 0) return <span className="field-hint">—</span>;
  return (
    <ul className="jobs-chips">
      {entries.map(([key, value]) => (
        <li key={key}>
          <code>{key}</code>={value}
        </li>
      ))}
    </ul>
  );
}

function CreateContact({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const form = useForm<ContactFormInput, unknown, ContactBody>({
    resolver: zodResolver(contactForm),
    defaultValues: { phone: '', name: '', variables: '' },
  });
  const create = useMutation({
    mutationFn: (body: ContactBody) => api.post<Contact>('/api/contacts', body),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys(me).contacts() });
      form.reset();
      onOpenChange(false);
    },
  });
  const close = (next: boolean) => {
    if (!next) {
      form.reset();
      create.reset();
    }
    onOpenChange(next);
  };
  const { errors } = form.formState;
  return (
    <Dialog open={open} onOpenChange={close} title="New contact">
      <form noValidate onSubmit={form.handleSubmit((body) => create.mutate(body))}>
        <Field label="Phone" error={errors.phone?.message} hint="E.164, such as +55 11 91234-5678.">
          {(props) => <input {...props} type="tel" autoComplete="off" {...form.register('phone')} />}
        </Field>
        <Field label="Name" error={errors.name?.message}>
          {(props) => <input {...props} autoComplete="off" {...form.register('name')} />}
        </Field>
        <Field
          label="Variables (optional)"
          error={errors.variables?.message}
          hint="One name=value a line, e.g. city=São Paulo. Templates use them as {{city}}."
        >
          {(props) => <textarea {...props} rows={3} {...form.register('variables')} />}
        </Field>
        <MutationError error={create.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => close(false)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? 'Saving…' : 'Add contact'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteContact({ contact, onClose }: { contact: Contact | null; onClose: () => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => api.delete(`/api/contacts/${id}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys(me).contacts() });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      open={contact !== null}
      onOpenChange={(open) => {
        if (!open) {
          remove.reset();
          onClose();
        }
      }}
      title="Delete this contact?"
      description={contact ? `${contact.name || 'This contact'} (${contact.phone}) will be removed.` : ''}
      pending={remove.isPending}
      error={<MutationError error={remove.error} />}
      onConfirm={() => contact && remove.mutate(contact.id)}
    />
  );
}
