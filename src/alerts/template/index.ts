/** template: Go text/template subset with Prometheus' helpers, for alert labels and annotations. */
export { compileTemplate, checkTemplate, createTemplateExpander, expandTemplate, TemplateError, TEMPLATE_DEFS } from './expand-template.js';
export type { AlertTemplateData, CompiledTemplate, ExpandOptions, TemplateExpander } from './expand-template.js';
export type { TemplateQueryFn, TemplateSample } from './functions.js';
export { goSprintf } from './sprintf.js';
