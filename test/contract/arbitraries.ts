import fc from 'fast-check';

/**
 * fast-check arbitraries for the JSON Schema (2020-12) subset zod renders into the OpenAPI
 * document: what the property tests generate valid requests from. Written here rather than
 * taken from a library: the JSON-Schema-to-fast-check packages on npm are unmaintained or
 * tied to zod 3, and this subset is small (the test fails loudly on a keyword it lacks).
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON Schema objects are untyped JSON
export type JsonSchema = Record<string, any>;

const DATE_MIN = new Date('2020-01-01T00:00:00Z');
const DATE_MAX = new Date('2030-01-01T00:00:00Z');
const MAX_ITEMS = 5;

export function arbitraryOf(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<unknown> {
  // The document's examples are valid by construction: they pass refinements a schema
  // cannot express (an E.164 phone after its separators are removed).
  if (schema.examples?.length) {
    const { examples, ...rest } = schema;
    return fc.oneof(fc.constantFrom(...examples), arbitraryOf(rest, root));
  }
  if (schema.$ref) return arbitraryOf(resolve(schema.$ref, root), root);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf || schema.oneOf) {
    return fc.oneof(...(schema.anyOf ?? schema.oneOf).map((s: JsonSchema) => arbitraryOf(s, root)));
  }
  if (schema.allOf) throw new Error('allOf is not generated (none in the document so far)');
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type: string) => arbitraryOf({ ...schema, type }, root)));
  }
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min =
        schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1e6);
      const max =
        schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1e6);
      // Near the bounds too: that is where off-by-one errors live.
      const values = fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
        fc.constantFrom(min, max),
      );
      return schema.type === 'integer' ? values.map(Math.round) : values;
    }
    case 'string':
      return stringOf(schema);
    case 'array': {
      const min = schema.minItems ?? 0;
      const items = arbitraryOf(schema.items ?? {}, root);
      return fc.array(items, {
        minLength: min,
        maxLength: Math.max(min, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)),
      });
    }
    case 'object':
      return objectOf(schema, root);
    case undefined:
      // {} — any JSON value.
      return fc.jsonValue();
    default:
      throw new Error(`no arbitrary for JSON Schema type ${schema.type}`);
  }
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 40;
  const inLength = (s: string) => s.length >= minLength && s.length <= maxLength;
  switch (schema.format) {
    case 'email':
      return fc.emailAddress().filter(inLength);
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ min: DATE_MIN, max: DATE_MAX, noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc
        .date({ min: DATE_MIN, max: DATE_MAX, noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(inLength);
  return fc.string({ minLength, maxLength: Math.min(maxLength, 40), unit: 'grapheme' });
}

function objectOf(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  if (Object.keys(properties).length === 0 && schema.additionalProperties) {
    const keys = schema.propertyNames
      ? stringOf(schema.propertyNames)
      : fc.string({ minLength: 1, maxLength: 10 });
    return fc.dictionary(keys, arbitraryOf(schema.additionalProperties, root), { maxKeys: MAX_ITEMS });
  }
  const model = Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key, arbitraryOf(value, root)]),
  );
  return fc.record(model, { requiredKeys: schema.required ?? [] });
}

function resolve(ref: string, root: JsonSchema): JsonSchema {
  if (!ref.startsWith('#/')) throw new Error(`cannot resolve ${ref}`);
  let node: JsonSchema | undefined = root;
  for (const part of ref.slice(2).split('/')) node = node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  if (!node) throw new Error(`cannot resolve ${ref}`);
  return node;
}
