import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CliError, exitCodes } from '../output.ts';
import type { Gate } from './gate.ts';

/**
 * `--config FILE` (JSON): how many demo tenants to seed and each gate's settings.
 *   { "tenants": 6, "gates": { "cache": { "threshold": 0.9, "requests": 10000 } } }
 * Thresholds default to the plan's numbers and may only be tightened: a file that would
 * let a weaker result pass is refused, so a green `verify` always means at least the plan.
 */
const fileSchema = z
  .object({
    tenants: z.number().int().min(1).max(100).optional(),
    gates: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

export const DEFAULT_TENANTS = 6;

export interface VerifyConfig {
  tenants: number;
  settings: Map<string, { threshold: number }>;
}

const usage = (message: string) =>
  new CliError(message, exitCodes.usage, 'see docs/VERIFY.md for the config file format');

export async function loadVerifyConfig(file: string | undefined, gates: Gate[]): Promise<VerifyConfig> {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw usage(`cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw usage(`the config file ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw usage(`config file ${file}: ${z.prettifyError(parsed.error)}`);
  const known = new Map(gates.map((gate) => [gate.name, gate]));
  for (const name of Object.keys(parsed.data.gates ?? {})) {
    if (!known.has(name))
      throw usage(`config file ${file}: unknown gate "${name}" (gates: ${[...known.keys()].join(', ')})`);
  }
  const settings = new Map<string, { threshold: number }>();
  for (const gate of gates) {
    const section = parsed.data.gates?.[gate.name] ?? {};
    const checked = (gate.settings as unknown as z.ZodObject).partial().safeParse(section);
    if (!checked.success)
      throw usage(`config file ${file}, gate ${gate.name}: ${z.prettifyError(checked.error)}`);
    const merged = { ...gate.defaults, ...checked.data } as { threshold: number };
    const looser =
      gate.direction === 'min'
        ? merged.threshold < gate.defaults.threshold
        : merged.threshold > gate.defaults.threshold;
    if (looser) {
      throw usage(
        `config file ${file}: the ${gate.name} threshold ${merged.threshold} is looser than the plan's ${gate.defaults.threshold}; a config may only tighten it`,
      );
    }
    settings.set(gate.name, merged);
  }
  return { tenants: parsed.data.tenants ?? DEFAULT_TENANTS, settings };
}
