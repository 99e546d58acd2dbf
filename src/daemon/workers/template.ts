/**
 * Message templates: `{{name}}`, `{{phone}}` and any of the contact's variables, with an
 * optional fallback for an empty or missing value: `Hi {{name|there}}`. Rendering is pure,
 * so the same recipient always gets the same body (a retried send is the same message).
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|([^}]*))?\}\}/g;

export interface TemplateContact {
  name: string;
  phone: string;
  variables: Record<string, string>;
}

export function renderTemplate(template: string, contact: TemplateContact): string {
  return template.replace(PLACEHOLDER, (_match, key: string, fallback: string | undefined) => {
    const value = key === 'name' ? contact.name : key === 'phone' ? contact.phone : contact.variables[key];
    return value ? value : (fallback ?? '').trim();
  });
}

/** The placeholders a template uses, for validation and for the API's answer. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}
