/**
 * alerts: rule files, alerting and recording rules, rule groups, templates and `rules test`
 * (engineer F); the manager, state persistence and notifiers (engineer H).
 */
export { parseRuleFile, readRuleFile, loadRuleFiles, ruleCount, isValidLabelName, isValidMetricName } from './rule-file.js';
export type {
  AlertingRuleDefinition, RecordingRuleDefinition, RuleDefinition, RuleGroupDefinition, RuleFileDefinition, ExprChecker,
  ParseRuleFileOptions, ParsedRuleFile,
} from './rule-file.js';
export { RuleHealths, RuleEvalError, vectorOf } from './rule.js';
export type { Rule, RuleHealth, QueryFn, OutputSample, RuleEvalContext } from './rule.js';
export { AlertingRule, AlertStates, RESOLVED_RETENTION_MS } from './alerting-rule.js';
export type { Alert, AlertState, AlertingRuleOptions } from './alerting-rule.js';
export { RecordingRule } from './recording-rule.js';
export type { RecordingRuleOptions } from './recording-rule.js';
export { RuleGroup } from './rule-group.js';
export type { Appendable, RuleGroupOptions, RuleGroupFromDefinitionOptions, RuleFailure, GroupEvalResult } from './rule-group.js';
export { expandTemplate, compileTemplate, checkTemplate, TemplateError, TEMPLATE_DEFS, formatGoValue, goSprintf } from './template/index.js';
export type { AlertTemplateData, CompiledTemplate, ExpandOptions, TemplateQueryFn, TemplateSample } from './template/index.js';
