/** The kinds of report, in a module of their own: the API contract and the web app read them too. */
export const REPORT_KINDS = ['campaign_delivery', 'subscriptions', 'usage'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
