/**
 * yaml: position-aware reading of YAML files, shared by the daemon's configuration and drill
 * files (validated by key path) and Prometheus rule and unit-test files (decoded like yaml.v3).
 */
export { formatPath, YamlFile } from './yaml-file.js';
export type { YamlFileOptions, YamlIssue, YamlPath, YamlPos } from './yaml-file.js';
