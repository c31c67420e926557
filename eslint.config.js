import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'output/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Type-aware rules: promises that are dropped, passed where a void callback is expected, or
    // awaited values that are not thenables. Typed linting reads the project through tsconfig.json.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // In Node 20 the global fetch loads undici (~2 MB of heap, ~15 MB resident) into the daemon, and
    // the first Intl formatter maps ICU's locale and time-zone tables (~8 MB resident).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Use httpExchange (src/net): it has a deadline, an abort signal and a response cap, and loads no undici.' },
        { name: 'Intl', message: 'Intl maps ICU data (~8 MB resident) into the daemon: format with Date methods or go-strconv.' },
      ],
      'no-restricted-properties': [
        'error',
        ...['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString', 'localeCompare'].map((property) => ({ property, message: 'Locale-aware formatting maps ICU data (~8 MB resident) into the daemon: use Date methods, or compare strings with < and >.' })),
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts', 'src/commands/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab', '**/lab/**'], message: 'Only cli.ts and tests import the lab: reach it over its network protocols.' }] }],
    },
  },
);
