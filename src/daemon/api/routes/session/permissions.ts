/** The fixed set of permissions a role can grant. */
export const PERMISSIONS = [
  'contacts:read',
  'contacts:write',
  'campaigns:read',
  'campaigns:write',
  'campaigns:send',
  'agents:read',
  'agents:write',
  'reports:read',
  'inbox:read',
  'inbox:reply',
] as const;
