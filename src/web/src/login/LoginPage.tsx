import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { Navigate } from 'react-router';
import { z } from 'zod';
import { errorMessage } from '../shared/api.ts';
import { useAuth } from '../shared/auth.tsx';
import { Field } from '../shared/ui/Field.tsx';
import { OfflineBanner } from '../shared/ui/OfflineBanner.tsx';

const schema = z.object({
  token: z
    .string()
    .trim()
    .regex(
      /^wuz_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/,
      'A token looks like wuz_<12 hex characters>_<43 characters>.',
    ),
});
type Values = z.infer<typeof schema>;

/**
 * Sign in with an API token (`wuzctl seed --demo` or `wuzctl tokens create` prints them).
 * A lazy route of its own, so zod and react-hook-form stay out of the initial bundle.
 */
export function Component() {
  const { me, login } = useAuth();
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { token: '' } });
  if (me) return <Navigate to="/" replace />;
  const onSubmit = form.handleSubmit(async ({ token }) => {
    try {
      // Signed in, this page renders <Navigate to="/">, which leads by role.
      await login(token);
    } catch (error) {
      form.setError('token', { message: errorMessage(error) });
    }
  });
  return (
    <main className="login" id="main">
      <OfflineBanner />
      <form className="card login-card" onSubmit={onSubmit} noValidate>
        <h1>WUZAPI Manager</h1>
        <p>Sign in with your API token.</p>
        <Field
          label="API token"
          error={form.formState.errors.token?.message}
          hint="Printed by `wuzctl tokens create` or `wuzctl seed --demo`."
        >
          {(props) => <input {...props} type="password" autoComplete="off" {...form.register('token')} />}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
