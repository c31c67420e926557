/**
 * config: loading YAML configuration (with `${ENV}` and `${file:PATH}` references), validation
 * with every error as `FILE:LINE:COL: key.path: what is wrong (expected ...)`, and the typed,
 * deeply readonly `Config`.
 */
export { loadConfig, checkConfig, checkSource } from './load-config.js';
export type { LoadConfigOptions, ConfigOverrides, ConfigCheck } from './load-config.js';
export { ENVIRONMENTS, PROBE_NAMES, LOG_LEVELS } from './types.js';
export type {
  Config,
  Environment,
  ProbeName,
  LogLevel,
  SpacetimedbTarget,
  RuntimeTarget,
  ControlTarget,
  TargetConfig,
  ProbeParams,
  ProbeConfig,
  ProbesConfig,
  RulesConfig,
  AlertmanagerTarget,
  WebhookTarget,
  AlertingConfig,
  DrillSchedule,
  GateConfig,
  DrillsConfig,
  DrillLeaseConfig,
  ListenAddress,
  ServerConfig,
  StorageConfig,
  ExportConfig,
  LogConfig,
  RolloutConfig,
  SoakConfig,
} from './types.js';
export { Secret, FileSecret, isSecretKey, secretsIn } from './secret.js';
export type { SecretFileEvent, SecretFileListener } from './secret.js';
export { readYamlSource, parseYamlSource } from './read-yaml.js';
export { validateSection, checkSection, expecting, EXPECT } from './validate-section.js';
export type { ValidateOptions, SectionResult, KeyHints } from './validate-section.js';
export { formatIssues } from './config-issue.js';
export type { ConfigIssue } from './config-issue.js';
export { resolveReferences } from './resolve-references.js';
export type { ReferenceContext, ResolvedTree } from './resolve-references.js';
export { durationMs, positiveDurationMs, httpUrl, cronExpression, secret, urlPath, nonEmptyString, count, listenAddress } from './field-schemas.js';
export { goFilepathGlob, resolveFileGlobs } from './resolve-file-globs.js';
