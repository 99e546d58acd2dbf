import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { CliError, exitCodes, formatBytes, printJson, shellWord } from '../output.ts';

/**
 * `wuzctl openapi`: the API's OpenAPI 3.1 document, generated from the route declarations
 * the daemon serves (the same as its GET /api/openapi.json) — no daemon needed.
 */
export function openapiCommand(): Command {
  return new Command('openapi')
    .description(
      "print the API's OpenAPI 3.1 document (what GET /api/openapi.json serves), or write it to a file",
    )
    .option('--out <file>', 'write it to this file instead of standard output')
    .addOption(new Option('--format <format>', 'json or yaml').choices(['json', 'yaml']).default('json'))
    .option('--json', 'with --out: print {"out","format","operations","bytes"}')
    .action(async (options: { out?: string; format: 'json' | 'yaml'; json?: boolean }) => {
      // Loaded here: the routes and zod-openapi cost start-up time no other command should pay.
      const { openApiDocument } = await import('../../daemon/api/contract/document.ts');
      const document = openApiDocument();
      const text =
        options.format === 'yaml'
          ? (await import('yaml')).stringify(document, { aliasDuplicateObjects: false })
          : `${JSON.stringify(document, null, 2)}\n`;
      if (!options.out) {
        process.stdout.write(text);
        return;
      }
      const out = path.resolve(options.out);
      await writeFile(out, text).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(
          `cannot write ${out}: ${error.code === 'ENOENT' ? 'its folder does not exist' : error.message}`,
          exitCodes.failure,
          error.code === 'ENOENT' ? `mkdir -p ${shellWord(path.dirname(out))}` : undefined,
        );
      });
      const operations = Object.values(document.paths ?? {}).reduce(
        (sum, item) => sum + Object.keys(item ?? {}).length,
        0,
      );
      const bytes = Buffer.byteLength(text);
      if (options.json) printJson({ out, format: options.format, operations, bytes });
      else console.log(`wrote ${out}: OpenAPI 3.1, ${operations} operations, ${formatBytes(bytes)}`);
    });
}
