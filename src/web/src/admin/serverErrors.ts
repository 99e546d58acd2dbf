import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { ApiError, errorMessage } from '../shared/api.ts';

interface Detail {
  path: string;
  message: string;
}

function detailsOf(error: unknown): Detail[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return [];
  return error.details.filter(
    (d): d is Detail => typeof d?.path === 'string' && typeof d?.message === 'string',
  );
}

const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

/**
 * Puts a refused write's reasons where the user will look for them: each `400` detail
 * whose path (`body.limits.max_agents`) names a field of the form goes under that field;
 * `conflicts` sends a status (`409`) to one field; everything else — a `422`, an offline
 * refusal, a detail no field shows — becomes the form's own error (`errors.root.server`).
 */
export function showServerError<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: Record<string, Path<T>>,
  conflicts?: { status: number; field: Path<T> },
): void {
  if (conflicts && error instanceof ApiError && error.status === conflicts.status) {
    setError(conflicts.field, { type: 'server', message: sentence(error.message) }, { shouldFocus: true });
    return;
  }
  let unmatched = !(error instanceof ApiError && error.status === 400 && error.code === 'invalid_request');
  let focused = false;
  for (const detail of detailsOf(error)) {
    const field = fields[detail.path];
    if (!field) {
      unmatched = true;
      continue;
    }
    setError(field, { type: 'server', message: sentence(detail.message) }, { shouldFocus: !focused });
    focused = true;
  }
  if (unmatched || !focused) setError('root.server', { type: 'server', message: errorMessage(error) });
}
