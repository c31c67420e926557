/**
 * Prometheus' alert template expansion (template.NewTemplateExpander + Expand): the rule's text is
 * prefixed with the `$labels`/`$externalLabels`/`$externalURL`/`$value` definitions, parsed as a
 * Go text/template and executed with `missingkey=zero`.
 */
import { executeTemplate, TemplateExecError } from './execute.js';
import { templateFunctions, TEMPLATE_FUNCTION_NAMES } from './functions.js';
import type { TemplateQueryFn } from './functions.js';
import { parseTemplate, TemplateParseError } from './parse.js';
import type { ParsedTemplate } from './parse.js';
import { GoStruct, labelsMap } from './values.js';

/** TEMPLATE_DEFS are the variable definitions Prometheus puts in front of every alert template. */
export const TEMPLATE_DEFS =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** TemplateError is a template that failed to parse or execute; `message` reads like Prometheus'. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** AlertTemplateData is what an alert template sees (Prometheus' template.AlertTemplateData). */
export interface AlertTemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
}

/** CompiledTemplate is a parsed alert template, or the parse error it produced. */
export interface CompiledTemplate {
  readonly name: string;
  readonly parsed?: ParsedTemplate;
  readonly error?: string;
}

/** compileTemplate parses `text` as the alert template called `name` (e.g. `__alert_HighLag`). */
export function compileTemplate(name: string, text: string): CompiledTemplate {
  try {
    return { name, parsed: parseTemplate(name, TEMPLATE_DEFS + text, { functions: TEMPLATE_FUNCTION_NAMES }) };
  } catch (err) {
    if (err instanceof TemplateParseError) return { name, error: err.message };
    throw err;
  }
}

/** checkTemplate returns the parse error of an alert template, or undefined (rulefmt's ParseTest). */
export function checkTemplate(name: string, text: string): string | undefined {
  return compileTemplate(name, text).error;
}

/** ExpandOptions are the expansion's surroundings: queries run at the evaluation time. */
export interface ExpandOptions {
  readonly query?: TemplateQueryFn;
}

/**
 * expandTemplate expands an alert template. It throws `TemplateError` with Prometheus' text
 * (`error parsing template NAME: ...` / `error executing template NAME: ...`); the alerting rule
 * turns that into `<error expanding template: ...>`.
 */
export function expandTemplate(tmpl: CompiledTemplate | { name: string; text: string }, data: AlertTemplateData, opts: ExpandOptions = {}): string {
  return createTemplateExpander(opts)(tmpl, data);
}

/** TemplateExpander expands templates with one set of surroundings (see createTemplateExpander). */
export type TemplateExpander = (tmpl: CompiledTemplate | { name: string; text: string }, data: AlertTemplateData) => string;

/**
 * createTemplateExpander builds the function table once for many expansions (one rule
 * evaluation expands every label and annotation of every alert with the same query function).
 */
export function createTemplateExpander(opts: ExpandOptions = {}): TemplateExpander {
  const byURL = new Map<string, ReturnType<typeof templateFunctions>>();
  return (tmpl, data) => {
    let funcs = byURL.get(data.externalURL);
    if (!funcs) {
      funcs = templateFunctions({ query: opts.query, externalURL: data.externalURL });
      byURL.set(data.externalURL, funcs);
    }
    return expandWith(tmpl, data, funcs);
  };
}

function expandWith(tmpl: CompiledTemplate | { name: string; text: string }, data: AlertTemplateData, funcs: ReturnType<typeof templateFunctions>): string {
  const compiled = 'text' in tmpl ? compileTemplate(tmpl.name, tmpl.text) : tmpl;
  if (!compiled.parsed) throw new TemplateError(`error parsing template ${compiled.name}: ${compiled.error ?? 'unknown error'}`);
  const root = new GoStruct('struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }', {
    Labels: labelsMap(data.labels),
    ExternalLabels: labelsMap(data.externalLabels),
    ExternalURL: data.externalURL,
    Value: data.value,
  });
  try {
    return executeTemplate(compiled.parsed, root, funcs);
  } catch (err) {
    if (err instanceof TemplateExecError) throw new TemplateError(`error executing template ${compiled.name}: ${err.message}`);
    throw err;
  }
}

