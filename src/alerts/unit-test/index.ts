/** unit-test: promtool's rule unit-test format and runner. */
export { runUnitTestFile, runRulesTests } from './run-unit-tests.js';
export type { UnitTestFileResult, RulesTestOutput } from './run-unit-tests.js';
export { parseUnitTestFile } from './test-file.js';
export type { UnitTestFile, TestGroup, InputSeries, AlertTestCase, PromqlTestCase, ExpectedAlert, ExpectedSample } from './test-file.js';
export { expandSeriesValues, parseSeriesValues, parseMetricNotation, NotationError, SeriesCursor, SeriesValueKind } from './series-notation.js';
export type { SeriesRun, SeriesValues } from './series-notation.js';
export { appendTill, parseInputSeries } from './input-series.js';
export type { ParsedInputSeries } from './input-series.js';
