import type { Page } from '../api.ts';

/** Previous/next for one of the API's `{data, page, per_page, total}` lists. */
export function Pagination({
  list,
  onPage,
}: {
  list: Pick<Page<unknown>, 'page' | 'per_page' | 'total'>;
  onPage: (page: number) => void;
}) {
  const { page, per_page: perPage, total } = list;
  const pages = Math.max(1, Math.ceil(total / Math.max(1, perPage)));
  if (pages <= 1) return null;
  return (
    <nav className="pagination" aria-label="Pagination">
      <button type="button" className="btn" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        Page {page} of {pages} · {total} in all
      </span>
      <button type="button" className="btn" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
