import { api } from '../../shared/api.ts';

function filenameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ?? fallback;
}

/**
 * Fetches `path` with the Bearer token and saves the answer as a file through a Blob URL
 * (a plain link would not carry the token). Failures are ApiErrors with the API's message
 * (a 401 signs out, as for every other call).
 */
export async function downloadWithToken(path: string, fallbackName: string): Promise<string> {
  const response = await api.download(path, 'text/csv');
  const blob = await response.blob();
  const name = filenameOf(response.headers.get('content-disposition'), fallbackName);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has been handled, not before.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
