/**
 * ConfigIssue: one problem found in a configuration file, before it is printed as
 * `FILE:LINE:COL: key.path: what is wrong (expected ...)`.
 */
import { formatPath } from '../yaml/index.js';
import type { YamlFile, YamlPath } from '../yaml/index.js';

/** ConfigIssue locates one problem by key path; `at` says whether the key or its value is wrong. */
export interface ConfigIssue {
  readonly path: YamlPath;
  readonly at: 'key' | 'value';
  readonly message: string;
}

/** formatIssues turns issues into sorted `FILE:LINE:COL: path: message` lines, without duplicates. */
export function formatIssues(source: YamlFile, issues: readonly ConfigIssue[]): string[] {
  const located = issues.map((issue) => {
    const pos = source.positionOf(issue.path, issue.at);
    return { pos, text: `${source.file}:${pos.line}:${pos.col}: ${formatPath(issue.path)}: ${issue.message}` };
  });
  located.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return [...new Set(located.map((l) => l.text))];
}
