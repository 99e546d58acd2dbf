import type { AlertsConfig } from '../../config/types.ts';
import type { AlertChannel } from '../types.ts';
import { EmailChannel } from './email.ts';
import { WebhookChannel } from './webhook.ts';
import { detectWebhookFormat } from './webhookFormat.ts';

/** The channels the configuration names: a webhook, e-mail, both or none. */
export function channelsFromConfig(config: AlertsConfig): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (config.webhook) {
    const url = new URL(config.webhook.url);
    const format = config.webhook.format === 'auto' ? detectWebhookFormat(url) : config.webhook.format;
    channels.push(new WebhookChannel({ url, format }));
  }
  if (config.email) channels.push(new EmailChannel(config.email));
  return channels;
}
