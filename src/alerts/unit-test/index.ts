/** unit-test: promtool's rule unit-test format and runner. */
export { runUnitTestFile, runRulesTests } from './run-unit-tests.js';
export type { UnitTestFileResult, RulesTestOutput } from './run-unit-tests.js';
export { parseUnitTestFile } from './test-file.js';
export type { UnitTestFile, TestGroup, InputSeries, AlertTestCase, PromqlTestCase, ExpectedAlert, ExpectedSample } from './test-file.js';
export { parseSeriesValues, parseMetricNotation, NotationError } from './series-notation.js';
export type { SeriesValue } from './series-notation.js';
export { CreationOrderStore } from './creation-order.js';
