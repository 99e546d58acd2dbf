import type { UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useEffect } from 'react';
import type { Page } from '../api.ts';
import { Pagination } from './Pagination.tsx';
import { ErrorState, Loading } from './States.tsx';

type ListQuery<T> = UseQueryResult<Page<T>>;

/**
 * The four states of one of the API's lists: loading, failed (with a retry), empty, or its
 * rows. A refetch that fails while rows are shown keeps them and shows the error above
 * them, so a flaky network does not blank a page the user is reading.
 */
export function ListStates<T>({
  list,
  loading,
  empty,
  children,
}: {
  list: ListQuery<T>;
  loading?: string;
  empty: ReactNode;
  children: (page: Page<T>) => ReactNode;
}) {
  if (list.isPending) return <Loading label={loading} />;
  const retry = () => void list.refetch();
  if (!list.data) return <ErrorState error={list.error} retry={retry} />;
  if (list.data.data.length === 0) return empty;
  return (
    <>
      {list.isError && <ErrorState error={list.error} retry={retry} />}
      {children(list.data)}
    </>
  );
}

export type Header = string | { label: string; className?: string };

/**
 * A paged list as a table: its states, a hidden caption for screen readers, column
 * headers (plus a hidden "Actions" one when rows end in buttons), the rows the page
 * renders, and the pagination under it.
 */
export function ListTable<T>({
  list,
  loading,
  empty,
  heading,
  caption,
  headers,
  actions = false,
  className,
  tableClassName,
  row,
  onPage,
  footer,
}: {
  list: ListQuery<T>;
  loading: string;
  empty: ReactNode;
  /** A visible title over the rows (none while the list is loading or empty). */
  heading?: string;
  caption: string;
  headers: Header[];
  actions?: boolean;
  /** Added to the scroll container's `table-wrap`. */
  className?: string;
  tableClassName?: string;
  /** One `<tr>` per item, with its key. */
  row: (item: T) => ReactNode;
  /** Go to a page; `replace` when the list corrects an address past its end. */
  onPage: (page: number, how?: { replace: boolean }) => void;
  /** Shown beside the pagination (a page-size choice). */
  footer?: ReactNode;
}) {
  // Past the last page (its last row was just deleted, or an old link): go to the last one.
  // The answer names its own page, so a previous page shown while the next one loads
  // (keepPreviousData) is never mistaken for it.
  const data = list.data;
  const lastPage = data ? Math.max(1, Math.ceil(data.total / Math.max(1, data.per_page))) : 1;
  const pastTheEnd = Boolean(data && data.data.length === 0 && data.page > lastPage);
  // biome-ignore lint/correctness/useExhaustiveDependencies: onPage is recreated every render
  useEffect(() => {
    if (pastTheEnd) onPage(lastPage, { replace: true });
  }, [pastTheEnd, lastPage]);
  return (
    <ListStates list={list} loading={loading} empty={pastTheEnd ? <Loading label={loading} /> : empty}>
      {(page) => (
        <>
          {heading && <h2>{heading}</h2>}
          <div className={className ? `table-wrap ${className}` : 'table-wrap'} aria-busy={list.isFetching}>
            <table className={tableClassName}>
              <caption className="visually-hidden">{caption}</caption>
              <thead>
                <tr>
                  {headers.map((header) => {
                    const { label, className: cell } =
                      typeof header === 'string' ? { label: header, className: undefined } : header;
                    return (
                      <th key={label} scope="col" className={cell}>
                        {label}
                      </th>
                    );
                  })}
                  {actions && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>{page.data.map(row)}</tbody>
            </table>
          </div>
          {footer ? (
            <div className="list-footer">
              <Pagination list={page} onPage={onPage} />
              {footer}
            </div>
          ) : (
            <Pagination list={page} onPage={onPage} />
          )}
        </>
      )}
    </ListStates>
  );
}
