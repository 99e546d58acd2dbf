import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, type Me, setApiToken, setUnauthorizedHandler } from './api.ts';

/** The caller, as GET /api/me describes them. */
export type { Me };

interface AuthState {
  me: Me | null;
  /** Checks the token against the API and keeps it; throws ApiError when it is refused. */
  login(token: string): Promise<Me>;
  logout(): Promise<void>;
}

const TOKEN_KEY = 'wuz.token';
const ME_KEY = 'wuz.me';
/** The service worker's API cache (src/sw.ts): emptied on logout. */
export const API_CACHE = 'wuz-api';

const AuthContext = createContext<AuthState | null>(null);

/**
 * What must be forgotten when a session ends or another person signs in: the query cache
 * registers itself here when the signed-in shell loads (react-query stays out of the
 * first load, which only needs the login page).
 */
const sessionEndListeners = new Set<() => void>();
export function onSessionEnd(listener: () => void): () => void {
  sessionEndListeners.add(listener);
  return () => sessionEndListeners.delete(listener);
}
function endSession(): void {
  for (const listener of sessionEndListeners) listener();
}

function stored(): { token: string | null; me: Me | null } {
  try {
    const token = localStorage.getItem(TOKEN_KEY);
    const me = JSON.parse(localStorage.getItem(ME_KEY) ?? 'null') as Me | null;
    return token && me ? { token, me } : { token: null, me: null };
  } catch {
    return { token: null, me: null };
  }
}

/**
 * Token login. The token stays in localStorage (the API takes Bearer tokens, not cookies);
 * logging out forgets it, drops every cached query and empties the service worker's API
 * cache, so the next person on this browser sees nothing of the last one's data.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(() => {
    const { token, me } = stored();
    setApiToken(token);
    return me;
  });

  const forget = useCallback(async () => {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(ME_KEY);
    setApiToken(null);
    endSession();
    if ('caches' in globalThis) await caches.delete(API_CACHE).catch(() => false);
    setMe(null);
  }, []);

  useEffect(() => {
    // A revoked or expired token: back to the login page, nothing kept.
    setUnauthorizedHandler(() => void forget());
  }, [forget]);

  const login = useCallback(async (token: string) => {
    const previous = stored().me;
    setApiToken(token);
    try {
      const who = await api.get<Me>('/api/me');
      // Another person on this browser: nothing of the previous one's may be shown.
      if (previous && previous.user.id !== who.user.id) {
        endSession();
        if ('caches' in globalThis) await caches.delete(API_CACHE).catch(() => false);
      }
      localStorage.setItem(TOKEN_KEY, token);
      localStorage.setItem(ME_KEY, JSON.stringify(who));
      setMe(who);
      return who;
    } catch (error) {
      setApiToken(stored().token);
      throw error instanceof ApiError && error.status === 401
        ? new ApiError(401, 'unauthorized', 'This token is not valid (unknown, malformed or revoked).')
        : error;
    }
  }, []);

  const value = useMemo<AuthState>(() => ({ me, login, logout: forget }), [me, login, forget]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** The signed-in caller; pages under the authenticated layout only render with one. */
export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error('not signed in');
  return me;
}
