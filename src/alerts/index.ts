/**
 * alerts: rule files, alerting and recording rules, rule groups, templates and `rules test`;
 * the manager, group runner, alert state persistence and notifiers.
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
export { prefetchedQuery } from './prefetched-query.js';
export type { SourceQueryFn } from './prefetched-query.js';
export type { Appendable, RuleGroupOptions, RuleGroupFromDefinitionOptions, RuleFailure, GroupEvalResult } from './rule-group.js';
export { expandTemplate, createTemplateExpander, compileTemplate, checkTemplate, TemplateError, TEMPLATE_DEFS, goSprintf } from './template/index.js';
export type { AlertTemplateData, CompiledTemplate, ExpandOptions, TemplateExpander, TemplateQueryFn, TemplateSample } from './template/index.js';
export { checkPromqlExpr, promqlErrorText } from './expr-check.js';
export { runRulesTests, runUnitTestFile, parseUnitTestFile, expandSeriesValues, parseSeriesValues, parseMetricNotation, NotationError, SeriesValueKind, appendTill, parseInputSeries } from './unit-test/index.js';
export type { UnitTestFileResult, RulesTestOutput, UnitTestFile, TestGroup, SeriesValues } from './unit-test/index.js';
// The manager, group runner, alert state persistence, notifiers.
export { RuleManager, generatorUrl, goQueryEscape, needsSending } from './manager.js';
export type { RuleManagerOptions, RuleSettings, PreparedRules, ReloadResult, DrillLabels, RuleGroupView, RuleView, AlertView } from './manager.js';
export { GroupRunner, groupOffsetMs, evalTimestampMs } from './group-runner.js';
export type { GroupRunnerOptions, RunnableGroup } from './group-runner.js';
export { AlertStateStore, parseAlertStateSnapshot } from './alert-state-store.js';
export type { AlertStateSnapshot, AlertStateStoreOptions, PersistedAlert, PersistedGroup, PersistedRule } from './alert-state-store.js';
export { alertFingerprint, formatGoTime, notifierMetrics, NotificationResults } from './notifier.js';
export type { NotifiableAlert, Notifier, NotifyOutcome, NotificationResult, NotifierMetrics } from './notifier.js';
export { AlertmanagerNotifier, toPostableAlert } from './notifiers/alertmanager-notifier.js';
export type { AlertmanagerNotifierOptions, PostableAlert } from './notifiers/alertmanager-notifier.js';
export { WebhookNotifier, buildWebhookMessage } from './notifiers/webhook-notifier.js';
export type { WebhookNotifierOptions, WebhookMessage, WebhookAlert } from './notifiers/webhook-notifier.js';
export { LogNotifier } from './notifiers/log-notifier.js';
export type { LogNotifierOptions } from './notifiers/log-notifier.js';
export { DeliveryQueue, DeliveryLoop, isPermanentHttpFailure } from './notifiers/delivery-queue.js';
export { createNotifiers } from './notifiers/create-notifiers.js';
export type { NotifierSettings, SecretLike } from './notifiers/create-notifiers.js';
export type { DeliveryQueueOptions, DeliveryLoopOptions, QueuedItem, QueuedNotifierOptions } from './notifiers/delivery-queue.js';
