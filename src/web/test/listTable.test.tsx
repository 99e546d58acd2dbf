import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type Page } from '../src/shared/api.ts';
import { ListTable } from '../src/shared/ui/ListTable.tsx';
import { EmptyState } from '../src/shared/ui/States.tsx';

// The shared list table on a real react-query client: each state comes from what the
// query function answers, not from a hand-built query object.

interface Row {
  id: number;
  name: string;
}

function List({
  load,
  onPage = () => {},
}: {
  load: () => Promise<Page<Row>>;
  onPage?: (page: number) => void;
}) {
  const list = useQuery({ queryKey: ['rows'], queryFn: load, retry: false });
  return (
    <ListTable
      list={list}
      loading="Loading rows…"
      empty={<EmptyState title="No rows yet." />}
      caption="Rows"
      headers={['Name', { label: 'Id', className: 'optional' }]}
      actions
      onPage={onPage}
      footer={<span>per page</span>}
      row={(row) => (
        <tr key={row.id}>
          <td>{row.name}</td>
          <td>{row.id}</td>
          <td>
            <button type="button">Delete {row.name}</button>
          </td>
        </tr>
      )}
    />
  );
}

function renderList(load: () => Promise<Page<Row>>, onPage?: (page: number) => void) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <List load={load} onPage={onPage} />
    </QueryClientProvider>,
  );
  return client;
}

const page = (rows: Row[], total = rows.length, at = 1): Page<Row> => ({
  data: rows,
  page: at,
  per_page: 2,
  total,
});

describe('the shared list table', () => {
  it('shows loading, then the rows under their headers with a hidden actions column and the pagination', async () => {
    const onPage = vi.fn();
    renderList(
      async () =>
        page(
          [
            { id: 1, name: 'Ana' },
            { id: 2, name: 'Bia' },
          ],
          3,
        ),
      onPage,
    );
    expect(screen.getByRole('status')).toHaveTextContent('Loading rows…');
    const table = await screen.findByRole('table', { name: 'Rows' });
    const headers = within(table).getAllByRole('columnheader');
    expect(headers.map((h) => h.textContent)).toEqual(['Name', 'Id', 'Actions']);
    expect(headers[1]).toHaveClass('optional');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByText('Page 1 of 2 · 3 in all')).toBeInTheDocument();
    expect(screen.getByText('per page')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(onPage).toHaveBeenCalledWith(2);
  });

  it('shows the empty state and no table when the list has no rows', async () => {
    const onPage = vi.fn();
    renderList(async () => page([]), onPage);
    expect(await screen.findByText('No rows yet.')).toBeInTheDocument();
    expect(onPage).not.toHaveBeenCalled();
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByText('per page')).toBeNull();
  });

  it('shows the error with a retry that loads again', async () => {
    const load = vi
      .fn<() => Promise<Page<Row>>>()
      .mockRejectedValueOnce(new ApiError(503, 'unavailable', 'The database is away.'))
      .mockResolvedValueOnce(page([{ id: 1, name: 'Ana' }]));
    renderList(load);
    expect(await screen.findByRole('alert')).toHaveTextContent('The database is away.');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table', { name: 'Rows' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps the rows it has when a refetch fails, with the error above them', async () => {
    const load = vi
      .fn<() => Promise<Page<Row>>>()
      .mockResolvedValueOnce(page([{ id: 1, name: 'Ana' }]))
      .mockRejectedValueOnce(new ApiError(503, 'unavailable', 'The database is away.'));
    const client = renderList(load);
    await screen.findByRole('table', { name: 'Rows' });
    await client.refetchQueries({ queryKey: ['rows'] });
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('The database is away.'));
    expect(screen.getByRole('button', { name: 'Delete Ana' })).toBeInTheDocument();
  });

  it('moves an address past the last page to the last page, replacing it, without claiming the list is empty', async () => {
    const onPage = vi.fn();
    renderList(async () => page([], 3, 4), onPage);
    await waitFor(() => expect(onPage).toHaveBeenCalledWith(2, { replace: true }));
    expect(screen.queryByText('No rows yet.')).toBeNull();
    expect(screen.getByRole('status')).toHaveTextContent('Loading rows…');
  });
});
